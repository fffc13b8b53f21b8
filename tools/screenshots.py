"""Screenshots of the leaders' dashboard (领导驾驶舱), its first screen on a desktop and a phone.

`make screenshots` runs this: a fresh SQLite database with the demo data (`run_demo --no-serve`,
the same as `make run`), Django's server on a free port, Debian's chromium through Playwright,
and the leader's first screen at 1440x900 and 390x844 into docs/screenshots/. The date shown is
GAOXIN_TODAY (the demo's date, 2020-09-30 unless set). Nothing outside a temporary folder and
docs/screenshots/ is written; the server is stopped at the end.

    python tools/screenshots.py [--out docs/screenshots] [--database-url sqlite:////tmp/x.sqlite3]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DEMO_TODAY = "2020-09-30"
SIZES = [(1440, 900, "dashboard-1440.png"), (390, 844, "dashboard-390.png")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer at {url}") from None
            time.sleep(0.5)


def seed(env: dict) -> str:
    """The demo data; returns the demo accounts' password that run_demo prints."""
    run = subprocess.run(
        [sys.executable, "manage.py", "run_demo", "--no-serve"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"password for all: (\S+)", run.stdout)
    if not found:
        raise SystemExit("run_demo printed no password:\n" + run.stdout[-2000:])
    return found.group(1)


def shoot(base: str, password: str, as_of: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--lang=zh-CN"],
        )
        for width, height, name in SIZES:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="zh-CN",
                reduced_motion="reduce",  # the charts draw without animation
            )
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "leader")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{base}/dashboard/?as_of={as_of}")
            page.wait_for_function(
                "document.querySelectorAll('#chart-sections canvas, #chart-lights canvas')"
                ".length >= 2"
            )
            page.wait_for_timeout(500)
            path = out / name
            page.screenshot(path=str(path))
            written.append(path)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--database-url", help="use this database as it is (no demo seeding)")
    parser.add_argument("--password", default="", help="the leader's password with --database-url")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"needs Debian's chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gaoxin-shots-") as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("CELERY_BROKER_URL", "GAOXIN_REQUIRE_SERVICES", "DATABASE_URL")
        }
        env.update(DEBUG="1", MEDIA_ROOT=str(Path(tmp) / "media"))
        env.setdefault("GAOXIN_TODAY", DEMO_TODAY)
        env["DATABASE_URL"] = args.database_url or f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        password = args.password if args.database_url else seed(env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/accounts/login/")
            for path in shoot(base, password, env["GAOXIN_TODAY"], args.out):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
