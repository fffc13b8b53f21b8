"""A 任务分解表 applied to the register: departments, leaders, deadlines and targets.

A sheet of thousands of rows is written in bulk statements with its ledger events chained in one
batch (audit.ledger_batch), to the same result as the per-row services.
"""

from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from tasks_app.audit import ledger_batch
from tasks_app.audit import services as audit_services
from tasks_app.common.errors import ServiceError
from tasks_app.importer import breakdown
from tasks_app.importer.deadlines import parse_deadline
from tasks_app.importer.drafts import target_key
from tasks_app.importer.services import department_lookup, require_office
from tasks_app.models import (
    Department,
    Indicator,
    Plan,
    Role,
    Task,
    User,
)
from tasks_app.plans import selectors
from tasks_app.plans.schedule import local_today
from tasks_app.plans.workcalendar import WorkingCalendar

# --- Breakdown spreadsheet -> register -------------------------------------------------------


class BreakdownRejected(ServiceError):
    """The sheet has bad rows; nothing was written. errors: [(row, column, reason)]."""

    def __init__(self, errors: list[breakdown.RowError]):
        super().__init__(
            "breakdown_rejected",
            _("任务分解表有 %(n)d 处错误,未导入任何内容。") % {"n": len(errors)},
        )
        self.errors = [error.as_dict() for error in errors]


@dataclass
class _Planned:
    task: Task
    row: int
    title: str
    lead: Department | None
    co: list[Department]
    leader: User | None
    deadline: object
    targets: list[dict] | None


@transaction.atomic
def breakdown_import(*, actor: User | None, plan: Plan, data: bytes, filename: str) -> dict:
    """Apply a 任务分解表 to plan's tasks, all or nothing; {"rows", "changed"}."""
    require_office(actor)
    try:
        rows = breakdown.read_rows(data, filename)
    except breakdown.BreakdownFileError as error:
        raise BreakdownRejected(error.errors) from error
    planned, errors = _check_rows(plan, rows)
    if errors:
        raise BreakdownRejected(errors)
    changed = _apply_all(actor, plan, planned)
    return {"rows": len(planned), "changed": changed}


def _check_rows(plan: Plan, rows: list[breakdown.Row]) -> tuple[list[_Planned], list]:
    tasks = {
        task.code: task
        for task in plan.tasks.select_related("lead_department").prefetch_related("indicators")
    }
    departments = department_lookup()
    leaders = _leaders()
    errors, planned, seen = [], [], {}
    for row in rows:
        row_errors: list[breakdown.RowError] = []
        code = breakdown.text(row.values.get("序号"))
        task = _row_task(row, code, tasks, seen, row_errors)
        title = breakdown.text(row.values.get("任务内容"))
        if not title:
            row_errors.append(breakdown.RowError(row.number, "任务内容", "任务内容为空"))
        lead = _row_lead(row, departments, row_errors)
        co = _row_departments(row, "配合单位", departments, row_errors)
        leader = _row_leader(row, leaders, row_errors)
        deadline = _row_deadline(row, plan, task, row_errors)
        targets = _row_targets(row, plan, task, row_errors)
        errors += row_errors
        if not row_errors:
            planned.append(_Planned(task, row.number, title, lead, co, leader, deadline, targets))
    return planned, errors


def _row_task(row, code, tasks, seen, errors) -> Task | None:
    if not code:
        errors.append(breakdown.RowError(row.number, "序号", "序号为空"))
        return None
    if code in seen:
        errors.append(breakdown.RowError(row.number, "序号", f"序号“{code}”与第{seen[code]}行重复"))
        return None
    seen[code] = row.number
    task = tasks.get(code)
    if task is None:
        errors.append(
            breakdown.RowError(
                row.number, "序号", f"计划中没有序号为“{code}”的任务(请先导入并发布工作报告)"
            )
        )
    return task


def _row_lead(row, departments, errors) -> Department | None:
    names = _row_departments(row, "牵头单位", departments, errors)
    if len(names) > 1:
        errors.append(
            breakdown.RowError(row.number, "牵头单位", "牵头单位只能填写一个(其余请填入配合单位)")
        )
        return None
    return names[0] if names else None


def _row_departments(row, column, departments, errors) -> list[Department]:
    found = []
    for name in breakdown.split_names(row.values.get(column)):
        department = departments.get(name)
        if department is None:
            errors.append(
                breakdown.RowError(
                    row.number, column, f"未知单位“{name}”(请使用系统中的部门名称或已登记的别名)"
                )
            )
        elif department not in found:
            found.append(department)
    return found


def _leaders() -> dict[str, User]:
    leaders = {}
    for user in User.objects.filter(role=Role.LEADER, is_active=True):
        leaders.setdefault(user.username, user)
        if user.display_name:
            leaders.setdefault(user.display_name, user)
    return leaders


def _row_leader(row, leaders, errors) -> User | None:
    name = breakdown.text(row.values.get("责任领导"))
    if not name:
        return None
    leader = leaders.get(name)
    if leader is None:
        errors.append(breakdown.RowError(row.number, "责任领导", f"未知的区领导“{name}”"))
    return leader


def _row_deadline(row, plan, task, errors):
    raw = row.values.get("完成时限")
    try:
        deadline = parse_deadline(raw, plan.year)
    except ValueError as error:
        errors.append(breakdown.RowError(row.number, "完成时限", str(error)))
        return None
    published = plan.status == Plan.Status.PUBLISHED
    if task and published and task.deadline and deadline != task.deadline:
        errors.append(
            breakdown.RowError(
                row.number, "完成时限", "计划已发布,已有的完成时限须通过变更申请修改"
            )
        )
    return deadline


def _row_targets(row, plan, task, errors) -> list[dict] | None:
    names = [n.strip() for n in breakdown.text(row.values.get("指标")).split("\n") if n.strip()]
    values = [v.strip() for v in breakdown.text(row.values.get("目标值")).split("\n") if v.strip()]
    if not names and not values:
        return None  # both empty: the task's targets stay as they are
    if len(names) != len(values):
        errors.append(
            breakdown.RowError(row.number, "目标值", "指标与目标值的个数不一致(多个时每行一个)")
        )
        return None
    targets = []
    for name, raw in zip(names, values, strict=True):
        try:
            targets.append({"name": name[:100], **breakdown.parse_target(raw), "text": raw})
        except ValueError as error:
            errors.append(breakdown.RowError(row.number, "目标值", str(error)))
    if task and plan.status == Plan.Status.PUBLISHED and _targets_differ(task, targets):
        errors.append(
            breakdown.RowError(row.number, "目标值", "计划已发布,目标值须通过变更申请修改")
        )
    return targets


def _targets_differ(task: Task, targets: list[dict]) -> bool:
    stored = [target_key(i) for i in sorted(task.indicators.all(), key=lambda i: i.position)]
    wanted = [
        (
            t["name"],
            t["value"].normalize(),
            t["value_max"].normalize() if t["value_max"] else None,
            t["unit"],
            t["comparator"],
        )
        for t in targets
    ]
    return stored != wanted


def _apply_all(actor: User | None, plan: Plan, planned: list[_Planned]) -> list[str]:
    """Write the checked rows; the codes of the tasks that changed.

    The result is what applying the rows one at a time through audit_services.update_audited,
    services.task_assign and services._upsert wrote (tests/test_import_breakdown_bulk.py holds
    that reference): the same field values, versions, lights, co-department links, indicators
    and ledger events in the same order. Done in a number of queries that does not grow with
    the rows: every task is locked and read once, the writes are bulk statements, and the
    events are chained in one batch.
    """
    tasks = _locked_tasks(planned)
    links = _co_links(tasks)
    events = ledger_batch.EventBatch(actor)
    writes = _Writes()
    changed = []
    for item in planned:
        task = tasks[item.task.pk]
        if _apply_row(events, writes, plan, item, task, links.get(task.pk, {})):
            changed.append(task.code)
    writes.save()
    events.write()
    return changed


def _locked_tasks(planned: list[_Planned]) -> dict[int, Task]:
    """The rows' tasks, locked as task_assign locks each one, read afresh with their milestones."""
    ids = [item.task.pk for item in planned]
    return {
        task.pk: task
        for task in Task.objects.select_for_update()
        .filter(pk__in=ids)
        .prefetch_related("milestones")
    }


def _co_links(tasks: dict[int, Task]) -> dict[int, dict[int, int]]:
    """task id -> {department id: link row id} of the co-department links."""
    links: dict[int, dict[int, int]] = {}
    through = Task.co_departments.through
    rows = through.objects.filter(task_id__in=list(tasks)).values_list(
        "id", "task_id", "department_id"
    )
    for link_id, task_id, department_id in rows:
        links.setdefault(task_id, {})[department_id] = link_id
    return links


@dataclass
class _Writes:
    """What the rows change, gathered to be written in bulk statements."""

    task_fields: set[str] = field(default_factory=set)
    tasks: dict[int, Task] = field(default_factory=dict)
    refresh: list[Task] = field(default_factory=list)
    links_added: list[tuple[int, int]] = field(default_factory=list)
    links_removed: list[int] = field(default_factory=list)
    indicators_new: list[Indicator] = field(default_factory=list)
    indicators_changed: dict[int, Indicator] = field(default_factory=dict)
    indicator_fields: set[str] = field(default_factory=set)
    indicators_deleted: list[int] = field(default_factory=list)

    def task_changed(self, task: Task, fields: list[str]) -> None:
        self.tasks[task.pk] = task
        self.task_fields.update(fields)

    def save(self) -> None:
        self._refresh_schedules()
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

    def _refresh_schedules(self) -> None:
        """services.task_schedule_refresh for every reassigned task, on one working calendar."""
        if not self.refresh:
            return
        as_of = local_today()
        dates = [as_of, *(task.deadline for task in self.refresh if task.deadline)]
        calendar = WorkingCalendar.load(min(dates), max(dates))
        for task in self.refresh:
            state = selectors.schedule_for(task, as_of, calendar)
            task.expected_progress, task.light, task.schedule_as_of = (
                state.expected_progress,
                state.light,
                as_of,
            )
            self.task_changed(task, ["expected_progress", "light", "schedule_as_of"])


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


_ASSIGNED = ["lead_department", "responsible_leader", "start_date", "deadline"]


def _set_fields(
    events: ledger_batch.EventBatch, action: str, obj: models.Model, values: dict
) -> list[str]:
    """update_audited without the save: the changed field names, noted in the ledger."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        before = audit_services.snapshot(obj, changed)
        for name in changed:
            setattr(obj, name, values[name])
        events.note(action, obj, before=before, after=audit_services.snapshot(obj, changed))
    return changed


def _apply_row(events, writes: _Writes, plan: Plan, item: _Planned, task: Task, links) -> bool:
    """One row, as _apply did it: title, then task_assign, then the targets."""
    changed = False
    if _set_fields(events, "task.update", task, {"title": item.title[:200]}):
        task.version += 1
        writes.task_changed(task, ["title", "version"])
        changed = True
    before = (
        task.lead_department_id,
        sorted(links),
        task.responsible_leader_id,
        task.deadline,
    )
    wanted = (
        item.lead.pk if item.lead else None,
        sorted(d.pk for d in item.co),
        item.leader.pk if item.leader else None,
        item.deadline,
    )
    if before != wanted:
        _assign(events, writes, task, item, links)
        changed = True
    if item.targets is not None and _targets_differ(item.task, item.targets):
        _apply_targets(events, writes, plan, item.task, item.targets)
        changed = True
    return changed


def _assign(events, writes: _Writes, task: Task, item: _Planned, links: dict[int, int]) -> None:
    """services.task_assign(lead, co, leader, start_date unchanged, deadline), not yet saved."""
    values = {
        # Compared and snapshotted by id, as _update compares instances (no query per row).
        "lead_department_id": item.lead.pk if item.lead else None,
        "responsible_leader_id": item.leader.pk if item.leader else None,
        "start_date": task.start_date,
        "deadline": item.deadline,
        "assignment_is_sample": False,
    }
    names = dict(zip(values, [*_ASSIGNED, "assignment_is_sample"], strict=True))
    fields = [names[key] for key, value in values.items() if getattr(task, key) != value]
    changed = bool(fields)
    if fields:
        before = audit_services.snapshot(task, fields)
        for key, value in values.items():
            setattr(task, key, value)
        events.note("task.assign", task, before=before, after=audit_services.snapshot(task, fields))
        writes.task_changed(task, fields)
    wanted_co = sorted(d.pk for d in item.co)
    if sorted(links) != wanted_co:
        events.note(
            "task.co_departments",
            task,
            before={"co_departments": sorted(links)},
            after={"co_departments": wanted_co},
        )
        writes.links_removed += [link for dept, link in links.items() if dept not in wanted_co]
        writes.links_added += [(task.pk, dept) for dept in wanted_co if dept not in links]
        changed = True
    if changed:
        task.version += 1
        writes.task_changed(task, ["version"])
        writes.refresh.append(task)


def _apply_targets(events, writes: _Writes, plan: Plan, task: Task, targets: list[dict]) -> None:
    """services._upsert of each target by position, then the surplus positions deleted."""
    stored = sorted(task.indicators.all(), key=lambda i: (i.plan_id, i.position, i.pk))
    by_position = {}
    for indicator in stored:
        if indicator.plan_id == plan.pk:
            by_position.setdefault(indicator.position, indicator)
    for position, target in enumerate(targets, start=1):
        values = {
            "name": target["name"],
            "unit": target["unit"][:20],
            "comparator": target["comparator"],
            "target_value": target["value"],
            "target_value_max": target["value_max"],
            "source_text": target["text"][:300],
        }
        indicator = by_position.get(position)
        if indicator is None:
            lookup = {"plan": plan, "task": task, "position": position}
            indicator = Indicator(**lookup, **values)
            writes.indicators_new.append(indicator)
            events.note(
                "indicator.create",
                indicator,
                after=audit_services.snapshot(indicator, [*lookup, *values]),
            )
            continue
        fields = _set_fields(events, "indicator.update", indicator, values)
        if fields:
            writes.indicators_changed[indicator.pk] = indicator
            writes.indicator_fields.update(fields)
    for indicator in stored:
        if indicator.position > len(targets):
            before = audit_services.snapshot(
                indicator, ["name", "target_value", "unit", "comparator"]
            )
            events.note("indicator.delete", indicator, before=before)
            writes.indicators_deleted.append(indicator.pk)
