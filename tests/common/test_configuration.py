"""Settings come from the environment and fail loudly; the deployment files hang together."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 60


def django_setting(name: str, **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with only the given environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "DATABASE_URL",
                "CELERY_",
                "REDIS_URL",
                "SECRET_KEY",
                "DEBUG",
                "ALLOWED_HOSTS",
                "EMAIL_",
            )
        )
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="gaoxin.settings")
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_configured_it_uses_sqlite_and_eager_celery():
    engine = django_setting("DATABASES['default']['ENGINE']")
    assert engine.stdout.strip() == "'django.db.backends.sqlite3'"
    assert django_setting("CELERY_TASK_ALWAYS_EAGER").stdout.strip() == "True"


def test_it_speaks_chinese_in_shanghai_time():
    assert django_setting("LANGUAGE_CODE").stdout.strip() == "'zh-hans'"
    assert django_setting("TIME_ZONE").stdout.strip() == "'Asia/Shanghai'"
    assert django_setting("USE_TZ").stdout.strip() == "True"
    assert "'en'" in django_setting("LANGUAGES").stdout


def test_a_database_url_selects_postgresql():
    result = django_setting(
        "DATABASES['default']['NAME']", DATABASE_URL="postgres://u@db.example:5432/gaoxin"
    )
    assert result.stdout.strip() == "'gaoxin'"


@pytest.mark.django_db
def test_postgresql_sessions_run_without_jit_compilation():
    """A statement whose estimate counts sub-selects a CASE never runs compiled for longer
    than it ran (the sweep's waiting reports: 25 ms of JIT for a 27 ms query)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("this suite runs on PostgreSQL (GAOXIN_REQUIRE_SERVICES)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_db_jit_keeps_the_servers_setting_and_a_urls_own_options_are_kept():
    url = "postgres://u@db.example:5432/gaoxin?options=-c%20statement_timeout%3D5000"
    options = "DATABASES['default']['OPTIONS'].get('options')"
    assert django_setting(options, DATABASE_URL=url).stdout.strip() == (
        "'-c jit=off -c statement_timeout=5000'"
    )
    kept = django_setting(options, DATABASE_URL=url, DB_JIT="1")
    assert kept.stdout.strip() == "'-c statement_timeout=5000'"


def test_a_redis_url_turns_eager_mode_off():
    result = django_setting("CELERY_TASK_ALWAYS_EAGER", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY must be set"),
        ({"DEBUG": "0", "SECRET_KEY": "short"}, "at least 50 characters"),
        ({"DEBUG": "0", "SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS must be set"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "amqp://guest@localhost//"}, "must be a redis:// URL"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT='twenty-five' is not an integer"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "mutually exclusive"),
    ],
)
def test_a_bad_value_stops_the_process_with_a_message_naming_it(env, message):
    result = django_setting("DEBUG", **env)
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr and message in result.stderr


def test_production_settings_pass_the_deployment_check():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(DEBUG="0", SECRET_KEY="x7" * 30 + "-prod", ALLOWED_HOSTS="gaoxin.example.gov.cn")
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_migrations_match_the_models():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_docker_compose_runs_one_image_as_web_worker_and_beat_beside_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    app_services = [services[name] for name in ("web", "worker", "beat")]
    assert {s["image"] for s in app_services} == {"gaoxin:latest"}
    assert all(s["build"] == "." for s in app_services)
    for service in app_services:
        env = service["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "0" and "SECRET_KEY" in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "gaoxin", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "gaoxin", "beat"]
    assert (ROOT / "Dockerfile").is_file()


def test_the_ci_script_runs_make_test_against_postgres_and_redis():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in script
    assert "postgres://" in script and "redis://127.0.0.1:6379" in script
    assert "pg_ctlcluster --skip-systemctl-redirect" in script


@pytest.mark.django_db
def test_the_health_check_answers_without_a_known_host(client):
    response = client.get("/healthz/", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.content.startswith(b"database: ok\n")
