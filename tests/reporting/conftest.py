"""The reporting tests' people and task: the 经济发展局's head, a district leader, task 1.2.05 led
by the 经济发展局 through 2020; and for the journeys in a real browser, their marks and a login."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tasks_app.models import Plan, Role
from tasks_app.plans import services
from tests.conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# A journey in Debian's chromium via Playwright. The live server sees only committed rows, so the
# test commits; serialized rollback restores the seeded calendar after it.
BROWSER_JOURNEY = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def submit_march_report(page) -> None:
    """On the task page, the clerk reports March: 序时推进 at 30%, with a 情况说明."""
    report = page.locator("#report form")
    report.locator("input[name=report-period]").fill("2020-03")
    report.locator("select[name=report-status]").select_option(label="序时推进")
    report.locator("input[name=report-progress]").fill("30")
    report.locator("textarea[name=report-narrative]").fill("已签约超10亿元企业3家。")
    report.locator("textarea[name=report-explanation]").fill("受疫情影响签约延后,已加快洽谈。")
    report.locator("button[type=submit]").click()


@pytest.fixture
def head(economic_bureau):
    """部门负责人 of the 经济发展局."""
    return services.user_create(
        actor=None,
        username="head",
        password="pw-head-123456",
        role=Role.HEAD,
        department=economic_bureau,
        display_name="经发局赵局长",
    )


@pytest.fixture
def leader(db):
    return services.user_create(
        actor=None,
        username="leader",
        password="pw-leader-123456",
        role=Role.LEADER,
        display_name="区领导陈",
    )


@pytest.fixture
def signoff_on(plan) -> Plan:
    Plan.objects.filter(pk=plan.pk).update(department_signoff=True)
    return plan


@pytest.fixture
def assign_task(plan, economic_bureau):
    """Task 1.2.05 given to the 经济发展局 from 2020-01-21 to the end of 2020, with any more of
    task_assign's arguments (co-departments, the responsible leader)."""

    def assign(**more):
        return services.task_assign(
            actor=None,
            task=plan.tasks.get(code="1.2.05"),
            lead_department=economic_bureau,
            start_date=dt.date(2020, 1, 21),
            deadline=dt.date(2020, 12, 31),
            **more,
        )

    return assign


@pytest.fixture
def log_in(browser, live_server):
    """A new browser context logged in as username: its page, showing the header."""
    from playwright.sync_api import expect

    def open_page(username: str, password: str):
        page = browser.new_context(locale="zh-CN").new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        expect(page.locator("header")).to_contain_text("退出")
        return page

    return open_page
