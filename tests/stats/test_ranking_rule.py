"""The ranking's weights and thresholds are the plan's, set by the office; the rule leaders read
is written from them. Scores of the hand-counted plan (tests/stats/test_stats_numbers.py) as of
2020-06-30: A received 2 of 15 reports due, 1 on time, none returned, 1 of 3 tasks done, lights
2/3; B received 1 of 10, on time, none returned, 0 of 2 done, lights 1/4."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tasks_app.models import AuditEvent, RankingRule
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot
from tests.stats.stats_builders import JUNE_30, at, build_plan, report

pytestmark = pytest.mark.django_db

WEIGHTS = {"reporting": 40, "on_time": 20, "first_pass": 0, "completion": 20, "lights": 20}


def ranking(plan, as_of=JUNE_30) -> dict:
    return stats_ranking.stats_ranking(stats_snapshot.plan_snapshot(plan=plan, as_of=as_of))


def admin_form(plan, **values) -> dict:
    form = {f"{key}_weight": str(weight) for key, weight in WEIGHTS.items()}
    form.update(plan=str(plan.pk), red_list_min_score="25", black_list_below_score="15")
    form.update({key: str(value) for key, value in values.items()})
    return form


def test_the_office_sets_a_plans_weights_and_lists_in_the_admin_and_the_ranking_follows(
    counted, supervisor, client
):
    plan, _t = counted
    client.force_login(supervisor)
    response = client.post("/admin/tasks_app/rankingrule/add/", admin_form(plan))
    assert response.status_code == 302, response.content.decode()[:500]
    assert AuditEvent.objects.get(action="rankingrule.create").after["reporting_weight"] == 40

    numbers = ranking(plan)
    assert numbers["weights"] == WEIGHTS
    a, b = numbers["rows"]
    # A: 40 x 2/15 + 20 x 1/15 + 0 + 20 x 1/3 + 20 x 2/3; B: 40 x 1/10 + 20 x 1/10 + 20 x 1/4.
    assert (a["score"], a["list"]) == (26.7, "red")
    assert (b["score"], b["list"]) == (11.0, "black")
    assert "40×报送率(已报/应报) + 20×按时报送率" in numbers["rule"]
    assert "25分及以上列入红榜,低于15分列入黑榜" in numbers["rule"]


def test_the_dashboard_shows_the_rule_written_from_the_plans_numbers(counted, leader, client):
    plan, _t = counted
    RankingRule.objects.create(plan=plan, **{f"{k}_weight": w for k, w in WEIGHTS.items()})
    client.force_login(leader)
    page = client.get(f"/dashboard/plans/{plan.pk}/?as_of=2020-06-30").content.decode()
    assert "40×报送率(已报/应报)" in page and "0×一次通过率" in page
    assert "25×报送率" not in page


@pytest.mark.parametrize(
    "values",
    [
        {"reporting_weight": 39},  # the weights add up to 99
        {"red_list_min_score": 101},
        {"red_list_min_score": 15, "black_list_below_score": 15},  # black must be below red
    ],
)
def test_the_database_refuses_weights_not_adding_up_to_100_and_crossed_thresholds(counted, values):
    plan, _t = counted
    fields = {f"{k}_weight": w for k, w in WEIGHTS.items()}
    fields.update(red_list_min_score=25, black_list_below_score=15)
    fields.update(values)
    with pytest.raises(IntegrityError), transaction.atomic():
        RankingRule.objects.create(plan=plan, **fields)


def test_the_admin_explains_a_refused_rule_in_chinese(counted, supervisor, client):
    plan, _t = counted
    client.force_login(supervisor)
    response = client.post(
        "/admin/tasks_app/rankingrule/add/", admin_form(plan, completion_weight=30)
    )
    assert response.status_code == 200
    assert "各项权重之和须为100。" in response.content.decode()
    assert not RankingRule.objects.exists()


def test_a_department_whose_one_report_was_returned_ranks_above_one_that_never_reported(
    economic_bureau, tech_bureau, clerk, supervisor
):
    # In the demo one returned report scored 0.0 while silence kept the first-pass points.
    plan = build_plan(
        sections=1,
        tasks=[
            {"lead_department": economic_bureau, "start_date": dt.date(2020, 1, 21)},
            {"lead_department": tech_bureau, "start_date": dt.date(2020, 1, 21)},
        ],
    )
    report(
        plan.tasks.get(lead_department=economic_bureau),
        author=clerk,
        office=supervisor,
        period=dt.date(2020, 1, 1),
        status="on_schedule",
        progress=10,
        submitted=at(2020, 2, 3),
        reviewed=at(2020, 2, 4),
        decision="returned",
    )
    returned, silent = ranking(plan, dt.date(2020, 2, 29))["rows"]
    assert returned["department"] == "经济发展局" and returned["returned"] == 1
    assert (silent["reports_due"], silent["reports_received"]) == (1, 0)
    parts = {p["key"]: p["points"] for p in silent["score_parts"]}
    assert (parts["reporting"], parts["on_time"], parts["first_pass"]) == (0, 0, 0)
    assert returned["score"] - silent["score"] == 40.0  # received and on time; first pass lost
