"""A 任务分解表 applied to the register: departments, leaders, deadlines and targets.

Every row is checked before anything is written (all or nothing); a sheet of thousands of rows
is then written through plans.bulk.TaskBatch, to the same result as the per-row services.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.common.errors import ServiceError
from tasks_app.importer import breakdown
from tasks_app.importer.deadlines import parse_deadline
from tasks_app.importer.drafts import target_key
from tasks_app.importer.services import department_lookup, require_office
from tasks_app.models import (
    Department,
    Plan,
    Role,
    Task,
    User,
)
from tasks_app.plans.bulk import TaskBatch


class BreakdownRejected(ServiceError):
    """The sheet has bad rows; nothing was written. errors: [(row, column, reason)]."""

    def __init__(self, errors: list[breakdown.RowError]):
        super().__init__(
            "breakdown_rejected",
            _("任务分解表有 %(n)d 处错误,未导入任何内容。") % {"n": len(errors)},
        )
        self.errors = [error.as_dict() for error in errors]


@dataclass
class CheckedRow:
    """A row that passed the checks: its task and what the row sets on it."""

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
    planned, errors = breakdown_check(plan=plan, rows=rows)
    if errors:
        raise BreakdownRejected(errors)
    changed = _apply_all(actor, plan, planned)
    return {"rows": len(planned), "changed": changed}


def breakdown_check(
    *, plan: Plan, rows: list[breakdown.Row]
) -> tuple[list[CheckedRow], list[breakdown.RowError]]:
    """(the rows that passed, each naming its task, departments, leader, deadline and targets;
    the errors of those that did not). Nothing is written."""
    tasks = {
        task.code: task
        for task in plan.tasks.select_related("lead_department").prefetch_related("indicators")
    }
    departments = department_lookup(government_id=plan.government_id)
    leaders = _leaders(plan.government_id)
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
            planned.append(CheckedRow(task, row.number, title, lead, co, leader, deadline, targets))
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


def _leaders(government_id: int) -> dict[str, User]:
    leaders = {}
    for user in User.objects.filter(role=Role.LEADER, is_active=True, government_id=government_id):
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
    if task and plan.status == Plan.Status.PUBLISHED and targets_differ(task, targets):
        errors.append(
            breakdown.RowError(row.number, "目标值", "计划已发布,目标值须通过变更申请修改")
        )
    return targets


def targets_differ(task: Task, targets: list[dict]) -> bool:
    """Whether a row's targets differ from the task's stored ones (prefetched indicators)."""
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


def _apply_all(actor: User | None, plan: Plan, planned: list[CheckedRow]) -> list[str]:
    """Write the checked rows through one plans.bulk.TaskBatch; the codes of the tasks changed.

    The same writes and ledger events as the per-row services called row by row (task_update,
    task_assign, task_indicators_set), in a number of queries that does not grow with the rows.
    """
    batch = TaskBatch.lock(actor=actor, plan=plan, task_ids=[item.task.pk for item in planned])
    changed = [item.task.code for item in planned if _apply_row(batch, item)]
    batch.save()
    return changed


def _apply_row(batch: TaskBatch, item: CheckedRow) -> bool:
    """One row: its title; its assignment if that differs; its targets if they differ."""
    task = batch.tasks[item.task.pk]
    changed = batch.task_update(task, title=item.title[:200])
    stored = (
        task.lead_department_id,
        batch.co_department_ids(task),
        task.responsible_leader_id,
        task.deadline,
    )
    wanted = (
        item.lead.pk if item.lead else None,
        sorted(d.pk for d in item.co),
        item.leader.pk if item.leader else None,
        item.deadline,
    )
    if stored != wanted:
        batch.task_assign(
            task,
            lead_department=item.lead,
            co_departments=item.co,
            responsible_leader=item.leader,
            start_date=task.start_date,
            deadline=item.deadline,
        )
        changed = True
    if item.targets is not None and targets_differ(item.task, item.targets):
        batch.task_indicators_set(task, indicator_values(item.targets))
        changed = True
    return changed


def indicator_values(targets: list[dict]) -> list[dict]:
    """The sheet's targets as the field values of the task's indicators, by position."""
    return [
        {
            "name": target["name"],
            "unit": target["unit"][:20],
            "comparator": target["comparator"],
            "target_value": target["value"],
            "target_value_max": target["value_max"],
            "source_text": target["text"][:300],
        }
        for target in targets
    ]
