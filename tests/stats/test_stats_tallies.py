"""The overviews count groups of like tasks in one statement (tasks_app.stats.tallies) and give
the numbers the plan snapshot gives counting task by task: for a leader and for a department,
on any date, with milestones and with deadlines changed after the date."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.common import clock
from tasks_app.models import Milestone
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tasks_app.stats import selectors, tallies
from tasks_app.stats import snapshot as stats_snapshot
from tests.stats.stats_builders import JUNE_30, START, YEAR_END, build_plan

pytestmark = pytest.mark.django_db

DAYS = [dt.date(2020, 3, 31), JUNE_30, YEAR_END, None]  # None: today, the stored state


def task_by_task(plan, day, department_id=None) -> dict:
    snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=day, department_id=department_id)
    return selectors.stats_overview(snapshot)


def by_group(plan, day, department_id=None) -> dict:
    return tallies.plan_overview(
        plan_id=plan.pk,
        government_ids=[plan.government_id],
        as_of=day,
        department_id=department_id,
    )


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_a_leader_gets_the_numbers_counted_task_by_task_on_any_date(counted, day):
    plan, _t = counted
    assert by_group(plan, day) == task_by_task(plan, day)


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_a_department_gets_its_own_tasks_numbers_counted_task_by_task(
    counted, economic_bureau, tech_bureau, day
):
    plan, _t = counted
    for department in (economic_bureau, tech_bureau):
        mine = by_group(plan, day, department.pk)
        assert mine == task_by_task(plan, day, department.pk)
        assert [row["name"] for row in mine["by_department"]] == [department.name]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_milestones_count_the_same_by_group_as_task_by_task(counted, day):
    plan, t = counted
    Milestone.objects.bulk_create(
        [
            Milestone(task=t["T0001"], title="开工", due_date=dt.date(2020, 4, 30)),
            Milestone(task=t["T0001"], title="主体完工", due_date=dt.date(2020, 9, 30)),
            Milestone(task=t["T0004"], title="立项", due_date=dt.date(2020, 5, 31)),
        ]
    )
    assert by_group(plan, day) == task_by_task(plan, day)


def test_a_deadline_changed_after_the_date_counts_at_its_old_value_either_way(
    counted, clerk, supervisor
):
    plan, t = counted
    plans_services.plan_publish(actor=supervisor, plan=plan)
    change = reporting_services.change_request_create(
        actor=clerk, task=t["T0002"], field="deadline", new_value="2020-12-31", reason="疫情影响。"
    )
    reporting_services.change_request_decide(actor=supervisor, change=change, approve=True)
    overview = by_group(plan, JUNE_30)
    assert overview == task_by_task(plan, JUNE_30)
    assert overview["totals"]["overdue"] == 1  # T0002 was still due 06-19 on 06-30


def test_a_deadline_given_later_to_a_task_without_one_counts_as_none_before(
    economic_bureau, clerk, supervisor
):
    plan = build_plan(
        sections=1,
        tasks=[{"lead_department": economic_bureau, "start_date": START, "deadline": None}],
    )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    (task,) = plan.tasks.all()
    change = reporting_services.change_request_create(
        actor=clerk, task=task, field="deadline", new_value="2020-03-31", reason="明确时限。"
    )
    reporting_services.change_request_decide(actor=supervisor, change=change, approve=True)
    assert change.old_value == ""  # no deadline before the change
    overview = by_group(plan, JUNE_30)
    assert overview == task_by_task(plan, JUNE_30)
    assert overview["totals"]["overdue"] == 0 and overview["totals"]["by_light"]["green"] == 1


def test_a_plans_overview_is_one_query_and_an_unknown_or_other_governments_plan_has_none(
    counted,
):
    plan, _t = counted
    with CaptureQueriesContext(connection) as captured:
        by_group(plan, JUNE_30)
    assert len(captured) == 1
    unknown = tallies.plan_overview(
        plan_id=plan.pk + 1000, government_ids=[plan.government_id], as_of=JUNE_30
    )
    elsewhere = tallies.plan_overview(
        plan_id=plan.pk, government_ids=[plan.government_id + 1000], as_of=JUNE_30
    )
    assert unknown is None and elsewhere is None


def test_the_province_totals_are_each_plans_own_totals(counted, economic_bureau):
    plan, _t = counted
    other = build_plan(
        title="另一计划",
        sections=1,
        tasks=[
            {"lead_department": economic_bureau, "start_date": START, "deadline": JUNE_30},
            {"lead_department": economic_bureau, "start_date": START, "deadline": YEAR_END},
        ],
    )
    for day in DAYS:
        totals = tallies.plans_totals([plan, other], as_of=day or clock.today())
        for each in (plan, other):
            assert totals[each.pk] == task_by_task(each, day or clock.today())["totals"]
