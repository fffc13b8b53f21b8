"""The office runs a 调度会 in a real browser (Debian's chromium via Playwright): it prepares the
pack as of the demo date, holds the meeting, records two 议定事项; the lead department receives
one and the reminder sweep reminds it; the next pack opens with both decisions and their state."""

import datetime as dt
import os
import shutil
from zoneinfo import ZoneInfo

import pytest

from tasks_app.models import Notification, Reminder, StocktakeDecision
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders import sweep
from tests.conftest import CHROMIUM
from tests.reminders.reminders_support import reseed

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True),
]

DEADLINE = dt.date(2020, 10, 30)


def login(browser, live_server, username: str, password: str):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def record_decision(page, title: str, department: str, concerns: str) -> None:
    form = page.locator("#decision-form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=lead_department]").select_option(label=department)
    form.locator("input[name=deadline]").fill(DEADLINE.isoformat())
    form.locator("select[name=concerns]").select_option(label=concerns)
    form.locator("button[type=submit]").click()


def test_the_office_holds_a_stocktake_whose_decisions_are_chased_and_reviewed_next_time(
    browser, live_server, demo_day, published
):
    reseed()  # the flush of a transactional test removed the calendar and the default ladder
    plan, tasks = published
    expect = sync_api.expect
    office = login(browser, live_server, "dcs", "pw-dcs-123456")
    office.click("header >> text=调度会")
    office.locator("#prepare-form input[name=as_of]").fill(demo_day.isoformat())
    office.locator("#prepare-form input[name=title]").fill("九月调度会")
    office.locator("#prepare-form button[type=submit]").click()
    expect(office.locator("h1")).to_contain_text("九月调度会")
    expect(office.locator("#pack-state")).to_have_text("准备中")
    # T0002 was due 19 June at 60%: overdue, with a question for its department.
    expect(office.locator("#pack-exceptions")).to_contain_text("T0002")
    expect(office.locator("#pack-exceptions")).to_contain_text("已逾期")

    office.click("#hold-form button")
    expect(office.locator("#pack-state")).to_have_text("已召开")
    record_decision(office, "企业服务专班一周内进驻", "经济发展局", "T0002 任务2")
    expect(office.locator(".messages")).to_contain_text("已记录议定事项")
    record_decision(office, "税收数据按月通报", "科技创新和产业发展局", "T0005 任务5")
    expect(office.locator("#decisions tbody tr")).to_have_count(2)
    download = None
    with office.expect_download() as info:
        office.click("#docx-link")
    download = info.value
    assert download.suggested_filename.endswith(".docx")

    first, second = StocktakeDecision.objects.order_by("id")
    assert first.task.get_kind_display() == "议定事项"
    assert [t.code for t in first.concerns.all()] == ["T0002"]

    clerk = login(browser, live_server, "clerk", "pw-clerk-123456")
    clerk.click("header >> text=我的任务")
    clerk.click(f"a:has-text('{first.task.title}')")
    clerk.click("button:has-text('签收')")
    expect(clerk.locator("body")).to_contain_text("已签收")

    # Three working days before its deadline the sweep reminds the 经济发展局's contact.
    calendar = WorkingCalendar.load(dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    day = calendar.add_working_days(DEADLINE, -3)
    now = dt.datetime.combine(day, dt.time(9, 0), ZoneInfo("Asia/Shanghai"))
    sweep.run_embedded_once(now=now)
    assert Reminder.objects.filter(task=first.task, item="deadline", remind_on=day).exists()
    assert Notification.objects.filter(recipient__username="clerk").exists()
    clerk.goto(f"{live_server.url}/notifications/")
    expect(clerk.locator("body")).to_contain_text(first.task.code)

    office.goto(f"{live_server.url}/stocktakes/")
    office.locator("#prepare-form input[name=title]").fill("十月调度会")
    office.locator("#prepare-form button[type=submit]").click()
    previous = office.locator("#previous-decisions tbody")
    expect(previous.locator("tr")).to_have_count(2)
    expect(previous.locator("tr", has_text=first.task.code)).to_contain_text("已签收")
    expect(previous.locator("tr", has_text=second.task.code)).to_contain_text("未签收")
    expect(office.locator("#pack-summary")).to_contain_text("九月调度会")
