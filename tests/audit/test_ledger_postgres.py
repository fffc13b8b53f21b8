"""On PostgreSQL the database itself keeps the ledger: append-only, complete, never forked."""

import datetime as dt
import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from tasks_app.audit import ledger
from tasks_app.audit import services as audit_services
from tasks_app.models import (
    AuditEvent,
    Indicator,
    Milestone,
    Review,
    Role,
    StatusUpdate,
    Task,
)
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.postgres


def execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tasks_app_auditevent SET action = 'x'",
        "DELETE FROM tasks_app_auditevent",
        "TRUNCATE tasks_app_auditevent",
        "UPDATE tasks_app_auditcheckpoint SET hash = 'x'",
        "DELETE FROM tasks_app_auditcheckpoint",
    ],
)
def test_the_ledger_refuses_update_delete_and_truncate(supervisor, statement):
    plans_services.department_create(actor=supervisor, name="社会事务局")
    ledger.checkpoint_record()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("SET LOCAL gaoxin.ledger_strict = on")  # no test-runner TRUNCATE exception
        execute("SET CONSTRAINTS ALL IMMEDIATE")  # run pending FK checks before a TRUNCATE
        execute(statement)
    assert ledger.verify().ok and AuditEvent.objects.filter(action="department.create").exists()


@pytest.mark.django_db
def test_the_orm_cannot_edit_an_event_either(supervisor):
    plans_services.department_create(actor=supervisor, name="社会事务局")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(action="department.create").update(object_repr="改")


# --- Capture: changes that bypass the services --------------------------------------------------


@pytest.fixture
def world(transactional_db, plan_data):
    """Committed data (capture triggers fire at commit): a plan, a report, a review."""
    plan, _ = plans_services.plan_load(actor=None, data=plan_data)
    office = plans_services.user_create(
        actor=None, username="dcs", password="pw-dcs-123456", role=Role.SUPERVISOR
    )
    bureau = plans_services.department_create(actor=None, name="经济发展局")
    clerk = plans_services.user_create(
        actor=None, username="clerk", password="pw-clerk-123456", role=Role.STAFF, department=bureau
    )
    task = plan.tasks.filter(indicators__isnull=False).order_by("position").first()
    task = plans_services.task_assign(
        actor=office,
        task=task,
        lead_department=bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=20,
        narrative="进展顺利。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    reporting_services.status_update_review(
        actor=office, update=update, decision="returned", reason="请补充数据"
    )
    return {"plan": plan, "task": task, "update": update, "office": office}


def sql_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__endswith=".sql").order_by("seq"))


def test_a_raw_sql_update_of_a_task_is_recorded_with_before_and_after(world):
    task = world["task"]
    execute(
        "UPDATE tasks_app_task SET title = %s, progress = 55 WHERE id = %s", ["改过的标题", task.pk]
    )
    (event,) = sql_events()
    assert (event.action, event.object_type, event.object_id) == (
        "task.update.sql",
        "task",
        str(task.pk),
    )
    assert event.before == {"progress": 0, "title": task.title}
    assert event.after == {"progress": 55, "title": "改过的标题"}
    assert event.actor_username == "db:postgres" and event.request_id.startswith("txid:")
    assert ledger.verify().ok  # the PL/pgSQL hash is the Python hash


def test_bulk_updates_inserts_and_deletes_of_each_tracked_table_are_recorded(world):
    task, update = world["task"], world["update"]
    Task.objects.filter(pk=task.pk).update(deadline=dt.date(2020, 11, 30))
    Indicator.objects.filter(task=task).update(target_value="123.4500")
    Milestone.objects.bulk_create(
        [Milestone(task=task, title="选址", due_date=dt.date(2020, 6, 1))]
    )
    StatusUpdate.objects.filter(pk=update.pk).update(narrative="被改写")
    Review.objects.filter(update=update).delete()
    Task.co_departments.through.objects.create(task=task, department_id=task.lead_department_id)
    actions = [e.action for e in sql_events()]
    indicators = Indicator.objects.filter(task=task).count()
    assert actions == [
        "task.update.sql",
        *["indicator.update.sql"] * indicators,
        "milestone.insert.sql",
        "statusupdate.update.sql",
        "review.delete.sql",
        "task_co_departments.insert.sql",
    ]
    deadline = AuditEvent.objects.get(action="task.update.sql")
    assert (deadline.before, deadline.after) == (
        {"deadline": "2020-12-31"},
        {"deadline": "2020-11-30"},
    )
    target = AuditEvent.objects.filter(action="indicator.update.sql").first()
    assert target.after == {"target_value": "123.4500"}  # decimals as strings
    review = AuditEvent.objects.get(action="review.delete.sql")
    assert review.before["reason"] == "请补充数据" and review.after is None
    assert ledger.verify().ok


def test_changes_made_through_services_are_not_recorded_twice(world):
    task, office = world["task"], world["office"]
    before = AuditEvent.objects.count()
    plans_services.task_update(
        actor=office,
        task=Task.objects.get(pk=task.pk),
        expected_version=Task.objects.get(pk=task.pk).version,
        title="新标题",
    )
    plans_services.milestone_create(
        actor=office, task=task, title="开工", due_date=dt.date(2020, 5, 1)
    )
    assert sql_events() == []
    assert AuditEvent.objects.count() == before + 2
    assert ledger.verify().ok


def test_a_report_inserted_under_the_chain_lock_reads_back_as_written_with_its_event(world):
    """create_audited's INSERT takes the chain lock in the same statement (ledger.
    insert_locking_head): the row, its database-set fields and its one event agree."""
    update = StatusUpdate.objects.get(pk=world["update"].pk)
    assert (update.period, update.progress, update.narrative) == (
        dt.date(2020, 3, 1),
        20,
        "进展顺利。",
    )
    assert update.created_at == world["update"].created_at
    event = AuditEvent.objects.get(action="status_update.submit")
    assert (event.object_id, event.after["progress"]) == (str(update.pk), 20)
    assert sql_events() == [] and ledger.verify().ok


def test_derived_schedule_refreshes_are_not_events(world):
    before = AuditEvent.objects.count()
    plans_services.schedule_refresh_all(as_of=dt.date(2020, 7, 1))
    assert Task.objects.filter(schedule_as_of=dt.date(2020, 7, 1)).exists()
    assert AuditEvent.objects.count() == before


def test_a_rolled_back_change_leaves_no_event(world):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Task.objects.filter(pk=world["task"].pk).update(title="撤销")
        raise RuntimeError
    assert AuditEvent.objects.count() == before


# --- Concurrency --------------------------------------------------------------------------------


def test_twenty_concurrent_writers_never_fork_the_chain(world):
    """Ten threads write through services, ten through raw SQL (trigger appends), at once."""
    task_ids = list(Task.objects.order_by("position").values_list("pk", flat=True)[:10])
    start, errors, per_writer = threading.Barrier(20), [], 10

    def service_writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                audit_services.audit_log(
                    actor=None,
                    action="test.concurrent",
                    object_type="writer",
                    object_id=str(n),
                    after={"i": i},
                )
        except Exception as exc:  # reported below: any failure fails the test
            errors.append(exc)
        finally:
            connections.close_all()

    def sql_writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE tasks_app_task SET title = %s WHERE id = %s",
                        [f"并发{n}-{i}", task_ids[n]],
                    )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    before = AuditEvent.objects.count()
    threads = [threading.Thread(target=service_writer, args=(n,)) for n in range(10)]
    threads += [threading.Thread(target=sql_writer, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert AuditEvent.objects.count() == before + 20 * per_writer
    assert AuditEvent.objects.filter(action="task.update.sql").count() == 10 * per_writer
    result = ledger.verify()
    assert result.ok, result.broken
    assert result.checked == before + 20 * per_writer
