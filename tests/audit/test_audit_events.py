"""Each kind of change is an event with the right before and after values, in the chain."""

import datetime as dt

import pytest

from tasks_app.audit import ledger
from tasks_app.models import AuditEvent
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db


def event(action: str, obj) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).latest("seq")


@pytest.fixture
def task(plan, supervisor, economic_bureau):
    task = plan.tasks.filter(indicators__isnull=False).order_by("position").first()
    return plans_services.task_assign(
        actor=supervisor,
        task=task,
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )


def test_a_report_its_correction_and_its_review_are_events_with_before_and_after(
    task, clerk, supervisor
):
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=20,
        narrative="开展前期工作。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    submitted = event("status_update.submit", update)
    assert submitted.after["progress"] == 20 and submitted.actor_department == "经济发展局"
    reporting_services.status_update_correct(
        actor=clerk, update=update, expected_version=1, progress=25
    )
    corrected = event("status_update.correct", update)
    assert (corrected.before, corrected.after) == ({"progress": 20}, {"progress": 25})
    reporting_services.status_update_review(actor=supervisor, update=update, decision="accepted")
    state = event("status_update.review_state", update)
    assert (state.before, state.after) == (
        {"review_state": "submitted"},
        {"review_state": "accepted"},
    )
    record = event("task.state_of_record", task)
    assert (record.before, record.after) == (
        {"status": "not_started", "progress": 0},
        {"status": "on_schedule", "progress": 25},
    )
    assert ledger.verify().ok


def test_a_target_change_and_a_reassignment_are_events_with_before_and_after(
    plan, task, clerk, supervisor, tech_bureau
):
    plans_services.plan_publish(actor=supervisor, plan=plan)
    indicator = task.indicators.first()
    old_target = format(indicator.target_value.normalize(), "f")
    change = reporting_services.change_request_create(
        actor=clerk,
        task=task,
        field="target_value",
        new_value="9.5",
        reason="形势变化",
        indicator=indicator,
    )
    reporting_services.change_request_decide(actor=supervisor, change=change, approve=True)
    target = event("indicator.target_change", indicator)
    assert target.before["target_value"] == old_target and target.after["target_value"] == "9.5"
    plans_services.task_assign(
        actor=supervisor,
        task=task,
        lead_department=tech_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    reassigned = event("task.assign", task)
    assert reassigned.after == {"lead_department": tech_bureau.pk}
    assert reassigned.actor_role == "supervisor"
    assert ledger.verify().ok
