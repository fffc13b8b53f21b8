"""Issue 16's journey in a real browser (Debian's chromium via Playwright): with the plan's
department sign-off on, the clerk submits, the head approves, the office returns; the clerk's bell
shows the return and the clerk corrects and resubmits; the office's bell is empty once it handled
the report; a leader's instruction gets a 落实反馈 that the leader sees."""

import pytest

from tasks_app.models import StatusUpdate
from tests.reporting.conftest import ARTIFACTS, BROWSER_JOURNEY, submit_march_report

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_JOURNEY


@pytest.fixture
def task(signoff_on, assign_task, leader):
    return assign_task(responsible_leader=leader)


def bell(page):
    return page.locator("header a.bell")


def test_sign_off_return_correction_and_feedback_reach_the_people_who_act(
    log_in, live_server, clerk, head, supervisor, leader, task
):
    expect = sync_api.expect
    clerk_page = log_in("clerk", "pw-clerk-123456")
    clerk_page.goto(f"{live_server.url}/workbench/tasks/{task.pk}/")
    expect(clerk_page.locator("#report")).to_contain_text("须经部门负责人审核")
    submit_march_report(clerk_page)
    expect(clerk_page.locator(".messages")).to_contain_text("等待部门负责人审核")
    expect(clerk_page.locator("#history .update").first).to_contain_text("待部门负责人审核")

    head_page = log_in("head", "pw-head-123456")
    expect(bell(head_page)).to_have_attribute("aria-label", "通知,1条未读")
    head_page.click("header >> text=部门审核")
    card = head_page.locator(".update", has_text=task.code)
    expect(card).to_contain_text("受疫情影响签约延后")
    card.locator("button", has_text="同意报送").click()
    expect(head_page.locator(".messages")).to_contain_text("已同意")
    expect(bell(head_page)).to_have_attribute("aria-label", "通知,0条未读")

    office = log_in("dcs", "pw-dcs-123456")
    expect(bell(office)).to_have_attribute("aria-label", "通知,1条未读")
    office.click("text=审核队列")
    card = office.locator(".update", has_text=task.code)
    expect(card).to_contain_text("部门负责人 经发局赵局长")
    card.locator("textarea").fill("请补充签约企业名单和金额。")
    card.locator("button", has_text="退回").click()
    expect(office.locator(".messages")).to_contain_text("已退回")
    expect(bell(office)).to_have_attribute("aria-label", "通知,0条未读")

    clerk_page.reload()
    expect(bell(clerk_page)).to_have_attribute("aria-label", "通知,1条未读")
    expect(bell(clerk_page).locator(".bell-count")).to_have_text("1")
    returned = clerk_page.locator("#history .update").first
    expect(returned).to_contain_text("请补充签约企业名单和金额。")
    returned.locator("textarea[name$=-narrative]").fill("已签约3家:甲、乙、丙,合计42亿元。")
    returned.locator("button", has_text="重新报送").click()
    expect(clerk_page.locator(".messages")).to_contain_text("等待部门负责人审核")
    resubmitted = clerk_page.locator("#history .update").first
    expect(resubmitted).to_contain_text("第2次报送")
    expect(resubmitted).to_contain_text("待部门负责人审核")
    expect(bell(clerk_page)).to_have_attribute("aria-label", "通知,0条未读")
    update = StatusUpdate.objects.get(task=task)
    assert (update.review_state, update.revision) == ("signoff", 2)

    leader_page = log_in("leader", "pw-leader-123456")
    leader_page.goto(f"{live_server.url}/workbench/tasks/{task.pk}/")
    leader_page.locator("textarea[name=instruction-text]").fill("请加快签约,月底前报结果。")
    leader_page.locator("button", has_text="发出批示").click()
    expect(leader_page.locator(".messages")).to_contain_text("批示已发出")

    clerk_page.reload()
    expect(bell(clerk_page)).to_have_attribute("aria-label", "通知,1条未读")
    instruction = clerk_page.locator(".instruction").first
    instruction.locator("textarea").fill("已召开专题会,月底前完成签约。")
    instruction.locator("button", has_text="反馈落实情况").click()
    expect(clerk_page.locator(".messages")).to_contain_text("落实反馈已发送")

    leader_page.reload()
    expect(bell(leader_page)).to_have_attribute("aria-label", "通知,1条未读")
    expect(leader_page.locator(".instruction").first).to_contain_text(
        "已召开专题会,月底前完成签约。"
    )
    leader_page.click("text=领导驾驶舱")
    expect(leader_page.locator("#instruction-feedback")).to_contain_text("已召开专题会")

    ARTIFACTS.mkdir(exist_ok=True)
    clerk_page.screenshot(path=str(ARTIFACTS / "desks_task.png"), full_page=True)
    leader_page.screenshot(path=str(ARTIFACTS / "desks_dashboard.png"), full_page=True)
