"""What an operator deploys and what a visitor meets when something goes wrong.

The whole production-like stack (gunicorn with DEBUG=0, the two database roles, Celery, SMTP,
backup and restore) is proven by tools/prodlike.py, which .ci/run runs; these tests pin the
pieces one by one.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import RequestFactory, override_settings

from tasks_app.common import error_views
from tasks_app.common.middleware import TrustedProxyMiddleware
from tasks_app.models import AuditEvent, CalendarDay, Role, User
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parents[2]


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.django_db
def test_a_missing_page_answers_404_with_a_chinese_page_in_the_sites_layout(client, clerk):
    client.force_login(clerk)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and 'class="topbar"' in html
    assert "我的任务" in html, "a logged-in visitor keeps the navigation"


@pytest.mark.django_db
def test_a_page_the_visitor_may_not_see_answers_403_in_chinese(client, clerk):
    client.force_login(clerk)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_a_server_error_answers_a_chinese_page_without_touching_the_database():
    request = RequestFactory().get("/workbench/")
    response = error_views.server_error(request)
    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()


def test_a_server_error_under_the_api_answers_in_the_apis_json_format():
    response = error_views.server_error(RequestFactory().get("/api/v1/tasks/"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_with_413_json_before_it_is_read(client, clerk, settings):
    client.force_login(clerk)
    response = client.generic(
        "POST",
        "/api/v1/tasks/1/updates/",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert "MB" in response.json()["message"]


@pytest.mark.django_db
def test_a_page_form_over_the_limit_gets_a_chinese_413_page(client, clerk, settings):
    client.force_login(clerk)
    response = client.generic(
        "POST",
        "/workbench/tasks/1/report/",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert "内容过大" in response.content.decode()


@pytest.mark.django_db
def test_every_page_has_a_favicon(client):
    response = client.get("/favicon.ico")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00", "an ICO file"


@pytest.mark.django_db
def test_the_bell_is_drawn_not_an_emoji_that_kylin_desktops_cannot_show(client, clerk):
    client.force_login(clerk)
    html = client.get("/workbench/").content.decode()
    assert 'class="bell-icon"' in html and "🔔" not in html


@pytest.mark.django_db
def test_createsuperuser_without_a_department_makes_the_system_administrator(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first-admin-password-2020")
    call_command(
        "createsuperuser",
        "--noinput",
        username="root",
        email="root@example.gov.cn",
        stdout=io.StringIO(),
    )
    root = User.objects.get(username="root")
    assert root.role == Role.ADMIN and root.is_superuser
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "root", "password": "first-admin-password-2020"},
        content_type="application/json",
    )
    assert token.status_code == 200 and token.json()["token"]


@pytest.mark.django_db
def test_bootstrap_creates_the_offices_first_account_and_loads_the_holidays():
    CalendarDay.objects.all().delete()
    out = io.StringIO()
    call_command("bootstrap", "--password", "office-password-2020", stdout=out)
    office = User.objects.get(username="duchashi")
    assert office.role == Role.SUPERVISOR and office.check_password("office-password-2020")
    assert CalendarDay.objects.filter(date="2020-10-01", kind="holiday").exists()
    assert AuditEvent.objects.filter(action="calendar.load").count() == 1
    again = io.StringIO()
    call_command("bootstrap", "--password", "office-password-2020", stdout=again)
    assert "0 days added" in again.getvalue() and "exists" in again.getvalue()
    assert AuditEvent.objects.filter(action="calendar.load").count() == 1


@pytest.mark.django_db
def test_bootstrap_refuses_a_short_password_and_creates_nobody():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="12"):
        call_command("bootstrap", "--password", "short", stdout=io.StringIO())
    assert not User.objects.filter(username="duchashi").exists()


def _through_proxy_middleware(**meta):
    request = RequestFactory().get("/", **meta)
    TrustedProxyMiddleware(lambda r: None)(request)
    return request


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_a_client_reaching_gunicorn_directly_cannot_claim_another_address_or_https():
    request = _through_proxy_middleware(
        REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4", HTTP_X_FORWARDED_PROTO="https"
    )
    assert request.META["REMOTE_ADDR"] == "198.51.100.9"
    assert "HTTP_X_FORWARDED_FOR" not in request.META
    assert "HTTP_X_FORWARDED_PROTO" not in request.META


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_behind_the_named_proxy_the_client_is_the_address_the_proxy_saw():
    request = _through_proxy_middleware(
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",  # the first hop is the client's own claim
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert request.META["REMOTE_ADDR"] == "203.0.113.5"
    assert request.META["HTTP_X_FORWARDED_PROTO"] == "https"
    assert "HTTP_X_FORWARDED_FOR" not in request.META, "throttles key on REMOTE_ADDR alone"


@pytest.mark.django_db
def test_the_health_check_reports_the_database_and_redis_separately(client, settings):
    settings.CACHE_URL, settings.CELERY_BROKER_URL = "", "memory://"
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content.decode().splitlines() == ["database: ok", "redis: not configured"]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    down = client.get("/healthz/")
    assert down.status_code == 503
    assert down.content.decode().splitlines() == ["database: ok", "redis: unavailable"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_system_check_warns_when_the_app_connects_as_a_superuser_or_the_owner():
    from django.core.checks import run_checks

    assert is_postgres()
    warnings = [m.id for m in run_checks(databases=["default"], include_deployment_checks=False)]
    assert "gaoxin.W001" in warnings  # CI's suite connects as the postgres superuser


def test_production_settings_serve_hashed_compressed_static_files_and_share_the_cache():
    code = (
        "from django.conf import settings as s;"
        "print(s.STORAGES['staticfiles']['BACKEND']);"
        "print(s.CACHES['default']['BACKEND']);"
        "print('whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE)"
    )
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "gaoxin.example.gov.cn",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "DJANGO_SETTINGS_MODULE": "gaoxin.settings",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "django.core.cache.backends.redis.RedisCache",
        "True",
    ]


def test_compose_runs_migrations_as_the_owner_and_the_app_as_a_role_that_owns_nothing():
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "postgres://gaoxin_app:" in compose and "postgres://gaoxin_owner:" in compose
    app_block = compose.split("x-app:")[1].split("services:")[0]
    assert "gaoxin_app" in app_block and "POSTGRES_USER" not in app_block
    roles = (ROOT / "deploy" / "postgres-roles.sql").read_text(encoding="utf-8")
    assert "NOSUPERUSER" in roles and "TRUNCATE" not in roles.split("GRANT", 1)[1]


def test_ci_runs_the_production_like_run():
    assert "tools/prodlike.py" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
