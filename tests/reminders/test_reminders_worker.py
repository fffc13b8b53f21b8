"""Reminders through a real Celery worker process and a real Redis: kills and outages.

Each test starts its own throwaway redis-server on a free port (never the machine's Redis) and
workers as subprocesses (`python -m celery -A gaoxin worker --pool=solo`) on the test database.
The workers read the wall clock, so they get a sending window of the whole day, every day.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tasks_app.models import Delivery, DeliveryAttempt, DepartmentWebhook, Notification
from tasks_app.reminders import delivery
from tasks_app.reminders import sweep as reminders_sweep
from tests.reminders.reminders_support import Cast, RobotServer, assign, at, publish, reseed

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, every: float = 0.3, action=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if action:
            action()
        if condition():
            return True
        time.sleep(every)
    return condition()


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_until(self._answers, 20), "redis-server did not start"
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
        assert not self._answers()


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class Worker:
    count = 0

    def __init__(self, broker_url: str, folder: Path, **extra_env: str):
        Worker.count += 1
        self.name = f"reminders{Worker.count}@localhost"
        self.log_path = folder / f"worker{Worker.count}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_NAME"},
            "DATABASE_URL": test_database_url(),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker_url,
            "REMINDER_WINDOW_START": "00:00",
            "REMINDER_WINDOW_END": "24:00",
            "REMINDER_WORKING_DAYS_ONLY": "0",
            "REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(folder / "mail"),
            **extra_env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "gaoxin",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                self.name,
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        assert wait_until(lambda: "ready." in self.log(), STARTUP_SECONDS), self.log()
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(broker_url: str, **extra_env: str) -> Worker:
        started.append(Worker(broker_url, tmp_path, **extra_env).start())
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@contextlib.contextmanager
def celery_broker(url: str, monkeypatch):
    """This process publishes to url (Celery reads CELERY_BROKER_URL from the environment)."""
    from gaoxin.celery import app

    def reset_pools():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    eager = app.conf.task_always_eager
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset_pools()
    try:
        yield app
    finally:
        reset_pools()
        app.conf.task_always_eager = eager


def emails_to(folder: Path) -> list[str]:
    if not (folder / "mail").exists():
        return []
    return sorted(
        line.removeprefix("To: ").strip()
        for path in (folder / "mail").iterdir()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("To: ")
    )


def all_sent() -> bool:
    return not Delivery.objects.exclude(status="sent").exists()


@pytest.fixture
def cast(transactional_db, economic_bureau, clerk) -> Cast:
    reseed()  # a flush by an earlier transactional test may have removed the seeded rows
    return Cast(economic_bureau, clerk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_leaves_every_reminder_delivered_once_per_channel(
    plan, cast, redis_server, workers, tmp_path, monkeypatch
):
    publish(plan)
    tasks = [assign(t, cast, deadline="2020-01-22") for t in plan.tasks.order_by("position")[:3]]
    with RobotServer() as robot, celery_broker(redis_server.url, monkeypatch):
        robot.hold = threading.Event()  # the first robot call hangs until the worker is dead
        DepartmentWebhook.objects.create(
            department=cast.department, kind="dingtalk", url=robot.url, secret="SECkill"
        )
        swept = reminders_sweep.reminders_sweep(now=at("2020-01-22", "09:00"))
        assert len(swept.delivery_ids) == 5  # contact and head by email and in-app; the robot
        first = workers(redis_server.url)
        delivery.enqueue_deliveries(swept.delivery_ids)

        assert robot.received_first.wait(60), first.log()
        first.kill()  # SIGKILL while the webhook POST is in flight
        robot.hold.set()
        workers(redis_server.url)

        def sweep():  # what beat does every minute: hand out due and orphaned deliveries
            delivery.enqueue_deliveries(delivery.deliveries_due(now=timezone.now()))

        assert wait_until(all_sent, 90, every=0.5, action=sweep), list(
            Delivery.objects.values("key", "status", "attempts", "claimed_until")
        )

    assert len(robot.requests) == 2 and len(robot.acknowledged) == 1
    assert all(t.code in robot.acknowledged[0]["json"]["markdown"]["text"] for t in tasks)
    webhook = Delivery.objects.get(channel="webhook")
    assert webhook.attempts == 2
    # The killed try is on record (no result: the worker died), then the second one.
    assert list(webhook.attempt_log.values_list("number", "ok")) == [(1, None), (2, True)]
    repeat = [r["json"]["markdown"]["text"].rsplit("消息编号 ", 1)[1] for r in robot.requests]
    assert repeat[0] == repeat[1], "the repeat carries the same message number"
    assert emails_to(tmp_path) == ["clerk@example.gov.cn", "head@example.gov.cn"]
    assert Notification.objects.filter(kind="digest").count() == 2
    assert DeliveryAttempt.objects.filter(ok=True).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_reports_are_saved_and_their_notifications_delivered_once_it_is_back(
    plan, cast, redis_server, workers, tmp_path, monkeypatch, settings
):
    settings.REMINDER_DISPATCH_GRACE_SECONDS = 0
    publish(plan)
    task = assign(plan.tasks.get(code="3.3.09"), cast, deadline="2020-12-31")
    client = APIClient()
    client.force_authenticate(cast.contact)
    workers(redis_server.url)
    with celery_broker(redis_server.url, monkeypatch):
        redis_server.stop()
        responses = [
            client.post(
                f"/api/v1/tasks/{task.pk}/updates/",
                {
                    "period": f"2020-{month:02d}",
                    "status": "on_schedule",
                    "progress": month * 5,
                    "narrative": f"{month}月进展",
                    "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
                },
                format="json",
            )
            for month in range(1, 6)
        ]
        assert [r.status_code for r in responses] == [201] * 5
        assert task.updates.count() == 5
        assert Notification.objects.filter(recipient=cast.office, kind="review").count() == 5
        assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}

        redis_server.start()

        def sweep():
            delivery.enqueue_deliveries(delivery.deliveries_due(now=timezone.now()))

        assert wait_until(all_sent, 120, every=1, action=sweep), list(
            Delivery.objects.values("key", "status", "attempts")
        )

    assert emails_to(tmp_path) == ["office@example.gov.cn"] * 5
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


class SlowSmtp:
    """aiosmtpd on 127.0.0.1 that takes its time with each message and keeps its Message-ID."""

    def __init__(self, seconds_per_message: float):
        from aiosmtpd.controller import Controller

        self.message_ids: list[str] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import asyncio
                import email

                await asyncio.sleep(seconds_per_message)
                parsed = email.message_from_bytes(envelope.content)
                outer.message_ids.append(parsed["Message-ID"])
                return "250 OK"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_of_150_emails_leaves_each_sent_under_one_message_id(
    cast, redis_server, workers, tmp_path, monkeypatch
):
    """...and every try recorded. What remains at-least-once: the message in flight when the
    worker died may reach the mail system twice, under the same Message-ID."""
    count = 150
    Delivery.objects.bulk_create(
        [
            Delivery(
                key=f"chase:kill:{n}:email:{cast.contact.pk}",
                channel="email",
                recipient=cast.contact,
                subject=f"督查室催办 {n}",
                body="请尽快报送。",
                next_attempt_at=timezone.now(),
            )
            for n in range(count)
        ]
    )
    ids = list(Delivery.objects.values_list("id", flat=True))
    with SlowSmtp(seconds_per_message=0.02) as smtp, celery_broker(redis_server.url, monkeypatch):
        smtp_env = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
        }
        first = workers(redis_server.url, **smtp_env)
        delivery.enqueue_deliveries(ids)
        assert wait_until(lambda: len(smtp.message_ids) >= 10, 60), first.log()
        time.sleep(1.5)
        first.kill()
        workers(redis_server.url, **smtp_env)

        def sweep():  # what beat does every minute
            delivery.enqueue_deliveries(delivery.deliveries_due(now=timezone.now()))

        assert wait_until(all_sent, 180, every=0.5, action=sweep), list(
            Delivery.objects.exclude(status="sent").values("key", "status", "attempts")
        )

    assert Delivery.objects.filter(status="sent").count() == count
    assert len(set(smtp.message_ids)) == count, "one Message-ID per delivery, however many sends"
    duplicates = len(smtp.message_ids) - count
    assert duplicates <= 1, "at most the message in flight when the worker died goes twice"
    tries = sum(Delivery.objects.values_list("attempts", flat=True))
    assert DeliveryAttempt.objects.count() == tries, "every claimed try has its attempt row"
    assert DeliveryAttempt.objects.filter(ok=True).count() == count
