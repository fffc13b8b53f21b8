"""An indicator's course over the year (the dashboard's sparklines): the actual of the report
accepted for each month, against where a target should stand at each month's end."""

import datetime as dt

import pytest

from tasks_app.stats import charts
from tasks_app.stats import indicators as stats_indicators
from tasks_app.stats import snapshot as stats_snapshot

pytestmark = pytest.mark.django_db


def courses(plan, as_of):
    snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=as_of)
    rows = stats_indicators.stats_indicators(snapshot)
    return {row["name"]: row for row in rows}, stats_indicators.indicator_courses(snapshot, rows)


def test_a_count_climbs_with_the_year_and_its_actuals_sit_in_their_report_months(counted):
    plan, _t = counted
    rows, course = courses(plan, dt.date(2020, 6, 30))
    firms = course[rows["新增企业"]["id"]]
    assert firms["months"] == [f"2020-{m:02d}" for m in range(1, 7)]
    assert firms["actual"] == [None, None, None, 20.0, None, 40.0]
    # target 100 x the share of 2020 (366 days) elapsed at each month's end
    assert firms["expected"][0] == round(100 * 31 / 366, 4)
    assert firms["expected"][-1] == round(100 * 182 / 366, 4)


def test_a_growth_target_is_its_rate_all_year(counted):
    plan, _t = counted
    rows, course = courses(plan, dt.date(2020, 6, 30))
    tax = course[rows["税收"]["id"]]
    assert tax["expected"] == [7.0] * 6
    assert tax["actual"][3] == 7.5


def test_the_course_as_of_an_earlier_date_knows_only_what_was_accepted_by_then(counted):
    plan, _t = counted
    rows, course = courses(plan, dt.date(2020, 5, 11))  # April's report accepted on May 12
    assert course[rows["新增企业"]["id"]]["actual"] == [None] * 5


def test_the_pace_chart_lists_the_indicators_furthest_behind_first(counted):
    plan, _t = counted
    rows, _course = courses(plan, dt.date(2020, 6, 30))
    chart = charts.indicator_charts(list(rows.values()))
    # 新增企业: 40 against 100 x 182/366 = 49.7 expected -> 80.4%; 税收: 7.5 / 7 -> 107.1%
    assert chart["pace"]["names"] == ["新增企业", "税收"]
    assert chart["pace"]["values"] == [round(40 / (100 * 182 / 366) * 100, 1), 107.1]
    assert chart["status"] == {"met": 1, "on_course": 0, "behind": 1, "no_data": 0}
