"""A real browser (Debian's chromium via Playwright) through the report-review-correct loop."""

import pytest

from tests.reporting.conftest import ARTIFACTS, BROWSER_JOURNEY, submit_march_report

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_JOURNEY


@pytest.fixture
def task(assign_task):
    return assign_task()


def test_a_report_is_returned_corrected_and_reviewed_again(log_in, clerk, supervisor, task):
    expect = sync_api.expect
    clerk_page = log_in("clerk", "pw-clerk-123456")
    clerk_page.click("text=我的任务")
    clerk_page.click(f"text={task.title}")
    expect(clerk_page.locator("h1")).to_contain_text(task.code)

    submit_march_report(clerk_page)
    expect(clerk_page.locator(".messages")).to_contain_text("已报送")
    history = clerk_page.locator("#history")
    expect(history).to_contain_text("2020-03")
    expect(history).to_contain_text("待审核")
    expect(history).to_contain_text("已签约超10亿元企业3家。")

    office = log_in("dcs", "pw-dcs-123456")
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
