"""Every desk page in a real browser at a phone's width (390×844, Debian's chromium via Playwright):
axe-core (vendored under tests/vendor, injected into the page) finds no serious or critical
violation, the page never scrolls sideways, and the header stays within two lines."""

import datetime as dt
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks_app.models import Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tests.conftest import CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def png() -> bytes:
    """A real 2×2 PNG (the evidence check sniffs the content)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xb7\x1c\x1c" * 2 for _row in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def desks(settings, plan, economic_bureau, clerk, supervisor, leader):
    """15 March 2020: a task of the 经济发展局 with a report waiting for the office (a PDF and a
    photo as evidence), a leader's instruction, and an auditor."""
    settings.GAOXIN_TODAY = "2020-03-15"
    task = plans_services.task_assign(
        actor=None,
        task=plan.tasks.get(code="1.2.05"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    reporting_services.instruction_create(actor=leader, task=task, text="请加快项目签约进度。")
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="已签约超10亿元企业3家。",
        indicator_values={task.indicators.order_by("position").first().pk: "3"},
        evidence=[
            SimpleUploadedFile("签约材料.pdf", b"%PDF-1.4 minimal\n%%EOF\n"),
            SimpleUploadedFile("现场照片.png", png()),
        ],
    )
    plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )
    return {"task": task, "update": update}


def log_in(browser, live_server, username: str, password: str):
    page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    sync_api.expect(page.locator("header")).to_contain_text("退出")
    return page


def serious_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({id: v.id, impact: v.impact,
                              nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
        }"""
    )


def overflow(page) -> int:
    """How far the page reaches past the window's right edge (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def check(page, url: str, name: str) -> dict:
    page.goto(url)
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone_{name}.png"), full_page=True)
    header = page.locator("header.topbar").bounding_box()["height"]
    return {"axe": serious_violations(page), "overflow": overflow(page), "header": header}


def test_the_desk_pages_pass_axe_and_fit_a_phone(browser, live_server, desks):
    task, update = desks["task"], desks["update"]
    base = live_server.url
    results = {}
    clerk = log_in(browser, live_server, "clerk", "pw-clerk-123456")
    results["workbench (clerk)"] = check(clerk, f"{base}/workbench/", "workbench_clerk")
    results["task page and report form"] = check(
        clerk, f"{base}/workbench/tasks/{task.pk}/#report", "task"
    )
    results["notifications (clerk)"] = check(clerk, f"{base}/notifications/", "notifications")

    office = log_in(browser, live_server, "dcs", "pw-dcs-123456")
    results["workbench (office)"] = check(office, f"{base}/workbench/", "workbench_office")
    results["review queue"] = check(office, f"{base}/workbench/review/", "review_queue")
    results["notifications (office)"] = check(
        office, f"{base}/notifications/", "notifications_office"
    )
    # The other pages: usable at 390 px too (no sideways scrolling, header within two lines).
    others = {
        "home": f"{base}/",
        "plan": f"{base}/plans/{task.plan_id}/",
        "imports": f"{base}/imports/",
        "workbench (one department)": f"{base}/workbench/?department={task.lead_department_id}",
    }
    office.set_viewport_size({"width": 1280, "height": 900})  # the desktop, for the record
    office.goto(f"{base}/workbench/?sort=light")
    office.screenshot(path=str(ARTIFACTS / "workbench_office_1280.png"))
    office.set_viewport_size(PHONE)
    layout = {}
    for name, url in others.items():
        office.goto(url)
        header = office.locator("header.topbar").bounding_box()["height"]
        layout[name] = {"overflow": overflow(office), "header": header}

    auditor = log_in(browser, live_server, "shenji", "pw-audit-123456")
    results["ledger"] = check(auditor, f"{base}/audit/?task_code={task.code}", "audit_ledger")
    seq = auditor.locator("table.ledger tbody tr a").first.inner_text()
    results["ledger event"] = check(auditor, f"{base}/audit/events/{seq}/", "audit_event")
    results["progress log"] = check(auditor, f"{base}/audit/progress/", "audit_progress")
    results["exports"] = check(auditor, f"{base}/audit/exports/", "audit_exports")
    results["verification"] = check(auditor, f"{base}/audit/verify/", "audit_verify")

    assert {name: r["axe"] for name, r in results.items() if r["axe"]} == {}
    assert {name: r["overflow"] for name, r in results.items() if r["overflow"] > 0} == {}
    # Brand on one line, the menu on a second at most: never a third.
    assert {name: r["header"] for name, r in results.items() if r["header"] > 100} == {}
    assert {name: r for name, r in layout.items() if r["overflow"] > 0 or r["header"] > 100} == {}
    assert update.evidence.count() == 2


def test_the_review_queue_previews_evidence_inline_and_works_from_the_keyboard(
    browser, live_server, desks
):
    office = log_in(browser, live_server, "dcs", "pw-dcs-123456")
    office.set_viewport_size({"width": 1280, "height": 900})
    office.goto(f"{live_server.url}/workbench/review/")
    card = office.locator(".review-item", has_text=desks["task"].code)
    frame = card.locator("iframe")
    image = card.locator("img")
    sync_api.expect(frame).to_have_attribute("title", "佐证材料预览:签约材料.pdf")
    sync_api.expect(image).to_have_attribute("alt", "佐证材料:现场照片.png")
    assert office.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 2
    sync_api.expect(card).to_contain_text("3")  # the reported value beside its target
    # The card takes the focus with Tab and shows where it is; its controls are labelled.
    card.focus()
    outline = office.evaluate("(el) => getComputedStyle(el).outlineStyle", card.element_handle())
    assert outline == "solid"
    wanted, focused = f"批量通过时包含 {desks['task'].code}", None
    for _tab in range(4):  # the card's first controls: its box for the bulk action
        office.keyboard.press("Tab")
        focused = office.evaluate("() => document.activeElement.getAttribute('aria-label')")
        if focused == wanted:
            break
    assert focused == wanted
    office.keyboard.press("Space")
    office.click("text=批量通过所选")
    sync_api.expect(office.locator(".messages")).to_contain_text("已通过 1 条报送")
    desks["update"].refresh_from_db()
    assert desks["update"].review_state == "accepted"


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_ledger_filter_bar_is_compact_and_hashes_never_overlap_their_labels(
    browser, live_server, desks, width
):
    auditor = log_in(browser, live_server, "shenji", "pw-audit-123456")
    auditor.set_viewport_size({"width": width, "height": 900})
    auditor.goto(f"{live_server.url}/audit/")
    filters = auditor.locator("form.filter-form").bounding_box()
    auditor.screenshot(path=str(ARTIFACTS / f"ledger_{width}.png"))
    if width == 1280:  # one or two rows of fields and the buttons (it was 440 px tall)
        assert filters["height"] <= 170
    seq = auditor.locator("table.ledger tbody tr a").first.inner_text()
    auditor.goto(f"{live_server.url}/audit/events/{seq}/")
    for row in auditor.locator("dl.hashes > div").all():
        label = row.locator("dt").bounding_box()
        value = row.locator("dd").bounding_box()
        assert not boxes_overlap(label, value)
        assert value["x"] + value["width"] <= width
