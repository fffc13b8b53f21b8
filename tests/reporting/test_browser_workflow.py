"""A real browser (Debian's chromium via Playwright) through the report-review-correct loop."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tasks_app.plans import services
from tests.conftest import CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api")


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    # The live server sees only committed rows; serialized rollback restores the seeded calendar.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def task(plan, economic_bureau):
    return services.task_assign(
        actor=None,
        task=plan.tasks.get(code="1.2.05"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


def log_in(browser, live_server, username: str, password: str):
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    sync_api.expect(page.locator("header")).to_contain_text("退出")
    return page


def test_a_report_is_returned_corrected_and_reviewed_again(
    browser, live_server, clerk, supervisor, task
):
    expect = sync_api.expect
    clerk_page = log_in(browser, live_server, "clerk", "pw-clerk-123456")
    clerk_page.click("text=我的任务")
    clerk_page.click(f"text={task.title}")
    expect(clerk_page.locator("h1")).to_contain_text(task.code)

    report = clerk_page.locator("#report form")
    report.locator("input[name=report-period]").fill("2020-03")
    report.locator("select[name=report-status]").select_option(label="序时推进")
    report.locator("input[name=report-progress]").fill("30")
    report.locator("textarea[name=report-narrative]").fill("已签约超10亿元企业3家。")
    report.locator("textarea[name=report-explanation]").fill("受疫情影响签约延后,已加快洽谈。")
    report.locator("button[type=submit]").click()
    expect(clerk_page.locator(".messages")).to_contain_text("已报送")
    history = clerk_page.locator("#history")
    expect(history).to_contain_text("2020-03")
    expect(history).to_contain_text("待审核")
    expect(history).to_contain_text("已签约超10亿元企业3家。")

    office = log_in(browser, live_server, "dcs", "pw-dcs-123456")
    office.click("text=审核队列")
    card = office.locator(".update", has_text=task.code)
    expect(card).to_contain_text("已签约超10亿元企业3家。")
    card.locator("textarea").fill("请补充签约企业名单和金额。")
    card.locator("button", has_text="退回").click()
    expect(office.locator(".messages")).to_contain_text("已退回")
    expect(office.locator("main")).to_contain_text("没有待审核的报送")

    clerk_page.reload()
    returned = clerk_page.locator("#history .update").first
    expect(returned).to_contain_text("已退回")
    expect(returned).to_contain_text("请补充签约企业名单和金额。")
    expect(returned).to_contain_text("督查室王科长")
    returned.locator("textarea[name$=-narrative]").fill(
        "已签约超10亿元企业3家:甲、乙、丙,合计金额42亿元。"
    )
    returned.locator("input[type=number]").first.fill("35")
    returned.locator("button", has_text="重新报送").click()
    expect(clerk_page.locator(".messages")).to_contain_text("已修改并重新报送")
    resubmitted = clerk_page.locator("#history .update").first
    expect(resubmitted).to_contain_text("待审核")
    expect(resubmitted).to_contain_text("第2次报送")

    office.reload()
    card = office.locator(".update", has_text=task.code)
    expect(card).to_contain_text("合计金额42亿元")
    expect(card).to_contain_text("第2次报送")

    ARTIFACTS.mkdir(exist_ok=True)
    clerk_page.screenshot(path=str(ARTIFACTS / "workbench_task.png"), full_page=True)
    office.screenshot(path=str(ARTIFACTS / "review_queue.png"), full_page=True)
