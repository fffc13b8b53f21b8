"""`make run` on a fresh clone: the demo server comes up with sample data and working logins."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_BUDGET_SECONDS = 180  # migrate, load the plan, seed the demo year (~40 s of CPU)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client, enough to log in through Django's forms."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode("utf-8")

    def login(self, path: str, username: str, password: str) -> tuple[int, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TEST_DATABASE_NAME")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    log = open(tmp_path / "demo.log", "w+", encoding="utf-8")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while time.monotonic() - started < STARTUP_BUDGET_SECONDS:
            try:
                urllib.request.urlopen(base + "/healthz/", timeout=2)
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "demo.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail(f"demo not serving within {STARTUP_BUDGET_SECONDS}s")
        yield base, (tmp_path / "demo.log").read_text(encoding="utf-8"), time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def printed_password(output: str) -> str:
    return re.search(r"password for all: (\S+)", output).group(1)


def test_the_demo_serves_the_home_page_and_admin_with_a_printed_login(demo_server):
    base, output, seconds = demo_server
    assert seconds < STARTUP_BUDGET_SECONDS
    assert re.search(r"^\s+admin\s", output, re.M) and re.search(r"^\s+staff\s", output, re.M)
    browser = Browser(base)

    status, landing = browser.get("/")
    assert status == 200 and "高新区督查督办系统" in landing

    status, admin_index = browser.login(
        "/admin/login/?next=/admin/", "admin", printed_password(output)
    )
    assert status == 200
    assert "站点管理" in admin_index or "管理" in admin_index
    assert "任务" in admin_index

    status, task_list = browser.get("/admin/tasks_app/task/?q=5G")
    assert status == 200 and "5G" in task_list and "示例" in task_list


def test_the_demo_supervisor_sees_the_whole_plan_marked_as_sample_data(demo_server):
    base, output, _ = demo_server
    browser = Browser(base)
    status, home = browser.login("/accounts/login/", "supervisor", printed_password(output))
    assert status == 200
    assert "珠海高新区2020年政府工作报告" in home
    assert "示例" in home
    plan_link = re.search(r'href="(/plans/\d+/)"', home).group(1)
    status, plan_page = browser.get(plan_link)
    assert status == 200
    assert "地区生产总值增长7%" in plan_page
    assert plan_page.count('class="sample-tag"') >= 100
