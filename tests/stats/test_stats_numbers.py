"""The stats against a plan counted by hand, as of 2020-06-30, and as of other dates.

The plan (start 2020-01-21 for all; A = 经济发展局, B = 科技创新和产业发展局):
  section 1, area 1: T1 (A, due 12-31) accepted on_schedule 50% on 06-10 (and 30% on 05-12)
                     T2 (A, due 06-19) accepted on_schedule 60% on 05-15  -> overdue, red
  section 1, area 2: T3 (A, due 06-30) accepted done on 06-20             -> green
                     T4 (B, due 12-31) report returned on 06-16           -> not started, red
  section 2, area 1: T5 (B, due 12-31) accepted ongoing 40% on 04-10      -> lag 7, yellow
                     T6 (no department, no deadline)                       -> green
On 06-30 the expected progress of a task due 12-31 is 161/345 = 47%. T2 is 6 working days late:
June 22-24, Sunday June 28 (an adjusted working day) and June 29-30; June 25-26 are the Dragon
Boat holiday.
"""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tasks_app.models import DEFAULT_WEIGHTS, TaskStatus
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tasks_app.stats import indicators, selectors, summary
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot
from tests.stats.stats_builders import JUNE_30, YEAR_END, at, report

pytestmark = pytest.mark.django_db


def snapshot(plan, day=JUNE_30, department_id=None):
    return stats_snapshot.plan_snapshot(plan=plan, as_of=day, department_id=department_id)


def test_it_counts_the_plan_by_status_light_and_overdue_as_of_a_date(counted):
    plan, _t = counted
    totals = selectors.stats_overview(snapshot(plan))["totals"]
    assert totals == {
        "total": 6,
        "done": 1,
        "completion_rate": 0.1667,
        "overdue": 1,
        "by_status": {"not_started": 2, "on_schedule": 2, "behind": 0, "done": 1, "ongoing": 1},
        "by_light": {"green": 3, "yellow": 1, "red": 2},
    }


def test_it_counts_by_section_key_area_and_lead_department(counted, economic_bureau):
    plan, _t = counted
    overview = selectors.stats_overview(snapshot(plan))
    sections = [
        (r["number"], r["total"], r["done"], r["overdue"], r["by_light"]["red"])
        for r in overview["by_section"]
    ]
    assert sections == [(1, 4, 1, 1, 2), (2, 2, 0, 0, 0)]
    areas = [(r["title"], r["total"], r["done"]) for r in overview["by_key_area"]]
    assert areas == [("领域1.1", 2, 0), ("领域1.2", 2, 1), ("领域2.1", 2, 0), ("领域2.2", 0, 0)]
    departments = [
        (r["name"], r["total"], r["done"], r["by_light"]["red"]) for r in overview["by_department"]
    ]
    assert departments == [  # by name
        ("科技创新和产业发展局", 2, 0, 1),
        ("经济发展局", 3, 1, 1),
        ("未明确牵头单位", 1, 0, 0),
    ]
    assert overview["livelihood"]["total"] == 0


def test_exceptions_come_most_overdue_first_with_days_late_and_the_latest_report(counted):
    plan, _t = counted
    rows = selectors.stats_exceptions(snapshot(plan))
    assert [(r["code"], r["overdue"], r["days_late"], r["light"]) for r in rows] == [
        ("T0002", True, 6, "red"),
        ("T0004", False, 0, "red"),
    ]
    assert rows[0]["lead_department"] == "经济发展局"
    assert rows[0]["latest_report"]["narrative"] == "受疫情影响,正在赶工。"
    assert rows[1]["latest_report"]["review_state"] == "returned"
    assert rows[1]["expected_progress"] == 47 and rows[1]["progress"] == 0


def test_indicators_show_target_actual_attainment_and_pace(counted):
    plan, _t = counted
    rows = {r["name"]: r for r in indicators.stats_indicators(snapshot(plan))}
    count, growth = rows["新增企业"], rows["税收"]
    assert (count["target"], count["actual"], count["share"]) == (Decimal(100), Decimal(40), 0.4)
    # 182 of 366 days have passed: 40 is short of the 49.7 the pace calls for.
    assert count["met"] is False and count["on_schedule"] is False
    assert growth["points"] == 0.5 and growth["met"] is True and growth["on_schedule"] is True
    earlier = {
        r["name"]: r for r in indicators.stats_indicators(snapshot(plan, dt.date(2020, 5, 31)))
    }
    assert earlier["新增企业"]["actual"] == Decimal(20)
    assert indicators.stats_indicators(snapshot(plan, dt.date(2020, 4, 30)))[0]["actual"] is None


def test_the_ranking_counts_reporting_discipline_and_explains_its_score(counted):
    plan, _t = counted
    ranking = stats_ranking.stats_ranking(snapshot(plan))
    first, second = ranking["rows"]
    assert first["department"] == "经济发展局" and first["rank"] == 1
    # By the report schedule: January to May are due by 06-30 (May's on 06-05, June's not until
    # 07-06), so A's 3 tasks owe 15. Received among them: T1's April, first submitted 05-10 after
    # its due day 05-06 (1-5 May is the Labour Day holiday), and T2's May, on time; T1's and T3's
    # June reports are early and not yet owed.
    assert (
        first["reports_due"],
        first["reports_received"],
        first["reports_on_time"],
        first["returned"],
    ) == (15, 2, 1, 0)
    assert [(p["key"], p["weight"], p["points"]) for p in first["score_parts"]] == [
        ("reporting", 25, 3.33),
        ("on_time", 15, 1.0),
        ("first_pass", 10, 10.0),
        ("completion", 25, 8.33),
        ("lights", 25, 16.67),
    ]
    assert first["score"] == 39.3 and first["list"] == "black"
    # B: T5's April on time; T4's June report (returned) is not owed before 07-06.
    assert (
        second["reports_due"],
        second["reports_received"],
        second["reports_on_time"],
        second["returned"],
    ) == (10, 1, 1, 0)
    assert second["score"] == 20.2
    assert ranking["weights"] == DEFAULT_WEIGHTS and sum(ranking["weights"].values()) == 100
    assert "25×报送率(已报/应报)" in ranking["rule"] and "次月5日" in ranking["rule"]
    assert "90分及以上列入红榜,低于60分列入黑榜" in ranking["rule"]


def test_a_returned_report_counts_as_received_once_its_period_is_due_and_lowers_first_pass(
    counted,
):
    plan, _t = counted
    rows = stats_ranking.stats_ranking(snapshot(plan, dt.date(2020, 7, 31)))["rows"]
    tech = next(r for r in rows if r["department"] == "科技创新和产业发展局")
    # June is due on 07-06: T4's June report, in on 06-15 and returned, is received and on time.
    assert (
        tech["reports_due"],
        tech["reports_received"],
        tech["reports_on_time"],
        tech["returned"],
    ) == (12, 2, 2, 1)
    first_pass = next(p for p in tech["score_parts"] if p["key"] == "first_pass")
    assert (first_pass["rate"], first_pass["points"]) == (0.5, 5.0)


def test_the_trend_gives_completion_and_lights_month_by_month(counted):
    plan, _t = counted
    trend = summary.stats_trend(snapshot(plan))
    assert [p["month"] for p in trend] == [f"2020-{m:02d}" for m in range(1, 7)]
    march = trend[2]
    assert march["done"] == 0 and march["by_light"] == {"green": 1, "yellow": 3, "red": 2}
    assert trend[-1]["done"] == 1 and trend[-1]["by_light"] == {"green": 3, "yellow": 1, "red": 2}


def test_an_as_of_date_reproduces_earlier_numbers_after_later_updates(
    counted, clerk, tech_clerk, supervisor
):
    plan, t = counted

    def numbers(day):
        snap = snapshot(plan, day)
        return (
            selectors.stats_overview(snap),
            selectors.stats_exceptions(snap),
            summary.plan_summary(snap)["sentence"],
            summary.stats_trend(snap),
        )

    before = numbers(JUNE_30)
    report(
        t["T0002"],
        author=clerk,
        office=supervisor,
        period=dt.date(2020, 7, 1),
        status="done",
        progress=100,
        submitted=at(2020, 7, 14),
        reviewed=at(2020, 7, 15),
    )
    report(
        t["T0004"],
        author=tech_clerk,
        office=supervisor,
        period=dt.date(2020, 7, 1),
        status="on_schedule",
        progress=60,
        submitted=at(2020, 7, 31),
        reviewed=at(2020, 8, 1),
    )
    t["T0002"].refresh_from_db()
    assert t["T0002"].status == TaskStatus.DONE  # the live state moved on
    assert numbers(JUNE_30) == before
    later = selectors.stats_overview(snapshot(plan, dt.date(2020, 8, 31)))["totals"]
    assert later["done"] == 2 and later["overdue"] == 0


def test_a_deadline_changed_later_counts_at_its_old_value_before_the_change(
    counted, clerk, supervisor
):
    plan, t = counted
    plans_services.plan_publish(actor=supervisor, plan=plan)
    change = reporting_services.change_request_create(
        actor=clerk, task=t["T0002"], field="deadline", new_value="2020-12-31", reason="疫情影响。"
    )
    reporting_services.change_request_decide(actor=supervisor, change=change, approve=True)
    t["T0002"].refresh_from_db()
    assert t["T0002"].deadline == YEAR_END
    assert selectors.stats_overview(snapshot(plan))["totals"]["overdue"] == 1


def test_a_department_member_gets_its_own_departments_numbers_only(counted, clerk):
    plan, _t = counted
    client = APIClient()
    client.force_authenticate(clerk)
    body = client.get(f"/api/v1/stats/plans/{plan.pk}/?as_of=2020-06-30").json()
    assert body["totals"]["total"] == 3 and body["department_id"] == clerk.department_id
    assert [r["name"] for r in body["by_department"]] == ["经济发展局"]
    ranking = client.get(f"/api/v1/stats/plans/{plan.pk}/ranking/?as_of=2020-06-30").json()
    assert [(r["department"], r["rank"]) for r in ranking["rows"]] == [("经济发展局", 1)]
    exceptions = client.get(f"/api/v1/stats/plans/{plan.pk}/exceptions/?as_of=2020-06-30").json()
    assert [r["code"] for r in exceptions["results"]] == ["T0002"]


@pytest.mark.parametrize(
    "path",
    ["", "exceptions/", "indicators/", "ranking/", "trend/"],
)
def test_every_stats_endpoint_answers_a_leader_with_the_whole_plan(counted, leader, path):
    plan, _t = counted
    client = APIClient()
    client.force_authenticate(leader)
    response = client.get(f"/api/v1/stats/plans/{plan.pk}/{path}?as_of=2020-06-30")
    assert response.status_code == 200, response.content
    assert response.json()["as_of"] == "2020-06-30"


def test_the_api_rejects_a_bad_date_refuses_strangers_and_hides_unknown_plans(counted, leader):
    plan, _t = counted
    client = APIClient()
    assert client.get(f"/api/v1/stats/plans/{plan.pk}/").status_code == 401
    client.force_authenticate(leader)
    bad = client.get(f"/api/v1/stats/plans/{plan.pk}/?as_of=2020-13-01")
    assert bad.status_code == 400 and "as_of" in bad.json()["errors"]
    far = client.get(f"/api/v1/plans/{plan.pk}/summary/?as_of=1900-01-01")
    assert far.status_code == 400
    assert far.json()["errors"]["as_of"][0]["code"] == "as_of_out_of_range"
    assert client.get("/api/v1/stats/plans/999999/").status_code == 404
