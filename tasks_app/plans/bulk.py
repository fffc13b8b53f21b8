"""The plans services for many rows at once: the same audited writes, in a few statements.

Through the per-row services (task_update, task_assign, task_indicators_set) a 2,000-row
任务分解表 took some 23 queries a row. TaskBatch writes what they write — the same field values,
versions, lights, co-department links, indicators and ledger events in the same order
(tests/importer/test_import_breakdown_bulk.py compares the two) — in a number of queries that
does not grow with the rows: the tasks are locked and read once, the writes are bulk statements,
and the events are appended to the chain in one batch (audit.ledger_batch). Both paths decide
what changed by the same rule, audit.services.change_apply.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from tasks_app.audit.ledger_batch import EventBatch
from tasks_app.common import clock
from tasks_app.models import Department, Indicator, Plan, Task, User
from tasks_app.plans.selectors import schedule_for
from tasks_app.plans.services import INDICATOR_DELETED_FIELDS
from tasks_app.plans.workcalendar import WorkingCalendar


class TaskBatch:
    """Writes to many tasks of one plan, as the per-row services make them, saved together.

    Protocol: TaskBatch.lock() locks and reads the tasks (as task_assign locks each one); call
    task_update, task_assign and task_indicators_set in the order the per-row services would
    run; save() writes the rows in bulk statements, then appends the events in the order they
    were noted. Nothing is written before save(). The services' checks (permissions, versions,
    published deadlines) are the caller's to make first.
    """

    def __init__(self, *, actor: User | None, plan: Plan, tasks: dict[int, Task]):
        self.plan = plan
        self.tasks = tasks
        self._events = EventBatch(actor)
        self._writes = _Writes()
        self._links = _co_links(tasks)  # as stored: task id -> {department id: link row id}
        self._co = {pk: set(links) for pk, links in self._links.items()}  # as set in the batch
        self._indicators: dict[int, dict[int, Indicator]] | None = None

    @classmethod
    def lock(cls, *, actor: User | None, plan: Plan, task_ids: list[int]) -> "TaskBatch":
        """The plan's tasks of task_ids, locked, read afresh with their milestones."""
        tasks = (
            Task.objects.select_for_update()
            .filter(plan=plan, pk__in=task_ids)
            .prefetch_related("milestones")
        )
        return cls(actor=actor, plan=plan, tasks={task.pk: task for task in tasks})

    def co_department_ids(self, task: Task) -> list[int]:
        return sorted(self._co.get(task.pk, ()))

    def task_update(self, task: Task, **values: Any) -> bool:
        """As services.task_update after its checks: "task.update", version, schedule refresh."""
        fields = self._events.updated("task.update", task, values)
        if fields:
            self._bump(task, fields)
        return bool(fields)

    def task_assign(
        self,
        task: Task,
        *,
        lead_department: Department | None,
        co_departments: list[Department] = (),
        responsible_leader: User | None = None,
        start_date=None,
        deadline=None,
        is_sample: bool = False,
    ) -> bool:
        """As services.task_assign: "task.assign", then "task.co_departments"; version, schedule."""
        values = {
            "lead_department": lead_department,
            "responsible_leader": responsible_leader,
            "start_date": start_date,
            "deadline": deadline,
            "assignment_is_sample": is_sample,
        }
        fields = self._events.updated("task.assign", task, values)
        before, wanted = self.co_department_ids(task), sorted(d.pk for d in co_departments)
        if before != wanted:
            self._events.note(
                "task.co_departments",
                task,
                before={"co_departments": before},
                after={"co_departments": wanted},
            )
            self._co[task.pk] = set(wanted)
        changed = bool(fields) or before != wanted
        if changed:
            self._bump(task, fields)
        return changed

    def task_indicators_set(self, task: Task, indicators: list[dict[str, Any]]) -> bool:
        """As services.task_indicators_set: each upserted at its position, the positions beyond
        deleted ("indicator.create", "indicator.update", "indicator.delete")."""
        stored = self._stored_indicators(task)
        changed = False
        for position, values in enumerate(indicators, start=1):
            indicator = stored.get(position)
            if indicator is None:
                lookup = {"plan": self.plan, "task": task, "position": position}
                indicator = Indicator(**lookup, **values)
                self._events.created("indicator.create", indicator, [*lookup, *values])
                self._writes.indicators_new.append(indicator)
                stored[position] = indicator
                changed = True
                continue
            fields = self._events.updated("indicator.update", indicator, values)
            if fields:
                self._writes.indicator_changed(indicator, fields)
                changed = True
        for position in sorted(p for p in stored if p > len(indicators)):
            indicator = stored.pop(position)
            self._events.deleted("indicator.delete", indicator, INDICATOR_DELETED_FIELDS)
            self._writes.indicator_deleted(indicator)
            changed = True
        return changed

    def save(self) -> None:
        """Write every row in bulk statements, then append the events to the ledger."""
        self._refresh_schedules()
        self._writes.co_links(self._links, self._co)
        self._writes.save()
        self._events.write()

    def _bump(self, task: Task, fields: list[str]) -> None:
        task.version += 1
        self._writes.task_changed(task, [*fields, "version"])
        self._writes.refresh[task.pk] = task

    def _stored_indicators(self, task: Task) -> dict[int, Indicator]:
        """Position -> indicator of the task in this plan, all tasks' read in one query at first
        use; kept up to date with the batch's own creates and deletes."""
        if self._indicators is None:
            self._indicators = {pk: {} for pk in self.tasks}
            rows = Indicator.objects.filter(plan=self.plan, task_id__in=list(self.tasks))
            for indicator in rows.order_by():
                self._indicators[indicator.task_id][indicator.position] = indicator
        return self._indicators[task.pk]

    def _refresh_schedules(self) -> None:
        """services.task_schedule_refresh of every changed task, on one working calendar."""
        tasks = list(self._writes.refresh.values())
        if not tasks:
            return
        as_of = clock.today()
        dates = [as_of, *(task.deadline for task in tasks if task.deadline)]
        calendar = WorkingCalendar.load(min(dates), max(dates))
        for task in tasks:
            state = schedule_for(task, as_of, calendar)
            task.expected_progress, task.light, task.schedule_as_of = (
                state.expected_progress,
                state.light,
                as_of,
            )
            self._writes.task_changed(task, ["expected_progress", "light", "schedule_as_of"])


def indicators_bulk_update(
    *, actor: User | None, changes: list[tuple[Indicator, dict[str, Any]]]
) -> list[Indicator]:
    """update_audited(actor, "indicator.update", indicator, **values) of each, in one statement
    and one ledger batch; the indicators that changed."""
    events = EventBatch(actor)
    writes = _Writes()
    for indicator, values in changes:
        fields = events.updated("indicator.update", indicator, values)
        if fields:
            writes.indicator_changed(indicator, fields)
    writes.save()
    events.write()
    return list(writes.indicators_changed.values())


def indicators_bulk_delete(*, actor: User | None, indicators: list[Indicator]) -> None:
    """Each indicator deleted with its "indicator.delete" event, in one statement and one batch."""
    events = EventBatch(actor)
    writes = _Writes()
    for indicator in indicators:
        events.deleted("indicator.delete", indicator, INDICATOR_DELETED_FIELDS)
        writes.indicator_deleted(indicator)
    writes.save()
    events.write()


@dataclass
class _Writes:
    """What a batch changes, gathered to be written in bulk statements."""

    tasks: dict[int, Task] = field(default_factory=dict)
    task_fields: set[str] = field(default_factory=set)
    refresh: dict[int, Task] = field(default_factory=dict)
    links_added: list[tuple[int, int]] = field(default_factory=list)
    links_removed: list[int] = field(default_factory=list)
    indicators_new: list[Indicator] = field(default_factory=list)
    indicators_changed: dict[int, Indicator] = field(default_factory=dict)
    indicator_fields: set[str] = field(default_factory=set)
    indicators_deleted: list[int] = field(default_factory=list)

    def task_changed(self, task: Task, fields: list[str]) -> None:
        self.tasks[task.pk] = task
        self.task_fields.update(fields)

    def indicator_changed(self, indicator: Indicator, fields: list[str]) -> None:
        if indicator.pk is None:
            return  # created in this batch: the INSERT carries its values
        self.indicators_changed[indicator.pk] = indicator
        self.indicator_fields.update(fields)

    def indicator_deleted(self, indicator: Indicator) -> None:
        if indicator.pk is None:
            self.indicators_new.remove(indicator)
            return
        self.indicators_changed.pop(indicator.pk, None)
        self.indicators_deleted.append(indicator.pk)

    def co_links(self, stored: dict[int, dict[int, int]], wanted: dict[int, set[int]]) -> None:
        """The link rows to delete and to insert to go from the stored links to the wanted."""
        for task_id, departments in wanted.items():
            links = stored.get(task_id, {})
            self.links_removed += [link for dept, link in links.items() if dept not in departments]
            self.links_added += [(task_id, dept) for dept in sorted(departments - set(links))]

    def save(self) -> None:
        _bulk_update(Task, list(self.tasks.values()), sorted(self.task_fields))
        through = Task.co_departments.through
        if self.links_removed:
            through.objects.filter(pk__in=self.links_removed).delete()
        if self.links_added:
            through.objects.bulk_create(
                [through(task_id=t, department_id=d) for t, d in self.links_added],
                ignore_conflicts=True,
            )
        _bulk_update(
            Indicator, list(self.indicators_changed.values()), sorted(self.indicator_fields)
        )
        if self.indicators_deleted:
            Indicator.objects.filter(pk__in=self.indicators_deleted).delete()
        if self.indicators_new:
            Indicator.objects.bulk_create(self.indicators_new)


def _co_links(tasks: dict[int, Task]) -> dict[int, dict[int, int]]:
    """task id -> {department id: link row id} of the co-department links."""
    links: dict[int, dict[int, int]] = {pk: {} for pk in tasks}
    through = Task.co_departments.through
    rows = through.objects.filter(task_id__in=list(tasks)).values_list(
        "id", "task_id", "department_id"
    )
    for link_id, task_id, department_id in rows:
        links[task_id][department_id] = link_id
    return links


def _bulk_update(model: type[models.Model], objs: list, fields: list[str]) -> None:
    """QuerySet.bulk_update(objs, fields); on PostgreSQL as one UPDATE ... FROM (VALUES ...).

    Django's bulk_update writes a CASE WHEN per row and field, which costs seconds of Python
    for a few thousand rows; the VALUES list is one statement whatever the number of rows.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    quote = connection.ops.quote_name
    key = model._meta.pk
    changed = [model._meta.get_field(name) for name in fields]
    columns = [key, *changed]
    row = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in columns) + ")"
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs for f in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} AS t SET "
            + ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in changed)
            + f" FROM (VALUES {', '.join([row] * len(objs))}) "
            + f"AS v({', '.join(quote(f.column) for f in columns)}) "
            + f"WHERE t.{quote(key.column)} = v.{quote(key.column)}",
            params,
        )
