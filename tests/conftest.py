"""Personas and fixtures shared by the suite.

Under CI (GAOXIN_REQUIRE_SERVICES=1) a test that needs PostgreSQL fails instead of skipping when
the suite does not run on PostgreSQL: a skipped test in CI proves nothing.
"""

import os

import pytest
from django.db import connection

from tasks_app.models import Plan, Role
from tasks_app.plans import services
from tasks_app.plans.plan_data import read_plan_file

REQUIRE_SERVICES = os.environ.get("GAOXIN_REQUIRE_SERVICES") == "1"


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def pytest_configure(config):
    if not REQUIRE_SERVICES:
        return
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not _on_postgres():
        pytest.exit("GAOXIN_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL", returncode=3)
    if not broker.startswith("redis://") or not _redis_answers(broker):
        pytest.exit(
            f"GAOXIN_REQUIRE_SERVICES=1 but Redis at {broker!r} does not answer", returncode=3
        )


def _flushes_without_restoring(item) -> bool:
    """A transactional test without serialized_rollback: its flush re-creates the content types
    (post_migrate), which a later serialized restore (it re-inserts them by id) collides with."""
    marker = item.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )
    serialized = marker is not None and marker.kwargs.get("serialized_rollback")
    return bool(transactional and not serialized)


@pytest.hookimpl(trylast=True)  # after pytest-django has grouped the database tests
def pytest_collection_modifyitems(config, items):
    # Stable: everything keeps pytest-django's order, except that transactional tests which
    # flush without restoring run last, whatever folder they live in.
    items.sort(key=_flushes_without_restoring)
    if _on_postgres():
        return
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://..."))


@pytest.fixture
def plan_data():
    return read_plan_file()


@pytest.fixture
def plan(db, plan_data) -> Plan:
    loaded, _ = services.plan_load(actor=None, data=plan_data)
    return loaded


@pytest.fixture
def economic_bureau(db):
    return services.department_create(actor=None, name="经济发展局")


@pytest.fixture
def tech_bureau(db):
    return services.department_create(actor=None, name="科技创新和产业发展局")


@pytest.fixture
def supervisor(db, economic_bureau):
    return services.user_create(
        actor=None,
        username="dcs",
        password="pw-dcs-123456",
        role=Role.SUPERVISOR,
        display_name="督查室王科长",
    )


@pytest.fixture
def clerk(db, economic_bureau):
    """承办人 of the 经济发展局."""
    return services.user_create(
        actor=None,
        username="clerk",
        password="pw-clerk-123456",
        role=Role.STAFF,
        department=economic_bureau,
        display_name="经发局李明",
    )


@pytest.fixture
def tech_clerk(tech_bureau):
    """承办人 of the 科技创新和产业发展局."""
    return services.user_create(
        actor=None,
        username="tech",
        password="pw-tech-123456",
        role=Role.STAFF,
        department=tech_bureau,
    )


@pytest.fixture
def leader(db):
    return services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )


@pytest.fixture
def counted(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor):
    """A plan whose numbers were counted by hand (tests/stats_builders.py)."""
    from tests.stats.stats_builders import counted_plan

    return counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)


@pytest.fixture
def admin_user(db):
    return services.user_create(
        actor=None, username="root", password="pw-root-123456", role=Role.ADMIN
    )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files land in a per-test folder, never in the project."""
    settings.MEDIA_ROOT = tmp_path / "media"


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser(monkeypatch):
    """Debian's headless chromium driven by Playwright (never a downloaded browser build).

    Playwright's sync API runs an event loop in this thread while the ORM calls of fixtures and
    tests stay synchronous; the variable is set per test so it never leaks into subprocesses.
    """
    from playwright import sync_api

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
