"""A production-like run on one machine: what docker-compose.yml starts, without Docker.

Starts, against the local PostgreSQL and Redis, the processes compose starts, with the same
settings: the two database roles (deploy/postgres-roles.sql), migrations as the owner,
collectstatic with the production storage, gunicorn with DEBUG=0 and two workers as the
application role, a Celery worker and beat, and a local SMTP server (aiosmtpd) for the mail.
Then checks over HTTP what an operator and the users would see, takes a backup (pg_dump and the
media folder), restores it into a fresh database and checks that too. Stops everything it
started, drops what it created, and exits non-zero if any check failed.

    python tools/prodlike.py            # CI runs it from .ci/run

The checker plays the reverse proxy: it connects from 127.0.0.1, named in TRUSTED_PROXIES, and
sends X-Forwarded-Proto: https, so the HTTPS redirect, HSTS and secure cookies are all on.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import json
import mailbox
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
# Redis databases it flushes and uses; a machine running several at once gives each its own.
REDIS_BROKER_DB = int(os.environ.get("PRODLIKE_REDIS_BROKER_DB", "13"))
REDIS_CACHE_DB = int(os.environ.get("PRODLIKE_REDIS_CACHE_DB", "14"))
ROLES = ("staff", "head", "supervisor", "leader", "auditor", "admin")
DEMO_PASSWORD = "gaoxin-demo-2020"
LOGIN_RATE_PER_MINUTE = 6
OTHER_GOVERNMENT, OTHER_OFFICE = "深圳市龙岗区", "office-longgang"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    passed: int = 0

    def check(self, condition: bool, what: str) -> bool:
        print(("ok    " if condition else "FAIL  ") + what, flush=True)
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition


# --- Processes ------------------------------------------------------------------------------


class Stack:
    def __init__(self, work: Path):
        self.work = work
        self.db = f"gaoxin_prodlike_{os.getpid()}"
        self.restored_db = self.db + "_restored"
        self.web_port, self.smtp_port = free_port(), free_port()
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.maildir = work / "mail"
        self.media = work / "media"

    def url(self, role: str, db: str | None = None) -> str:
        return f"postgres://{role}@{PG['host']}:{PG['port']}/{db or self.db}"

    def env(self, role: str, db: str | None = None, media: Path | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "CELERY"))}
        env.update(
            DEBUG="0",
            SECRET_KEY=self.secret,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            TRUSTED_PROXIES="127.0.0.1",
            DATABASE_URL=self.url(role, db),
            CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_BROKER_DB}",
            CACHE_URL=f"redis://127.0.0.1:6379/{REDIS_CACHE_DB}",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp_port),
            DEFAULT_FROM_EMAIL="gaoxin@prodlike.test",
            STATIC_ROOT=str(self.work / "static"),
            MEDIA_ROOT=str(media or self.media),
            LOGIN_RATE=f"{LOGIN_RATE_PER_MINUTE}/min",
            # Mail goes out at once, whatever the hour CI runs at.
            REMINDER_WINDOW_START="00:00",
            REMINDER_WINDOW_END="24:00",
            REMINDER_WORKING_DAYS_ONLY="0",
            PYTHONPATH=str(ROOT),
        )
        return env

    def run(
        self, args: list[str], env: dict | None = None, **kwargs
    ) -> subprocess.CompletedProcess:
        print("$ " + " ".join(args), flush=True)
        return subprocess.run(args, cwd=ROOT, env=env, check=True, **kwargs)

    def manage(self, role: str, *args: str, db: str | None = None, **kwargs):
        return self.run([sys.executable, "manage.py", *args], env=self.env(role, db), **kwargs)

    def start(self, name: str, args: list[str], env: dict) -> None:
        log = open(self.work / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))

    def psql(self, *args: str, db: str = "postgres", role: str = "postgres") -> None:
        self.run(["psql", "-h", PG["host"], "-p", PG["port"], "-U", role, "-d", db, *args])

    def setup(self) -> None:
        self.secret = secrets.token_urlsafe(60)
        for number in (REDIS_BROKER_DB, REDIS_CACHE_DB):
            self.run(["redis-cli", "-n", str(number), "FLUSHDB"], stdout=subprocess.DEVNULL)
        self.psql("-c", f'CREATE DATABASE "{self.db}"')
        self.roles(self.db)
        self.manage("gaoxin_owner", "migrate", "--noinput", stdout=subprocess.DEVNULL)
        self.manage("gaoxin_owner", "collectstatic", "--noinput", stdout=subprocess.DEVNULL)
        # Demo accounts (one per role) and the 2020 plan, written as the application; the office
        # gets an address, so its mail about reports has somewhere to go.
        self.manage("gaoxin_app", "run_demo", "--no-serve", stdout=subprocess.DEVNULL)
        office = "from tasks_app.models import User; User.objects.filter(username='supervisor')"
        self.manage("gaoxin_app", "shell", "-c", office + ".update(email='office@prodlike.test')")
        # A second government on the same installation, with the same plan and its own office.
        self.manage("gaoxin_app", "load_plan", "--government", OTHER_GOVERNMENT,
                    stdout=subprocess.DEVNULL)  # fmt: skip
        self.manage("gaoxin_app", "shell", "-c", (
            "from tasks_app.models import Government, Role, User\n"
            f"u = User(username={OTHER_OFFICE!r}, role=Role.SUPERVISOR,"
            f" government=Government.objects.get(name={OTHER_GOVERNMENT!r}))\n"
            f"u.set_password({DEMO_PASSWORD!r}); u.save()\n"
        ))  # fmt: skip

    def roles(self, db: str) -> None:
        self.psql(
            "-v", f"owner_password={secrets.token_hex(16)}",
            "-v", f"app_password={secrets.token_hex(16)}",
            "-f", str(ROOT / "deploy" / "postgres-roles.sql"), "-q",
            db=db,
        )  # fmt: skip

    def serve(self) -> None:
        mailbox.Maildir(self.maildir, create=True)  # new/ cur/ tmp/
        self.start(
            "smtp",
            [
                sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.smtp_port}",
                "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir),
            ],
            os.environ.copy(),
        )  # fmt: skip
        app = self.env("gaoxin_app")
        gunicorn = [sys.executable, "-m", "gunicorn", "gaoxin.wsgi:application"]
        self.start("web", [*gunicorn, "-b", f"127.0.0.1:{self.web_port}", "-w", "2"], app)
        celery = [sys.executable, "-m", "celery", "-A", "gaoxin"]
        self.start("worker", [*celery, "worker", "-c", "2", "--loglevel=INFO"], app)
        self.start("beat", [*celery, "beat", "-s", str(self.work / "beat"), "--loglevel=INFO"], app)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.web_port), timeout=1).close()
                return
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start: " + (self.work / "web.log").read_text())

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                print(f"{name} had to be killed", flush=True)
        self.processes.clear()

    def drop(self) -> None:
        for db in (self.db, self.restored_db):
            subprocess.run(
                ["dropdb", "-h", PG["host"], "-U", "postgres", "--if-exists", "--force", db],
                check=False,
            )


# --- HTTP, as a browser behind the proxy would -------------------------------------------------


class Assets(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: set[str] = set()
        self.nav: list[str] = []
        self._in_nav = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            self._in_nav += 1
        if tag == "script" and attrs.get("src"):
            self.assets.add(attrs["src"])
        if tag == "link" and attrs.get("href") and attrs.get("rel") in ("stylesheet", "icon"):
            self.assets.add(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.assets.add(attrs["src"])
        if tag == "a" and self._in_nav and attrs.get("href", "").startswith("/"):
            self.nav.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_nav -= 1


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None, forwarded_for=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"Host": "localhost", "X-Forwarded-Proto": "https", **(headers or {})}
        if forwarded_for:
            sent["X-Forwarded-For"] = forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        answer = Answer(response.status, dict(response.getheaders()), response.read())
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        """GET, following redirects within the site (as a browser does)."""
        answer = self.request("GET", path, **kwargs)
        for _ in range(5):
            location = answer.headers.get("Location", "")
            if answer.status not in (301, 302) or not location.startswith("/"):
                break
            answer = self.request("GET", location, **kwargs)
        return answer

    def form(self, path: str, data: dict) -> Answer:
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        fields = {**data, "csrfmiddlewaretoken": token.group(1) if token else ""}
        return self.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://localhost{path}",
            },
        )

    def api(self, method: str, path: str, token: str, payload=None, **kwargs) -> Answer:
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        body = json.dumps(payload) if payload is not None else None
        return self.request(method, path, body=body, headers=headers, **kwargs)


def token_for(port: int, username: str) -> str:
    number = ROLES.index(username) + 10 if username in ROLES else 40
    answer = Browser(port).request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"username": username, "password": DEMO_PASSWORD}),
        headers={"Content-Type": "application/json"},
        forwarded_for=f"198.51.100.{number}",
    )
    return json.loads(answer.body)["token"] if answer.status == 200 else ""


# --- The checks -----------------------------------------------------------------------------


def check_operator_view(stack: Stack, report: Report) -> None:
    web = Browser(stack.web_port)
    health = web.get("/healthz/")
    report.check(
        health.status == 200 and "database: ok" in health.text and "redis: ok" in health.text,
        f"/healthz/ reports the database and Redis: {health.status} {health.text.strip()!r}",
    )
    plain = http.client.HTTPConnection("127.0.0.1", stack.web_port, timeout=10)
    plain.request("GET", "/", headers={"Host": "localhost"})
    redirect = plain.getresponse()
    report.check(
        redirect.status == 301 and redirect.getheader("Location", "").startswith("https://"),
        f"plain HTTP is redirected to HTTPS ({redirect.status})",
    )
    for path in (
        "/static/tasks_app/vendor/echarts.min.js",
        "/static/admin/css/base.css",
        "/favicon.ico",
    ):
        answer = web.get(path)
        report.check(answer.status == 200 and answer.body, f"{path} answers 200")
    docs = web.get("/api/docs/")
    parser = Assets()
    parser.feed(docs.text)
    report.check(docs.status == 200 and parser.assets, "/api/docs/ answers 200")
    for asset in sorted(parser.assets):
        report.check(web.get(asset).status == 200, f"swagger asset {asset} answers 200")
    missing = web.get("/no-such-page/")
    report.check(
        missing.status == 404 and "页面不存在" in missing.text,
        f"a missing page answers 404 with a Chinese page ({missing.status})",
    )
    api_missing = web.get("/api/v1/no-such-thing/")
    report.check(
        api_missing.status == 404 and json.loads(api_missing.body).get("code") == "not_found",
        "a missing API path answers 404 in the API's JSON format",
    )


def check_each_role(stack: Stack, report: Report) -> None:
    for role in ROLES:
        browser = Browser(stack.web_port)
        answer = browser.form("/accounts/login/", {"username": role, "password": DEMO_PASSWORD})
        if not report.check(answer.status == 302, f"{role} logs in ({answer.status})"):
            continue
        home = browser.get("/")
        parser = Assets()
        parser.feed(home.text)
        report.check(home.status == 200 and parser.nav, f"{role}: home page with navigation")
        pages = [p for p in dict.fromkeys(parser.nav) if not p.startswith("/accounts/logout")]
        for page in pages:
            answer = browser.get(page)
            report.check(answer.status == 200, f"{role}: {page} answers {answer.status}")
            parser.feed(answer.text)
        for asset in sorted(parser.assets):
            report.check(browser.get(asset).status == 200, f"{role}: asset {asset} answers 200")


def check_report_reaches_the_office(stack: Stack, report: Report) -> int | None:
    web = Browser(stack.web_port)
    token = token_for(stack.web_port, "staff")
    if not report.check(bool(token), "the department's clerk gets an API token"):
        return None
    tasks = json.loads(web.api("GET", "/api/v1/tasks/", token).body)
    rows = tasks.get("results", tasks) if isinstance(tasks, dict) else tasks
    own = "经济发展局(示例)"  # the demo clerk's department
    task = next((t for t in rows if (t.get("lead_department") or {}).get("name") == own), None)
    if not report.check(task is not None, "the clerk sees the tasks the department leads"):
        return None
    web.api("POST", f"/api/v1/tasks/{task['id']}/receipt/", token)
    period = time.strftime("%Y-%m")
    update = web.api(
        "POST",
        f"/api/v1/tasks/{task['id']}/updates/",
        token,
        {
            "period": period,
            "status": "on_schedule",
            "progress": 30,
            "narrative": "生产环境演练",
            "explanation": "演练说明",
        },
    )
    report.check(update.status == 201, f"a report is submitted through the API ({update.status})")
    evidence_id = attach_evidence(web, token, json.loads(update.body).get("id"), report)
    deadline = time.monotonic() + 60
    messages: list = []
    while time.monotonic() < deadline and not messages:
        time.sleep(1)
        messages = [m for m in mailbox.Maildir(stack.maildir) if "待审核" in decoded_subject(m)]
    report.check(bool(messages), "the office's email about the report reaches the SMTP server")
    return evidence_id


def attach_evidence(web: Browser, token: str, update_id, report: Report) -> int | None:
    boundary = "gaoxinprodlike"
    pdf = b"%PDF-1.4\n% prodlike evidence\n%%EOF\n"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="evidence.pdf"'
            f"\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = web.request(
        "POST",
        f"/api/v1/updates/{update_id}/evidence/",
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    report.check(answer.status == 201, f"evidence is attached ({answer.status})")
    return json.loads(answer.body).get("id") if answer.status == 201 else None


def decoded_subject(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message.get("Subject", ""))))


def check_governments_are_isolated(stack: Stack, report: Report) -> None:
    """The demo's office asks for a task of the other government: 404, as for a task that does
    not exist (selectors, and under them row-level security); that government's office gets it."""
    found = subprocess.run(
        ["psql", "-h", PG["host"], "-U", "postgres", "-d", stack.db, "-Atc",
         "SELECT min(t.id) FROM tasks_app_task t JOIN tasks_app_government g"
         f" ON g.id = t.government_id WHERE g.name = '{OTHER_GOVERNMENT}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not report.check(found.isdigit(), f"the other government has tasks ({found!r})"):
        return
    web = Browser(stack.web_port)
    for username, expected in (("supervisor", 404), (OTHER_OFFICE, 200)):
        token = token_for(stack.web_port, username)
        answer = web.api("GET", f"/api/v1/tasks/{found}/", token)
        report.check(
            bool(token) and answer.status == expected,
            f"{username} asks for task {found} of {OTHER_GOVERNMENT}: {answer.status}",
        )


def check_shared_throttle(stack: Stack, report: Report) -> None:
    """Failed token requests from one client address, spread over both gunicorn workers by
    separate connections: the throttle counts them together only if its cache is shared."""
    statuses = []
    for attempt in range(LOGIN_RATE_PER_MINUTE + 2):
        # A new username each time: django-axes' lockout (username and address) stays out of it.
        answer = Browser(stack.web_port).request(
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": f"nobody{attempt}", "password": "wrong"}),
            headers={"Content-Type": "application/json"},
            forwarded_for="203.0.113.7",
        )
        statuses.append(answer.status)
    report.check(
        statuses[:LOGIN_RATE_PER_MINUTE].count(429) == 0 and statuses[-1] == 429,
        f"both gunicorn workers share one login-throttle count: {statuses}",
    )
    keys = subprocess.run(
        ["redis-cli", "-n", str(REDIS_CACHE_DB), "--scan", "--pattern", "*throttle_login*"],
        capture_output=True,
        text=True,
    ).stdout.split()
    report.check(bool(keys), "the throttle's count lives in Redis")
    other = Browser(stack.web_port).request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"username": "nobody", "password": "wrong"}),
        headers={"Content-Type": "application/json"},
        forwarded_for="203.0.113.8",
    )
    report.check(other.status != 429, "another client behind the same proxy is not throttled")


def check_ledger_binds_the_app(stack: Stack, report: Report) -> None:
    import psycopg2

    for statement, what in (
        ("UPDATE tasks_app_auditevent SET action = 'forged' WHERE seq = 1", "UPDATE"),
        ("DELETE FROM tasks_app_auditevent WHERE seq = 1", "DELETE"),
        ("TRUNCATE tasks_app_auditevent", "TRUNCATE"),
        ("ALTER TABLE tasks_app_auditevent DISABLE TRIGGER ALL", "switching its triggers off"),
    ):
        connection = psycopg2.connect(stack.url("gaoxin_app"))
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
            refused = False
        except psycopg2.Error:
            refused = True
        finally:
            connection.rollback()
            connection.close()
        report.check(refused, f"the application role's {what} on the ledger is refused")
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=stack.env("gaoxin_owner"),
        capture_output=True,
        text=True,
    )
    report.check("gaoxin.W001" in check.stdout + check.stderr, "connecting as the owner warns")


def check_backup_and_restore(stack: Stack, report: Report, evidence_id: int | None) -> None:
    dump = stack.work / "gaoxin.dump"
    stack.run(["pg_dump", "-h", PG["host"], "-U", "postgres", "-Fc", "-f", str(dump), stack.db])
    archive = shutil.make_archive(str(stack.work / "media-backup"), "gztar", stack.media)
    stack.psql("-c", f'CREATE DATABASE "{stack.restored_db}"')
    stack.roles(stack.restored_db)
    stack.run(
        ["pg_restore", "-h", PG["host"], "-U", "postgres", "-d", stack.restored_db, str(dump)]
    )
    restored_media = stack.work / "restored-media"
    shutil.unpack_archive(archive, restored_media)
    env = stack.env("gaoxin_app", stack.restored_db, restored_media)
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    report.check(verify.returncode == 0, f"verify_audit on the restored database: {verify.stdout}")
    if evidence_id is None:
        report.check(False, "no evidence to download after the restore")
        return
    script = (
        "from django.test import Client\n"
        "from tasks_app.models import User\n"
        "c = Client(HTTP_HOST='localhost')\n"
        "c.force_login(User.objects.get(username='supervisor'))\n"
        f"r = c.get('/workbench/evidence/{evidence_id}/', secure=True)\n"
        "body = b''.join(r.streaming_content) if r.streaming else r.content\n"
        "print(r.status_code, body[:8])\n"
    )
    download = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    report.check(
        download.stdout.startswith("200 b'%PDF"),
        f"the evidence downloads from the restored database and media: {download.stdout.strip()}"
        + download.stderr[-300:],
    )


def main() -> int:
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="gaoxin-prodlike-"))
    stack = Stack(work)
    try:
        stack.setup()
        stack.serve()
        check_operator_view(stack, report)
        check_each_role(stack, report)
        evidence_id = check_report_reaches_the_office(stack, report)
        check_governments_are_isolated(stack, report)
        check_shared_throttle(stack, report)
        check_ledger_binds_the_app(stack, report)
        stack.stop()
        check_backup_and_restore(stack, report, evidence_id)
    except Exception as exc:  # a crash of the harness is a failed run, with what it knows
        traceback.print_exc()
        report.check(False, f"the run crashed: {exc!r}")
    finally:
        stack.stop()
        if report.failures:
            for name in ("web", "worker", "beat", "smtp"):
                log = work / f"{name}.log"
                if log.exists():
                    print(f"--- {name}.log (last 40 lines)")
                    print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        stack.drop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nproduction-like run: {report.passed} checks passed, {len(report.failures)} failed")
    for failure in report.failures:
        print("  FAILED: " + failure)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
