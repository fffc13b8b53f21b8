import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, snapshot, update_audited
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, PreconditionFailed, ServiceError
from tasks_app.common.services import require, require_acts_for, task_locked, version_bump
from tasks_app.models import (
    Department,
    Indicator,
    KeyArea,
    Milestone,
    Plan,
    Role,
    Section,
    Task,
    User,
)
from tasks_app.plans.selectors import schedule_for, task_schedule
from tasks_app.plans.tenants import Government, default_government_id, government_named
from tasks_app.plans.workcalendar import WorkingCalendar

# --- Departments and users ------------------------------------------------------------------


@transaction.atomic
def department_create(
    *,
    actor: User | None,
    name: str,
    short_name: str = "",
    parent: Department | None = None,
    is_sample: bool = False,
    government: Government | None = None,
) -> Department:
    """In `government`, else the actor's, else the parent's (the command line: the default)."""
    government_id = _government_id(government, actor, parent)
    require_same_government(government_id, parent=parent)
    return create_audited(
        actor,
        "department.create",
        Department,
        name=name,
        short_name=short_name,
        parent=parent,
        is_sample=is_sample,
        government_id=government_id,
    )


def _government_id(government, actor, *owners) -> int:
    for owner in (government, actor, *owners):
        if owner is not None:
            return owner.pk if isinstance(owner, Government) else owner.government_id
    return default_government_id()


def require_same_government(government_id: int, **related) -> None:
    """Rows of one government name only that government's departments and people: another's
    id is refused (ServiceError on the field), whatever the form or API let through."""
    for name, value in related.items():
        for obj in value if isinstance(value, list | tuple | set) else [value]:
            if obj is not None and obj.government_id != government_id:
                raise ServiceError(
                    "other_government", _("不能选用其他政府的部门或人员。"), field=name
                )


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    department: Department | None = None,
    display_name: str = "",
    is_sample: bool = False,
    government: Government | None = None,
) -> User:
    """In `government`, else the department's, else the actor's (else the default)."""
    user = User(
        government_id=_government_id(government, department, actor),
        username=username,
        role=role,
        department=department,
        display_name=display_name,
        is_sample=is_sample,
        is_staff=role in (Role.ADMIN, Role.SUPERVISOR),
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user.save()
    fields = ["username", "role", "department", "display_name", "is_sample", "password"]
    audit_log(actor=actor, action="user.create", obj=user, after=snapshot(user, fields))
    return user


# --- Loading a plan from data ---------------------------------------------------------------


@dataclass
class LoadResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(
    actor: User | None,
    result: LoadResult,
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
) -> Any:
    kind = model._meta.model_name
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        result.count(result.created, kind)
        return create_audited(actor, f"{kind}.create", model, **lookup, **values)
    if update_audited(actor, f"{kind}.update", obj, **values):
        result.count(result.updated, kind)
    return obj


def _decimal(value: str | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def _indicator_values(spec: dict) -> dict[str, Any]:
    return {
        "name": spec["name"],
        "unit": spec.get("unit", ""),
        "comparator": spec["comparator"],
        "target_value": _decimal(spec["value"]),
        "target_value_max": _decimal(spec.get("value_max")),
        "source_text": spec["text"],
    }


def _load_task(actor, result, plan, spec, *, kind, position, section=None, key_area=None):
    task = _upsert(
        actor,
        result,
        Task,
        {"plan": plan, "code": spec["code"]},
        {
            "title": spec["title"],
            "source_text": spec["source_text"],
            "kind": kind,
            "section": section,
            "key_area": key_area,
            "position": position,
        },
    )
    for index, indicator in enumerate(spec.get("indicators", []), start=1):
        _upsert(
            actor,
            result,
            Indicator,
            {"plan": plan, "task": task, "position": index},
            _indicator_values(indicator),
        )
    return task


# What a shipped plan starts with; the office changes it (plan_rules_set, or the admin).
SHIPPED_PLAN_RULES = {
    "ranking_enabled": True,
    "ranking_reason": "沿用区督查室红黑榜考核:每月按报送率、按时率、一次通过率、完成率和亮灯情况"
    "排名,督促牵头单位按时报送(示例,督查室可修改或关闭)。",
    "evidence_required": True,
    "evidence_reason": "“已完成”须有可查的成果(验收、批复、建成等材料),以免只报不做"
    "(示例,督查室可修改或关闭)。",
}


@transaction.atomic
def plan_rules_set(
    *,
    actor: User,
    plan: Plan,
    ranking_enabled: bool,
    ranking_reason: str = "",
    evidence_required: bool,
    evidence_reason: str = "",
) -> Plan:
    """Turn a plan's 减负 rules (红黑榜, evidence for 已完成) on or off. A rule turned on needs
    the office's reason, which departments read on their workbench and task pages."""
    require_acts_for(actor, plan.government_id)
    require(permissions.is_office(actor), _("只有督查室可以设置计划规则。"))
    ranking_reason, evidence_reason = ranking_reason.strip(), evidence_reason.strip()
    if ranking_enabled and not ranking_reason:
        raise ServiceError("reason_required", _("启用红黑榜须说明理由。"), field="ranking_reason")
    if evidence_required and not evidence_reason:
        raise ServiceError(
            "reason_required", _("要求佐证材料须说明理由。"), field="evidence_reason"
        )
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    update_audited(
        actor,
        "plan.rules",
        plan,
        ranking_enabled=ranking_enabled,
        ranking_reason=ranking_reason if ranking_enabled else "",
        evidence_required=evidence_required,
        evidence_reason=evidence_reason if evidence_required else "",
    )
    return plan


@transaction.atomic
def plan_load(
    *, actor: User | None, data: dict, government: Government | None = None
) -> tuple[Plan, LoadResult]:
    """Create or bring up to date a plan from its data file; idempotent.

    Items are matched by their codes, so a second load of the same data changes nothing.
    Departments, leaders and deadlines are not part of the data: the report names none.
    The plan belongs to `government`, else to the government the data names (created if
    new), else to the default government.
    """
    result = LoadResult()
    meta = data["plan"]
    government = government or government_named(meta.get("government", ""))
    key = {"government": government, "year": meta["year"], "title": meta["title"]}
    shipped_new = not Plan.objects.filter(**key).exists()
    plan = _upsert(
        actor,
        result,
        Plan,
        key,
        {
            "kind": meta.get("kind", Plan.Kind.WORK_REPORT),
            "report_date": dt.date.fromisoformat(meta["report_date"])
            if meta.get("report_date")
            else None,
        },
    )
    if shipped_new:
        # The shipped plan keeps the rules it had before they became settings (README).
        update_audited(actor, "plan.rules", plan, **SHIPPED_PLAN_RULES)
    position = 0
    for spec in data.get("headline_targets", []):
        position += 1
        _load_task(actor, result, plan, spec, kind=Task.Kind.HEADLINE_TARGET, position=position)
    for section_spec in data["sections"]:
        section = _upsert(
            actor,
            result,
            Section,
            {"plan": plan, "number": section_spec["number"]},
            {"title": section_spec["title"]},
        )
        for area_spec in section_spec["key_areas"]:
            key_area = _upsert(
                actor,
                result,
                KeyArea,
                {"section": section, "number": area_spec["number"]},
                {"title": area_spec["title"]},
            )
            for spec in area_spec["tasks"]:
                position += 1
                _load_task(
                    actor,
                    result,
                    plan,
                    spec,
                    kind=Task.Kind.WORK_ITEM,
                    position=position,
                    section=section,
                    key_area=key_area,
                )
    return plan, result


# What an indicator's deletion records of it.
INDICATOR_DELETED_FIELDS = ["name", "target_value", "unit", "comparator"]


@transaction.atomic
def task_indicators_set(
    *, actor: User | None, task: Task, indicators: list[dict[str, Any]]
) -> bool:
    """The task's targets, in order: each upserted at its position, the positions beyond deleted.

    indicators: each target's field values (name, unit, comparator, target_value,
    target_value_max, source_text). Whether anything changed.
    """
    require_acts_for(actor, task.government_id)
    result = LoadResult()
    for position, values in enumerate(indicators, start=1):
        lookup = {"plan": task.plan, "task": task, "position": position}
        _upsert(actor, result, Indicator, lookup, values)
    surplus = list(task.indicators.filter(position__gt=len(indicators)))
    for indicator in surplus:
        before = snapshot(indicator, INDICATOR_DELETED_FIELDS)
        audit_log(actor=actor, action="indicator.delete", obj=indicator, before=before)
        indicator.delete()
    return result.changed or bool(surplus)


@transaction.atomic
def plan_publish(*, actor: User | None, plan: Plan) -> Plan:
    require_acts_for(actor, plan.government_id)
    if plan.status != Plan.Status.PUBLISHED:
        update_audited(
            actor,
            "plan.publish",
            plan,
            status=Plan.Status.PUBLISHED,
            published_at=clock.now(),
        )
    return plan


# --- Assigning tasks ------------------------------------------------------------------------


@transaction.atomic
def task_assign(
    *,
    actor: User | None,
    task: Task,
    lead_department: Department | None,
    co_departments: list[Department] = (),
    responsible_leader: User | None = None,
    start_date: dt.date | None = None,
    deadline: dt.date | None = None,
    is_sample: bool = False,
) -> Task:
    require_acts_for(actor, task.government_id)
    task = Task.objects.select_for_update().get(pk=task.pk)
    require_same_government(
        task.government_id,
        lead_department=lead_department,
        co_departments=list(co_departments),
        responsible_leader=responsible_leader,
    )
    before_co = snapshot(task, ["co_departments"])
    changed = update_audited(
        actor,
        "task.assign",
        task,
        lead_department=lead_department,
        responsible_leader=responsible_leader,
        start_date=start_date,
        deadline=deadline,
        assignment_is_sample=is_sample,
    )
    wanted_co = sorted(d.pk for d in co_departments)
    if before_co["co_departments"] != wanted_co:
        task.co_departments.set(co_departments)
        audit_log(
            actor=actor,
            action="task.co_departments",
            obj=task,
            before=before_co,
            after={"co_departments": wanted_co},
        )
        changed = True
    if changed:
        version_bump(task)
        task_schedule_refresh(task=task)
    return task


@transaction.atomic
def milestone_create(
    *, actor: User | None, task: Task, title: str, due_date: dt.date, is_sample: bool = False
) -> Milestone:
    require_acts_for(actor, task.government_id)
    milestone = create_audited(
        actor,
        "milestone.create",
        Milestone,
        task=task,
        title=title,
        due_date=due_date,
        is_sample=is_sample,
    )
    task_schedule_refresh(task=task)
    return milestone


def task_schedule_refresh(*, task: Task, as_of: dt.date | None = None) -> Task:
    """Store the task's light and expected progress, computed from its saved row.

    Reads the row afresh: a caller's instance may predate the change that prompted the refresh.
    """
    saved = Task.objects.prefetch_related("milestones").get(pk=task.pk)
    state = task_schedule(saved, as_of)
    task.expected_progress = state.expected_progress
    task.light = state.light
    task.schedule_as_of = as_of or clock.today()
    Task.objects.filter(pk=task.pk).update(
        expected_progress=task.expected_progress,
        light=task.light,
        schedule_as_of=task.schedule_as_of,
    )
    return task


def schedule_refresh_all(*, as_of: dt.date | None = None, batch_size: int = 1000) -> int:
    """Recompute every task's stored light and expected progress; a few queries per batch."""
    as_of = as_of or clock.today()
    tasks = Task.objects.prefetch_related("milestones").only(
        "id", "start_date", "deadline", "progress", "status"
    )
    deadlines = [d for d in Task.objects.values_list("deadline", flat=True).distinct() if d]
    calendar = WorkingCalendar.load(min([as_of, *deadlines]), max([as_of, *deadlines]))
    changed = []
    for task in tasks.iterator(chunk_size=batch_size):
        state = schedule_for(task, as_of, calendar)
        task.expected_progress, task.light, task.schedule_as_of = (
            state.expected_progress,
            state.light,
            as_of,
        )
        changed.append(task)
    Task.objects.bulk_update(
        changed, ["expected_progress", "light", "schedule_as_of"], batch_size=batch_size
    )
    return len(changed)


# --- Task edits and change control ------------------------------------------------------------


@transaction.atomic
def task_update(*, actor: User, task: Task, expected_version: int, **fields) -> Task:
    """The office edits a task; after publication a deadline changes only by a change request."""
    require_acts_for(actor, task.government_id)
    require(permissions.is_office(actor), _("只有督查室可以修改任务。"))
    task = task_locked(task)
    if task.version != expected_version:
        raise PreconditionFailed()
    published = task.plan.status == Plan.Status.PUBLISHED
    if published and "deadline" in fields and fields["deadline"] != task.deadline:
        raise Conflict(
            "change_request_required", _("计划已发布,调整完成时限须提交变更申请并经督查室批准。")
        )
    require_same_government(
        task.government_id,
        lead_department=fields.get("lead_department"),
        responsible_leader=fields.get("responsible_leader"),
    )
    start = fields.get("start_date", task.start_date)
    deadline = fields.get("deadline", task.deadline)
    if start and deadline and deadline < start:
        raise ServiceError(
            "deadline_before_start", _("完成时限不能早于开始日期。"), field="deadline"
        )
    if update_audited(actor, "task.update", task, **fields):
        version_bump(task)
        task_schedule_refresh(task=task)
    return task
