"""The office publishes from its page; a citizen on a 390 px phone reads and downloads the
snapshot without logging in (Debian's chromium via Playwright)."""

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from tasks_app.models import AuditEvent, PublicSnapshot
from tasks_app.plans import services as plans_services
from tests.conftest import CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def overflow(page) -> int:
    """How far the page is wider than the screen, in CSS pixels (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_office_publishes_and_a_citizen_reads_it_on_a_phone_without_logging_in(
    browser, live_server, plan, supervisor, economic_bureau
):
    for task in plan.tasks.order_by("position")[:5]:
        plans_services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    plans_services.plan_publish(actor=supervisor, plan=plan)
    expect = sync_api.expect

    office = browser.new_context(locale="zh-CN").new_page()
    office.set_default_timeout(15_000)
    office.goto(f"{live_server.url}/accounts/login/")
    office.fill("input[name=username]", "dcs")
    office.fill("input[name=password]", "pw-dcs-123456")
    office.click("button[type=submit]")
    office.click("header >> text=公开进展")
    office.fill("form.publish-form input[name=title]", "2020年政府工作报告落实情况(第三季度)")
    office.click("form.publish-form button[type=submit]")
    expect(office.locator("h1")).to_contain_text("第三季度")
    snapshot = PublicSnapshot.objects.get()
    event = AuditEvent.objects.get(seq=snapshot.ledger_seq, action="public_snapshot.publish")

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, accept_downloads=True).new_page()
    phone.set_default_timeout(15_000)
    phone.goto(f"{live_server.url}/public/")
    expect(phone.locator(".snapshot-row .seq")).to_have_text(str(event.seq))
    expect(phone.locator(".snapshot-row .hash")).to_have_text(event.after["sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", phone.locator(".snapshot-row .hash").inner_text())
    assert overflow(phone) <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "public_index_390.png"), full_page=True)

    phone.click(".snapshot-title")
    expect(phone.locator("h1")).to_contain_text("第三季度")
    expect(phone.locator(".public-task").first).to_contain_text(economic_bureau.name)
    assert phone.locator(".public-task").count() == plan.tasks.count()
    assert overflow(phone) <= 0
    phone.screenshot(path=str(ARTIFACTS / "public_snapshot_390.png"))
    with phone.expect_download() as download:
        phone.click("text=下载规范JSON")
    content = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(content).hexdigest() == event.after["sha256"]
    assert "登录" not in phone.locator("header").inner_text()
