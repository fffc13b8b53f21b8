"""Invariants hold in the database itself, whatever code path writes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tasks_app.models import Indicator, Milestone, Role, StatusUpdate, Task, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "changes",
    [
        {"progress": 150},
        {"status": "finished"},
        {"kind": "wish"},
        {"report_frequency": "hourly"},
        {"start_date": dt.date(2020, 6, 1), "deadline": dt.date(2020, 5, 1)},
        {"status": "done", "progress": 80},
    ],
)
def test_a_task_refuses_invalid_values(plan, changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(plan=plan, code="1.1.01").update(**changes)


def test_a_task_code_is_unique_within_its_plan(plan):
    task = plan.tasks.get(code="1.1.01")
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            plan=plan,
            code="1.1.01",
            title="x",
            source_text="x",
            key_area=task.key_area,
            section=task.section,
        )


def test_a_work_item_needs_its_key_area(plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(plan=plan, code="9.9.99", title="x", source_text="x")


def test_department_staff_must_belong_to_a_department(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="orphan", role=Role.STAFF)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ghost", role="janitor")


def test_only_a_range_indicator_has_an_upper_bound(plan):
    base = {"plan": plan, "name": "x", "source_text": "x", "position": 99}
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.create(
            comparator="gte", target_value=Decimal(1), target_value_max=Decimal(2), **base
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.create(
            comparator="between", target_value=Decimal(3), target_value_max=Decimal(2), **base
        )


def test_one_status_update_per_task_and_period(plan, clerk):
    task = plan.tasks.get(code="1.1.01")
    values = {
        "task": task,
        "period": dt.date(2020, 3, 1),
        "status": "on_schedule",
        "progress": 20,
        "narrative": "推进中",
        "author": clerk,
    }
    StatusUpdate.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusUpdate.objects.create(**values)


def test_a_milestone_is_not_duplicated(plan):
    task = plan.tasks.get(code="1.1.01")
    Milestone.objects.create(task=task, title="节点", due_date=dt.date(2020, 3, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.create(task=task, title="节点", due_date=dt.date(2020, 3, 31))
