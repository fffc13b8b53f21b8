"""领导驾驶舱 pages: headline numbers, exceptions first, drill-down, XLSX export, print, scope."""

import datetime as dt
import re
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks_app.models import Role
from tasks_app.plans import services
from tests.stats.stats_builders import build_plan

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "tasks_app" / "static" / "tasks_app"


@pytest.fixture
def as_leader(client, leader):
    client.force_login(leader)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_dashboard_shows_headline_numbers_and_exceptions_first(counted, as_leader):
    plan, _t = counted
    response = as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-06-30")
    assert response.status_code == 200
    html = response.content.decode()
    for figure, value in [
        ("total", "6"),
        ("done", "1"),
        ("rate", "16.7%"),
        ("overdue", "1"),
        ("red", "2"),
        ("yellow", "1"),
        ("green", "3"),
    ]:
        assert re.search(rf'id="headline-{figure}"[^>]*>{re.escape(value)}<', html), figure
    assert html.index('id="exceptions"') < html.index('id="sections"')
    exceptions = html[html.index('id="exceptions"') : html.index('class="dash-nav"')]
    assert exceptions.index("T0002") < exceptions.index("T0004")
    assert '<b class="days-late">6</b>' in exceptions
    assert "经济发展局" in exceptions
    assert f"/dashboard/plans/{plan.pk}/exceptions/?as_of=2020-06-30" in exceptions


def test_the_dashboard_loads_echarts_from_our_own_static_files_only(counted, as_leader):
    plan, _t = counted
    html = as_leader.get(f"/dashboard/plans/{plan.pk}/").content.decode()
    assert "/static/tasks_app/vendor/echarts.min.js" in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    assert (STATIC / "vendor" / "echarts.min.js").stat().st_size > 500_000
    assert "Apache License" in (STATIC / "vendor" / "echarts.LICENSE").read_text()
    assert 'id="dashboard-charts"' in html


def test_every_role_finds_the_dashboard_in_the_header_and_may_open_it(
    counted, client, economic_bureau
):
    """Staff and heads see their own department's numbers there; the others see the plan's."""
    for role in Role.values:
        user = services.user_create(
            actor=None,
            username=f"user-{role}",
            password="pw-someone-123456",
            role=role,
            department=economic_bureau if role in (Role.STAFF, Role.HEAD) else None,
        )
        client.force_login(user)
        header = client.get("/").content.decode().split("</header>")[0]
        assert 'href="/dashboard/"' in header, role
        assert client.get("/dashboard/", follow=True).status_code == 200, role


def test_the_drill_down_goes_plan_section_key_area_task_history(counted, as_leader):
    plan, t = counted
    dashboard = as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-06-30").content.decode()
    section = plan.sections.get(number=1)
    section_url = f"/dashboard/plans/{plan.pk}/tasks/?section={section.pk}&amp;as_of=2020-06-30"
    assert section_url in dashboard
    section_page = as_leader.get(section_url.replace("&amp;", "&"))
    assert [a["title"] for a in section_page.context["areas"]] == ["领域1.1", "领域1.2"]
    area = section.key_areas.get(number=2)
    area_url = f"/dashboard/plans/{plan.pk}/tasks/?key_area={area.pk}&amp;as_of=2020-06-30"
    assert area_url in section_page.content.decode()
    area_page = as_leader.get(area_url.replace("&amp;", "&"))
    assert [s.code for s in area_page.context["tasks"]] == ["T0003", "T0004"]
    history_url = f"/workbench/tasks/{t['T0004'].pk}/#history"
    assert history_url in area_page.content.decode()
    history = as_leader.get(f"/workbench/tasks/{t['T0004'].pk}/")
    assert history.status_code == 200
    assert "请补充材料。" in history.content.decode()  # the returned report's reason


def test_the_xlsx_export_holds_the_dashboard_tables(counted, as_leader):
    plan, _t = counted
    response = as_leader.get(f"/dashboard/plans/{plan.pk}/export.xlsx?as_of=2020-06-30")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["总览", "异常任务", "指标", "红黑榜", "趋势"]
    overview = list(book["总览"].values)
    assert ("全部任务", 6, 1, 16.7, 1) == overview[4][:5]
    exceptions = list(book["异常任务"].values)
    assert [row[0] for row in exceptions[1:]] == ["T0002", "T0004"]
    assert exceptions[1][4] == 6
    ranking = list(book["红黑榜"].values)
    assert ranking[1][:4] == (1, "经济发展局", 39.3, "黑榜")  # see test_stats_numbers.py
    assert [row[0] for row in list(book["趋势"].values)[1:]] == [
        f"2020-{m:02d}" for m in range(1, 7)
    ]


def test_the_print_layout_is_the_monthly_bulletin(counted, as_leader):
    plan, _t = counted
    response = as_leader.get(f"/dashboard/plans/{plan.pk}/print/?as_of=2020-06-30")
    text = text_of(response)
    assert "督查通报" in text and "截至2020年6月30日" in text
    assert text.index("一、总体情况") < text.index("二、异常任务") < text.index("三、红黑榜")
    assert "2个方面6项具体工作" in text
    assert "@media print" in (STATIC / "dashboard.css").read_text()


def test_an_as_of_date_changes_what_the_dashboard_shows(counted, as_leader):
    plan, _t = counted
    may = as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-05-31")
    assert may.context["totals"]["done"] == 0
    assert 'value="2020-05-31"' in may.content.decode()


def test_a_bad_as_of_date_answers_400_with_a_chinese_message(counted, as_leader):
    plan, _t = counted
    response = as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-02-30")
    assert response.status_code == 400
    assert "统计日期格式应为" in response.content.decode()
    assert as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=1899-12-31").status_code == 400


def test_a_department_sees_its_own_numbers_on_the_dashboard(counted, client, tech_clerk):
    plan, _t = counted
    client.force_login(tech_clerk)
    response = client.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-06-30")
    assert response.status_code == 200
    assert response.context["totals"]["total"] == 2
    assert [r["department"] for r in response.context["ranking_rows"]] == ["科技创新和产业发展局"]
    assert "以下为本单位牵头任务的数据" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_log_in(counted, client):
    plan, _t = counted
    response = client.get(f"/dashboard/plans/{plan.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.fixture
def late_plan(economic_bureau, tech_bureau):
    """25 tasks not started, due on May 1st to 25th: as of June 30 all overdue, the earliest
    due the most; odd ones led by 经济发展局 in section 1, even ones by 科技 in section 2."""
    return build_plan(
        sections=2,
        tasks=[
            {
                "section": 1 if i % 2 else 2,
                "lead_department": economic_bureau if i % 2 else tech_bureau,
                "start_date": dt.date(2020, 1, 21),
                "deadline": dt.date(2020, 5, i),
            }
            for i in range(1, 26)
        ],
    )


def test_the_dashboard_shows_the_ten_most_overdue_and_links_to_all_of_them(late_plan, as_leader):
    response = as_leader.get(f"/dashboard/plans/{late_plan.pk}/?as_of=2020-06-30")
    assert [row["code"] for row in response.context["exceptions"]] == [
        f"T{i:04d}" for i in range(1, 11)
    ]
    assert response.context["exception_count"] == 25
    html = response.content.decode()
    assert f'href="/dashboard/plans/{late_plan.pk}/exceptions/?as_of=2020-06-30"' in html
    assert "查看全部 25 项" in html


def test_the_exception_list_pages_by_twenty_and_filters_by_kind_department_and_section(
    late_plan, as_leader, economic_bureau
):
    url = f"/dashboard/plans/{late_plan.pk}/exceptions/?as_of=2020-06-30"
    first = as_leader.get(url)
    assert [row["code"] for row in first.context["exceptions"]][:3] == ["T0001", "T0002", "T0003"]
    assert len(first.context["exceptions"]) == 20
    assert 'rel="next"' in first.content.decode()
    second = as_leader.get(url + "&page=2")
    assert [row["code"] for row in second.context["exceptions"]] == [
        f"T{i:04d}" for i in range(21, 26)
    ]
    mine = as_leader.get(url + f"&department={economic_bureau.pk}&kind=overdue")
    assert [row["code"] for row in mine.context["exceptions"]][:2] == ["T0001", "T0003"]
    assert mine.context["page"].paginator.count == 13
    section = late_plan.sections.get(number=2)
    assert as_leader.get(url + f"&section={section.pk}").context["page"].paginator.count == 12
    assert as_leader.get(url + "&kind=nonsense&page=99").context["page"].number == 2


def test_a_department_sees_only_its_own_exceptions(late_plan, client, tech_clerk):
    client.force_login(tech_clerk)
    response = client.get(f"/dashboard/plans/{late_plan.pk}/exceptions/?as_of=2020-06-30")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 12
    assert {row["lead_department"] for row in response.context["exceptions"]} == {
        "科技创新和产业发展局"
    }


def test_each_indicator_row_draws_its_course_against_the_expected_one(counted, as_leader):
    plan, _t = counted
    html = as_leader.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-06-30").content.decode()
    indicators = html[html.index('id="indicators"') : html.index('id="ranking"')]
    assert indicators.count('<svg class="spark') == 2  # 新增企业 and 税收 both have values
    assert "2020-04:20/" in indicators and "2020-06:40/" in indicators  # the <title>
    assert indicators.count('class="spark-expected"') == 2
