"""A leader in a real browser (Debian's chromium via Playwright): the dashboard's numbers, its
ECharts charts drawn from our own static files, and the drill-down to a task's history."""

import os
import shutil
from pathlib import Path

import pytest

from tasks_app.models import Role
from tasks_app.plans import services
from tests.conftest import CHROMIUM
from tests.stats.stats_builders import counted_plan

sync_api = pytest.importorskip("playwright.sync_api")


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("GAOXIN_REQUIRE_SERVICES") != "1",
        reason="needs Debian's chromium at /usr/bin/chromium",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def plan(economic_bureau, tech_bureau, clerk, supervisor):
    tech_clerk = services.user_create(
        actor=None,
        username="tech",
        password="pw-tech-123456",
        role=Role.STAFF,
        department=tech_bureau,
    )
    services.user_create(
        actor=None,
        username="leader",
        password="pw-leader-123456",
        role=Role.LEADER,
        display_name="区长",
    )
    plan, _tasks = counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)
    return plan


def series_lengths(page, chart_id: str) -> list[int]:
    return page.evaluate(
        """(id) => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            return chart.getOption().series.map((s) => s.data.length);
        }""",
        chart_id,
    )


def test_a_leader_reads_the_dashboard_and_drills_down_to_a_tasks_history(
    browser, live_server, plan
):
    expect = sync_api.expect
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    external = []
    page.on(
        "request", lambda r: None if r.url.startswith(live_server.url) else external.append(r.url)
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "pw-leader-123456")
    page.click("button[type=submit]")
    page.click("header >> text=领导驾驶舱")
    expect(page.locator("h1")).to_contain_text("领导驾驶舱")

    page.fill("input[name=as_of]", "2020-06-30")
    page.click("#asof-form button[type=submit]")
    expect(page.locator("#headline-total")).to_have_text("6")
    expect(page.locator("#headline-done")).to_have_text("1")
    expect(page.locator("#headline-rate")).to_have_text("16.7%")
    expect(page.locator("#headline-overdue")).to_have_text("1")
    expect(page.locator("#headline-red")).to_have_text("2")
    expect(page.locator("#summary")).to_contain_text("2个方面6项具体工作,1项有力落实")
    expect(page.locator("#exceptions tbody tr").first).to_contain_text("T0002")

    for chart in ("chart-sections", "chart-departments", "chart-lights", "chart-trend"):
        expect(page.locator(f"#{chart} canvas").first).to_be_visible()
    assert series_lengths(page, "chart-sections") == [2]
    assert series_lengths(page, "chart-lights") == [3]
    assert series_lengths(page, "chart-trend") == [6, 6, 6, 6]
    section_rates = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-sections'))"
        ".getOption().series[0].data"
    )
    assert section_rates == [25.0, 0.0]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.click("#sections >> text=方面1")
    expect(page.locator("nav.crumbs")).to_contain_text("方面1")
    page.click("table.areas >> text=领域1.2")
    expect(page.locator("h1")).to_contain_text("领域1.2")
    row = page.locator("table.drill-tasks tr", has_text="T0004")
    row.locator("a.history-link").click()
    expect(page.locator("h1")).to_contain_text("T0004")
    expect(page.locator("#history")).to_contain_text("已退回")
    expect(page.locator("#history")).to_contain_text("请补充材料。")
    page.screenshot(path=str(ARTIFACTS / "dashboard_task_history.png"), full_page=True)
    assert external == [], f"requests left the server: {external}"
