"""Shared set-up for the reminder tests: people, a published plan, a robot test server."""

import datetime as dt
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from tasks_app.models import Department, Plan, Role, Task, User
from tasks_app.plans import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, clock: str = "09:00") -> dt.datetime:
    """A fixed moment, Shanghai time: what the sweep is told "now" is."""
    hours, minutes = map(int, clock.split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hours, minutes), SHANGHAI)


def publish(plan: Plan, day: str = "2020-01-10") -> Plan:
    Plan.objects.filter(pk=plan.pk).update(status="published", published_at=at(day))
    plan.refresh_from_db()
    return plan


def person(username: str, role: str, department: Department | None = None) -> User:
    user = services.user_create(
        actor=None,
        username=username,
        password=f"pw-{username}-1234567",
        role=role,
        department=department,
        display_name=username,
    )
    User.objects.filter(pk=user.pk).update(email=f"{username}@example.gov.cn")
    user.refresh_from_db()
    return user


class Cast:
    """The people a reminder can reach: contact, head, leader, office."""

    def __init__(self, department: Department, contact: User):
        self.department = department
        self.contact = contact
        User.objects.filter(pk=contact.pk).update(email=f"{contact.username}@example.gov.cn")
        contact.refresh_from_db()
        Department.objects.filter(pk=department.pk).update(contact_person=contact)
        self.head = person("head", Role.HEAD, department)
        self.leader = person("leader", Role.LEADER)
        self.office = person("office", Role.SUPERVISOR)


def assign(task: Task, cast: Cast, deadline: str, start: str = "2020-01-02") -> Task:
    task = services.task_assign(
        actor=None,
        task=task,
        lead_department=cast.department,
        responsible_leader=cast.leader,
        start_date=dt.date.fromisoformat(start),
        deadline=dt.date.fromisoformat(deadline),
    )
    Task.objects.filter(pk=task.pk).update(received_at=at("2020-01-10"))
    return task


class RobotServer:
    """A group-robot stand-in on 127.0.0.1: records each POST, answers like WeCom/DingTalk.

    `answer` is the HTTP status to give; `hold` (a threading.Event), when set up, makes the
    first request wait until it is set and then drop the connection without an answer.
    """

    def __init__(self, answer: int = 200):
        self.answer = answer
        self.requests: list[dict] = []
        self.acknowledged: list[dict] = []
        self.received_first = threading.Event()
        self.hold: threading.Event | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                record = {
                    "path": self.path,
                    "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)),
                    "json": json.loads(self.rfile.read(length)),
                }
                server.requests.append(record)
                first = len(server.requests) == 1
                server.received_first.set()
                if first and server.hold is not None:
                    server.hold.wait(60)
                    self.close_connection = True
                    return
                ok = server.answer == 200
                body = json.dumps({"errcode": 0 if ok else 500, "errmsg": "ok" if ok else "busy"})
                self.send_response(server.answer)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())
                if ok:
                    server.acknowledged.append(record)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/robot/send?access_token=t0k"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hold is not None:
            self.hold.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def reseed() -> None:
    """Put back the data migrations' rows (holiday calendar, default ladder) after a flush.

    Transactional tests here do not use serialized_rollback: a transactional test elsewhere
    that flushes without it leaves content types that a serialized restore then collides with.
    """
    import importlib

    from django.apps import apps

    calendar = importlib.import_module("tasks_app.migrations.0003_seed_calendar_days")
    ladder = importlib.import_module("tasks_app.migrations.0008_reminders")
    calendar.seed_calendar_days(apps, None)
    ladder.create_default_ladder(apps, None)
