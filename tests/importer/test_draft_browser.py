"""The office edits the seed report's draft in a real browser (Debian's chromium via Playwright):
split, merge, move, ten items given a lead department at once, then publish."""

import os
import shutil
from pathlib import Path

import pytest

from tasks_app.importer import drafts
from tasks_app.importer.drafts import draft_tasks
from tasks_app.models import ImportDraft, Plan, Task
from tasks_app.plans import services
from tests.conftest import CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api")

DATA = Path(__file__).parents[1] / "data"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SUGGESTED = [  # tasks_app/data/department_keywords.json, named as the demo names them
    "科技创新和产业发展局(示例)",
    "财政金融局(示例)",
    "规划建设局(示例)",
    "生态环境和城市管理局(示例)",
    "社会事务局(示例)",
    "数字政府和政务服务局(示例)",
    "公共安全局(示例)",
    "组织人事局(示例)",
    "党政办公室(示例)",
]

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def draft(supervisor):
    for name in [*SUGGESTED, "统计局(示例)"]:
        services.department_create(actor=None, name=name, is_sample=True)
    return drafts.import_draft_create(
        actor=supervisor,
        data=(DATA / "zhuhai_gaoxin_2020_report.txt").read_bytes(),
        source_name="zhuhai_gaoxin_2020_report.txt",
        year=2020,
        title="珠海高新区2020年政府工作报告",
        government="珠海高新区",
    )


def row(page, code: str):
    return page.locator(f'[id="row-{code}"]')


def source_of(draft: ImportDraft, code: str) -> str:
    draft.refresh_from_db()
    return next(item["source_text"] for item in draft_tasks(draft.data) if item["code"] == code)


def halves(text: str) -> tuple[str, str]:
    """The text cut after its first comma or 、 (else in the middle): two parts of one item."""
    body = text.rstrip("。,;\uff0c\uff1b")
    cut = next((i + 1 for i, char in enumerate(body) if char in ",;、\uff0c\uff1b"), len(body) // 2)
    return text[:cut], text[cut:]


def log_in(browser, live_server, viewport):
    page = browser.new_context(locale="zh-CN", viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "dcs")
    page.fill("input[name=password]", "pw-dcs-123456")
    page.click("button[type=submit]")
    sync_api.expect(page.locator("header")).to_contain_text("退出")
    return page


def test_the_office_splits_merges_moves_assigns_ten_at_once_and_publishes(
    browser, live_server, draft
):
    expect = sync_api.expect
    url = f"{live_server.url}/imports/drafts/{draft.pk}/"
    page = log_in(browser, live_server, {"width": 1440, "height": 900})
    page.goto(url + "?p=1")
    messages = page.locator(".messages")

    # Split the first item of 1.1 at its first comma.
    first, second = halves(source_of(draft, "1.1.01"))
    row(page, "1.1.01").locator("a.edit-link").click()
    page.fill("#split-form textarea[name=parts]", f"{first}\n{second}")
    page.click("#split-form button[type=submit]")
    expect(messages).to_contain_text("已拆分为 2 项")

    # Merge the first two items of 1.2, ticked in the bulk bar.
    merged = source_of(draft, "1.2.01") + source_of(draft, "1.2.02")
    row(page, "1.2.01").locator("input[type=checkbox]").check()
    row(page, "1.2.02").locator("input[type=checkbox]").check()
    expect(page.locator("#selected-count")).to_have_text("已选 2 项")
    page.click("#bulk button[value=merge]")
    expect(messages).to_contain_text("已将 2 项合并为一项")

    # Move the first item of 1.3 to the key area 2.1.
    moved = source_of(draft, "1.3.01")
    row(page, "1.3.01").locator("a.edit-link").click()
    page.select_option("#move-form select[name=area]", "2.1")
    page.click("#move-form button[type=submit]")
    expect(messages).to_contain_text("移至重点领域 2.1")

    # Every page: take the suggested departments (named with a 示例 suffix here), then give the
    # rows still without a lead to 经济发展局.
    tabs = page.locator(".draft-pages a").evaluate_all("links => links.map(a => a.href)")
    heights = {}
    for tab in tabs:
        page.goto(tab)
        heights[tab.rsplit("=", 1)[-1]] = page.evaluate("document.documentElement.scrollHeight")
        if page.locator("form.accept").count():  # a suggestion one click away
            page.check("#select-all")
            page.click("#bulk button[value=accept_suggestions]")
            expect(messages).to_contain_text("采用单位建议")
        missing = page.locator("tr.missing input[type=checkbox]")
        if missing.count():
            for index in range(missing.count()):
                missing.nth(index).check()
            page.select_option("#bulk select[name=lead_department]", label="经济发展局")
            page.click("#bulk button[value=assign]")
            expect(messages).to_contain_text("保存分工")
        expect(page.locator("tr.missing")).to_have_count(0)

    # Ten items of section 一 get 统计局(示例) as their lead at once.
    page.goto(url + "?p=1")
    boxes = page.locator("tr.item input[type=checkbox]")
    ten = [boxes.nth(index).get_attribute("value") for index in range(10)]
    for index in range(10):
        boxes.nth(index).check()
    expect(page.locator("#selected-count")).to_have_text("已选 10 项")
    page.select_option("#bulk select[name=lead_department]", label="统计局(示例)")
    page.click("#bulk button[value=assign]")
    expect(messages).to_contain_text("已为 10 项保存分工")
    for code in ten:
        expect(row(page, code).locator(".lead-name")).to_have_text("统计局(示例)")
    ten_texts = {source_of(draft, code) for code in ten}

    expect(page.locator("#checks-ok")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import_draft_1440.png"), full_page=True)
    page.click("#publish-form button[type=submit]")
    expect(messages).to_contain_text("已发布")

    plan = Plan.objects.get(title="珠海高新区2020年政府工作报告")
    tasks = Task.objects.filter(plan=plan).select_related("key_area", "lead_department")
    by_text = {task.source_text: task for task in tasks}
    assert by_text[first].key_area.title == by_text[second].key_area.title
    assert by_text[first].code.startswith("1.1.") and by_text[second].code.startswith("1.1.")
    assert by_text[merged].code == "1.2.01"
    assert by_text[moved].code.startswith("2.1.")
    assert {by_text[text].lead_department.name for text in ten_texts} == {"统计局(示例)"}
    assert not tasks.filter(lead_department__isnull=True).exists()
    # The suggestions matched the departments with a suffix: most items took one of them.
    suggested = tasks.filter(lead_department__name__in=SUGGESTED).count()
    assert suggested > len(by_text) / 3
    # Paged by section, no page of the draft is anywhere near the old 16,000 px.
    assert max(heights.values()) < 6000, heights


def test_the_draft_is_usable_on_a_phone_without_scrolling_sideways(browser, live_server, draft):
    page = log_in(browser, live_server, {"width": 390, "height": 844})
    url = f"{live_server.url}/imports/drafts/{draft.pk}/"
    for query in ("?p=H", "?p=1", "?p=1&edit=1.1.02"):
        page.goto(url + query)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (query, overflow)
    sync_api.expect(page.locator("#split-form")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import_draft_390.png"), full_page=True)
