"""plans.bulk writes what the per-row services write, even when a batch changes a task twice."""

from decimal import Decimal

from django.db import transaction

from tasks_app.audit import ledger
from tasks_app.models import AuditEvent, Indicator
from tasks_app.plans import services
from tasks_app.plans.bulk import TaskBatch


def target(name: str, value: str) -> dict:
    return {
        "name": name,
        "unit": "%",
        "comparator": "gte",
        "target_value": Decimal(value),
        "target_value_max": None,
        "source_text": f"{name}{value}%",
    }


def changes(economic_bureau, tech_bureau) -> list[tuple]:
    """(service, arguments) in order; the task is H01 of the plan."""
    return [
        ("task_assign", {"lead_department": economic_bureau, "co_departments": [tech_bureau]}),
        ("task_indicators_set", {"indicators": [target("甲", "5"), target("乙", "6")]}),
        ("task_assign", {"lead_department": tech_bureau, "co_departments": []}),
        ("task_indicators_set", {"indicators": [target("甲", "7")]}),
        ("task_update", {"title": "改过的标题"}),
    ]


def row_by_row(actor, task, steps) -> None:
    for service, arguments in steps:
        if service == "task_update":
            arguments = {**arguments, "expected_version": task.version}
        getattr(services, service)(actor=actor, task=task, **arguments)
        task.refresh_from_db()


def in_a_batch(actor, plan, task, steps) -> None:
    batch = TaskBatch.lock(actor=actor, plan=plan, task_ids=[task.pk])
    for service, arguments in steps:
        getattr(batch, service)(batch.tasks[task.pk], **arguments)
    batch.save()


def written(task, since_seq: int) -> dict:
    task.refresh_from_db()
    created = {}
    events = []
    for event in AuditEvent.objects.filter(seq__gt=since_seq).order_by("seq"):
        if event.action.endswith(".create"):
            created[event.object_id] = f"new #{len(created)}"
        object_id = created.get(event.object_id, event.object_id)
        events.append((event.action, object_id, event.object_repr, event.before, event.after))
    return {
        "task": (
            task.title,
            task.lead_department_id,
            sorted(task.co_departments.values_list("pk", flat=True)),
            task.version,
            task.light,
            task.expected_progress,
        ),
        "indicators": list(
            Indicator.objects.filter(task=task).values_list(
                "position", "name", "target_value", "source_text"
            )
        ),
        "events": events,
    }


def test_a_batch_that_changes_a_task_twice_writes_what_the_services_write(
    plan, supervisor, economic_bureau, tech_bureau
):
    task = plan.tasks.get(code="H01")
    steps = changes(economic_bureau, tech_bureau)
    start = ledger.head().seq
    with transaction.atomic():
        row_by_row(supervisor, task, steps)
        expected = written(task, start)
        transaction.set_rollback(True)
    task.refresh_from_db()
    in_a_batch(supervisor, plan, task, steps)
    assert written(task, start) == expected
    assert [event[0] for event in expected["events"]][:3] == [
        "task.assign",
        "task.co_departments",
        "indicator.update",
    ]
    assert ledger.verify().ok


def test_a_batch_of_what_is_already_stored_writes_nothing(
    plan, supervisor, economic_bureau, tech_bureau
):
    task = plan.tasks.get(code="H01")
    steps = changes(economic_bureau, tech_bureau)[2:]
    in_a_batch(supervisor, plan, task, steps)
    task.refresh_from_db()
    version, events = task.version, AuditEvent.objects.count()
    in_a_batch(supervisor, plan, task, steps)
    task.refresh_from_db()
    assert (task.version, AuditEvent.objects.count()) == (version, events)
