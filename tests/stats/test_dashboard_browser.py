"""A leader in a real browser (Debian's chromium via Playwright): the dashboard's numbers, its
ECharts charts drawn from our own static files, and the drill-down to a task's history; then the
2020 plan lived to September 30 on a desktop (1440x900) and a phone (390x844): what the first
screen holds, and that no page of the dashboard scrolls sideways on the phone."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tasks_app.models import Role
from tasks_app.plans import services
from tests.conftest import CHROMIUM
from tests.stats.stats_builders import counted_plan, lived_year

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
    expect(page.locator("#exceptions li").first).to_contain_text("T0002")

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


# --- The 2020 plan lived to September 30, on a desktop and on a phone ---------------------------

SEPTEMBER_30 = "2020-09-30"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def year_plan(plan_data, economic_bureau, tech_bureau, clerk, supervisor, leader):
    """The report's 153 tasks and 60 indicators, ten lead departments, eight months of reports."""
    loaded, _ = services.plan_load(actor=None, data=plan_data)
    lived_year(
        loaded,
        leads=[economic_bureau, tech_bureau],
        author=clerk,
        office=supervisor,
        through=dt.date(2020, 9, 30),
    )
    return loaded


def signed_in(browser, live_server, viewport):
    page = browser.new_context(locale="zh-CN", viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "pw-leader-123456")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def drawn(page, selector: str) -> dict:
    """The bounding box of a chart's drawing (canvas or svg), once it has a non-zero size."""
    sync_api.expect(page.locator(f"{selector} canvas, {selector} svg").first).to_be_visible()
    box = page.locator(f"{selector} canvas, {selector} svg").first.bounding_box()
    assert box["width"] > 0 and box["height"] > 0, selector
    return box


def sideways_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_on_a_desktop_the_first_screen_holds_the_numbers_the_charts_and_the_top_exceptions(
    browser, live_server, year_plan
):
    page = signed_in(browser, live_server, DESKTOP)
    page.goto(f"{live_server.url}/dashboard/plans/{year_plan.pk}/?as_of={SEPTEMBER_30}")
    for chart in ("#chart-sections", "#chart-lights"):
        assert drawn(page, chart)["y"] < DESKTOP["height"], chart
    headline = page.locator("#headline").bounding_box()
    assert headline["y"] + headline["height"] < DESKTOP["height"]
    assert page.locator("#summary").bounding_box()["y"] < DESKTOP["height"]
    rows = page.locator("#exceptions ol.top-exceptions li")
    sync_api.expect(rows).to_have_count(10)
    assert page.locator("#exceptions").bounding_box()["y"] < DESKTOP["height"]
    last = rows.nth(9).bounding_box()
    assert last["y"] + last["height"] <= DESKTOP["height"]  # all ten, without scrolling
    total = int(page.locator("#exceptions .count").inner_text())
    assert total > 10
    late = [int(t) for t in page.locator("#exceptions .days-late").all_inner_texts()]
    assert late and late == sorted(late, reverse=True)  # the most overdue first
    assert sideways_overflow(page) <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-year-1440.png"))

    # Below the first screen: indicator and ranking charts, sparklines, a sortable table.
    for chart in ("#chart-indicator-status", "#chart-indicator-pace", "#chart-ranking"):
        drawn(page, chart)
    sparks = page.locator("#indicators svg.spark")
    assert sparks.count() >= 40  # an indicator with reports has its course drawn
    box = sparks.first.bounding_box()
    assert box["width"] > 50 and box["height"] > 10
    assert sparks.first.locator("polyline.spark-expected").count() == 1

    rate = page.locator("#department-table thead th", has_text="完成率")
    rate.click()
    sync_api.expect(rate).to_have_attribute("aria-sort", "descending")
    rates = [
        float(t.rstrip("%"))
        for t in page.locator("#department-table tbody td:nth-child(4)").all_inner_texts()
    ]
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1]

    # Every chart follows the window: narrowed to a phone's width, it redraws narrower.
    wide = drawn(page, "#chart-sections")["width"]
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "document.querySelector('#chart-sections canvas').getBoundingClientRect().width < 390"
    )
    narrow = drawn(page, "#chart-sections")["width"]
    assert narrow < wide and narrow > 300
    assert sideways_overflow(page) <= 0

    # "查看全部" opens every exception, 20 a page, with filters.
    page.click("#all-exceptions")
    sync_api.expect(page.locator("#exception-count")).to_have_text(str(total))
    sync_api.expect(page.locator("table.exceptions tbody tr")).to_have_count(min(total, 20))
    page.select_option("select[name=kind]", "overdue")
    page.click("form.exception-filters button[type=submit]")
    overdue = int(page.locator("#exception-count").inner_text())
    assert 0 < overdue < total
    assert "kind=overdue" in page.url and f"as_of={SEPTEMBER_30}" in page.url


def test_on_a_phone_nothing_scrolls_sideways_and_the_numbers_and_a_chart_come_first(
    browser, live_server, year_plan
):
    page = signed_in(browser, live_server, PHONE)
    dashboard = f"{live_server.url}/dashboard/plans/{year_plan.pk}/"
    page.goto(f"{dashboard}?as_of={SEPTEMBER_30}")
    headline = page.locator("#headline").bounding_box()
    assert headline["y"] + headline["height"] < 2 * PHONE["height"]
    assert drawn(page, "#chart-sections")["y"] < 2 * PHONE["height"]
    header = page.locator("header.topbar").bounding_box()
    line = page.locator("header.topbar .brand").bounding_box()["height"]
    assert header["height"] < 3 * line + 16  # brand and links: two lines at most
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-year-390.png"))
    section = year_plan.sections.order_by("number").first()
    area = section.key_areas.order_by("number").first()
    pages = [
        f"{dashboard}?as_of={SEPTEMBER_30}",
        f"{dashboard}tasks/?section={section.pk}&as_of={SEPTEMBER_30}",
        f"{dashboard}tasks/?key_area={area.pk}&as_of={SEPTEMBER_30}",
        f"{dashboard}tasks/?light=red&as_of={SEPTEMBER_30}",
        f"{dashboard}exceptions/?as_of={SEPTEMBER_30}",
        f"{dashboard}exceptions/?kind=red&page=2&as_of={SEPTEMBER_30}",
        f"{dashboard}print/?as_of={SEPTEMBER_30}",
        f"{live_server.url}/dashboard/",
    ]
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("load")
        assert sideways_overflow(page) <= 0, url
