"""Every write: <entity>_<action>(*, actor, ...), one transaction, one audit row per change.

Nothing outside this module saves a model. A service that finds nothing to change writes nothing,
not even an audit row, so that re-running an import or a demo seed is a no-op.
"""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import permissions
from tasks_app.errors import Conflict, NotPermitted, PreconditionFailed, ServiceError
from tasks_app.models import (
    AuditEvent,
    ChangeRequest,
    Contribution,
    Department,
    Evidence,
    Indicator,
    IndicatorValue,
    Instruction,
    KeyArea,
    Milestone,
    Plan,
    Review,
    ReviewState,
    Role,
    Section,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.schedule import ScheduleState, schedule_state
from tasks_app.workcalendar import WorkingCalendar

# --- The audit helper -----------------------------------------------------------------------

_MASKED_FIELDS = {"password", "secret", "token"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited values of obj: foreign keys as ids, secrets masked."""
    values = {}
    for name in fields:
        if name in _MASKED_FIELDS:
            values[name] = "***"
            continue
        model_field = obj._meta.get_field(name)
        if model_field.many_to_many:
            values[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        elif model_field.is_relation:
            values[name] = getattr(obj, model_field.attname)
        else:
            values[name] = _jsonable(getattr(obj, name))
    return values


def audit_log(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """The one place that writes the ledger. Call it inside the service's transaction.

    The event joins the hash chain (tasks_app.ledger) and carries the request's IP, user agent
    and request id. On PostgreSQL it also marks the transaction as audited, so that the capture
    triggers do not record the service's own changes a second time.
    """
    from tasks_app import ledger

    department = getattr(actor, "department", None)
    return ledger.append(
        actor_id=actor.pk if actor else None,
        actor_username=actor.username if actor else "system",
        actor_role=actor.role if actor else "",
        actor_department=department.name if department else "",
        action=action,
        object_type=obj._meta.model_name if obj is not None else object_type,
        object_id=str(obj.pk) if obj is not None else object_id,
        object_repr=str(obj) if obj is not None else object_repr,
        before=before,
        after=after,
    )


def login_record(*, username: str, user: User | None, success: bool) -> AuditEvent:
    """Every login attempt, successful or not, is a ledger event (never the password)."""
    return audit_log(
        actor=user if success else None,
        action="auth.login" if success else "auth.login_failed",
        object_type="user",
        object_id=str(user.pk) if user else "",
        object_repr=username[:150],
        after={"username": username[:150]},
    )


def _create(actor: User | None, action: str, model: type[models.Model], **values) -> Any:
    obj = model.objects.create(**values)
    audit_log(actor=actor, action=action, obj=obj, after=snapshot(obj, list(values)))
    return obj


def _update(actor: User | None, action: str, obj: models.Model, **values) -> bool:
    """Set the changed values on obj and save them; False (and no audit row) when none changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return False
    before = snapshot(obj, changed)
    for name in changed:
        setattr(obj, name, values[name])
    obj.save(update_fields=changed)
    audit_log(actor=actor, action=action, obj=obj, before=before, after=snapshot(obj, changed))
    return True


# --- Departments and users ------------------------------------------------------------------


@transaction.atomic
def department_create(
    *,
    actor: User | None,
    name: str,
    short_name: str = "",
    parent: Department | None = None,
    is_sample: bool = False,
) -> Department:
    return _create(
        actor,
        "department.create",
        Department,
        name=name,
        short_name=short_name,
        parent=parent,
        is_sample=is_sample,
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
) -> User:
    user = User(
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
        return _create(actor, f"{kind}.create", model, **lookup, **values)
    if _update(actor, f"{kind}.update", obj, **values):
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


@transaction.atomic
def plan_load(*, actor: User | None, data: dict) -> tuple[Plan, LoadResult]:
    """Create or bring up to date a plan from its data file; idempotent.

    Items are matched by their codes, so a second load of the same data changes nothing.
    Departments, leaders and deadlines are not part of the data: the report names none.
    """
    result = LoadResult()
    meta = data["plan"]
    plan = _upsert(
        actor,
        result,
        Plan,
        {"year": meta["year"], "title": meta["title"]},
        {
            "government": meta.get("government", ""),
            "kind": meta.get("kind", Plan.Kind.WORK_REPORT),
            "report_date": dt.date.fromisoformat(meta["report_date"])
            if meta.get("report_date")
            else None,
        },
    )
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


@transaction.atomic
def plan_publish(*, actor: User | None, plan: Plan) -> Plan:
    if plan.status != Plan.Status.PUBLISHED:
        _update(
            actor,
            "plan.publish",
            plan,
            status=Plan.Status.PUBLISHED,
            published_at=timezone.now(),
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
    task = Task.objects.select_for_update().get(pk=task.pk)
    before_co = snapshot(task, ["co_departments"])
    changed = _update(
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
        _bump_version(task)
        task_schedule_refresh(task=task)
    return task


@transaction.atomic
def milestone_create(
    *, actor: User | None, task: Task, title: str, due_date: dt.date, is_sample: bool = False
) -> Milestone:
    milestone = _create(
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


# --- Admin writes ---------------------------------------------------------------------------


def _concrete_field_names(obj: models.Model) -> list[str]:
    return [f.name for f in obj._meta.concrete_fields if f.name not in ("id", "last_login")]


@transaction.atomic
def admin_save(
    *, actor: User, obj: models.Model, changed_fields: list[str], is_new: bool
) -> models.Model:
    """A save from the Django admin form, audited with the fields the form changed."""
    kind = obj._meta.model_name
    fields = [f for f in changed_fields if f in _concrete_field_names(obj)]
    if is_new:
        obj.save()
        audit_log(
            actor=actor,
            action=f"{kind}.create",
            obj=obj,
            after=snapshot(obj, _concrete_field_names(obj)),
        )
        return obj
    original = type(obj).objects.get(pk=obj.pk)
    before = snapshot(original, fields)
    obj.save()
    audit_log(
        actor=actor, action=f"{kind}.update", obj=obj, before=before, after=snapshot(obj, fields)
    )
    return obj


@transaction.atomic
def admin_save_related(*, actor: User, obj: models.Model, save) -> None:
    """Inline rows and many-to-many fields saved by an admin form: audited as one change."""
    related = ["co_departments"] if isinstance(obj, Task) else []
    before = snapshot(obj, related)
    before["indicators"] = (
        list(obj.indicators.values("id", "name", "target_value")) if isinstance(obj, Task) else []
    )
    save()
    after = snapshot(obj, related)
    after["indicators"] = (
        list(obj.indicators.values("id", "name", "target_value")) if isinstance(obj, Task) else []
    )
    if before != after:
        audit_log(
            actor=actor,
            action=f"{obj._meta.model_name}.update_related",
            obj=obj,
            before=_jsonable_tree(before),
            after=_jsonable_tree(after),
        )


def _jsonable_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable_tree(v) for v in value]
    return _jsonable(value)


@transaction.atomic
def admin_delete(*, actor: User, obj: models.Model) -> None:
    audit_log(
        actor=actor,
        action=f"{obj._meta.model_name}.delete",
        obj=obj,
        before=snapshot(obj, _concrete_field_names(obj)),
    )
    obj.delete()


# --- Schedule state (derived, not audited: it follows from audited facts and the date) --------

RED_MARGIN_POINTS = 20  # behind expected progress by more than this many points: red


def local_today() -> dt.date:
    return timezone.localdate()


def _schedule_for(task: Task, as_of: dt.date, calendar) -> ScheduleState:
    dues = sorted(m.due_date for m in task.milestones.all())
    return schedule_state(
        start=task.start_date,
        deadline=task.deadline,
        milestone_dues=dues,
        progress=task.progress,
        status=task.status,
        as_of=as_of,
        calendar=calendar,
        red_margin=RED_MARGIN_POINTS,
    )


def task_schedule(task: Task, as_of: dt.date | None = None) -> ScheduleState:
    """The schedule state of one task as of a date (today by default), computed fresh."""
    as_of = as_of or local_today()
    calendar = WorkingCalendar.load(
        min(as_of, task.deadline or as_of), max(as_of, task.deadline or as_of)
    )
    return _schedule_for(task, as_of, calendar)


def task_schedule_refresh(*, task: Task, as_of: dt.date | None = None) -> Task:
    """Store the task's light and expected progress, computed from its saved row.

    Reads the row afresh: a caller's instance may predate the change that prompted the refresh.
    """
    saved = Task.objects.prefetch_related("milestones").get(pk=task.pk)
    state = task_schedule(saved, as_of)
    task.expected_progress = state.expected_progress
    task.light = state.light
    task.schedule_as_of = as_of or local_today()
    Task.objects.filter(pk=task.pk).update(
        expected_progress=task.expected_progress,
        light=task.light,
        schedule_as_of=task.schedule_as_of,
    )
    return task


def schedule_refresh_all(*, as_of: dt.date | None = None, batch_size: int = 1000) -> int:
    """Recompute every task's stored light and expected progress; a few queries per batch."""
    as_of = as_of or local_today()
    tasks = Task.objects.prefetch_related("milestones").only(
        "id", "start_date", "deadline", "progress", "status"
    )
    deadlines = [d for d in Task.objects.values_list("deadline", flat=True).distinct() if d]
    calendar = WorkingCalendar.load(min([as_of, *deadlines]), max([as_of, *deadlines]))
    changed = []
    for task in tasks.iterator(chunk_size=batch_size):
        state = _schedule_for(task, as_of, calendar)
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


# --- Receipt, reports, reviews ----------------------------------------------------------------


def _require(condition: bool, message=None) -> None:
    if not condition:
        raise NotPermitted() if message is None else NotPermitted(message)


def _violates(error: IntegrityError, constraint: str) -> bool:
    """Whether error is the named unique constraint failing (PostgreSQL names it; SQLite names
    the constraint's columns, so the caller's constraint must be the table's only unique one
    on those columns)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    return "UNIQUE constraint failed" in str(error)


def _locked_task(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


def _bump_version(obj: models.Model) -> None:
    type(obj).objects.filter(pk=obj.pk).update(version=models.F("version") + 1)
    obj.version += 1


@transaction.atomic
def task_receive(*, actor: User, task: Task) -> Task:
    """签收: the lead department acknowledges the task; the first receipt's time stays."""
    _require(permissions.leads(actor, task), _("只有牵头单位可以签收任务。"))
    task = _locked_task(task)
    if task.received_at is None:
        _update(actor, "task.receive", task, received_at=timezone.now(), received_by=actor)
    return task


def _check_period(period: dt.date) -> None:
    today = local_today()
    if period > today.replace(day=1):
        raise ServiceError("period_in_future", _("报送期不能晚于本月。"), field="period")


def _check_report(task: Task, status: str, progress: int) -> None:
    if status == TaskStatus.DONE and progress != 100:
        raise ServiceError("done_needs_100", _("状态为“已完成”时进度须为100%。"), field="progress")


def _indicator_rows(task: Task, values: dict[int, Decimal]) -> list[tuple[Indicator, Decimal]]:
    if not values:
        return []
    own = {i.pk: i for i in task.indicators.all()}
    unknown = [pk for pk in values if pk not in own]
    if unknown:
        raise ServiceError(
            "unknown_indicator",
            _("指标不属于该任务:%(ids)s") % {"ids": unknown},
            field="indicator_values",
        )
    return [(own[pk], value) for pk, value in values.items()]


@transaction.atomic
def status_update_submit(
    *,
    actor: User,
    task: Task,
    period: dt.date,
    status: str,
    progress: int,
    narrative: str,
    indicator_values: dict[int, Decimal] | None = None,
) -> StatusUpdate:
    _require(permissions.leads(actor, task), _("只有牵头单位可以报送进展。"))
    _check_period(period)
    _check_report(task, status, progress)
    rows = _indicator_rows(task, indicator_values or {})
    # One report per task and period is the database's rule (statusupdate_one_per_period): the
    # INSERT itself is the check, so two clerks racing for a period cannot both win, and a
    # submission takes no lock and no look-up first. The failed INSERT ends the transaction.
    try:
        update = _create(
            actor,
            "status_update.submit",
            StatusUpdate,
            task=task,
            period=period,
            status=status,
            progress=progress,
            narrative=narrative,
            author=actor,
        )
    except IntegrityError as error:
        if not _violates(error, "statusupdate_one_per_period"):
            raise
        raise Conflict("duplicate_period", _("该任务本期已报送,请修改已有报送。")) from error
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(update=update, indicator=ind, value=value) for ind, value in rows]
    )
    if rows:
        audit_log(
            actor=actor,
            action="status_update.indicator_values",
            obj=update,
            after={str(ind.pk): _jsonable(value) for ind, value in rows},
        )
    return update


@transaction.atomic
def status_update_correct(
    *,
    actor: User,
    update: StatusUpdate,
    expected_version: int,
    indicator_values: dict[int, Decimal] | None = None,
    **fields,
) -> StatusUpdate:
    """Correct an update not yet accepted; a returned one goes back to the review queue."""
    _require(permissions.leads(actor, update.task), _("只有牵头单位可以修改报送。"))
    update = StatusUpdate.objects.select_for_update().get(pk=update.pk)
    if update.version != expected_version:
        raise PreconditionFailed()
    if update.review_state == ReviewState.ACCEPTED:
        raise Conflict("already_accepted", _("已通过审核的报送不能修改。"))
    _check_report(
        update.task, fields.get("status", update.status), fields.get("progress", update.progress)
    )
    rows = _indicator_rows(update.task, indicator_values or {})
    resubmit = update.review_state == ReviewState.RETURNED
    extra = (
        {
            "review_state": ReviewState.SUBMITTED,
            "revision": update.revision + 1,
            "submitted_at": timezone.now(),
        }
        if resubmit
        else {}
    )
    _update(
        actor,
        "status_update.resubmit" if resubmit else "status_update.correct",
        update,
        **fields,
        **extra,
    )
    for indicator, value in rows:
        IndicatorValue.objects.update_or_create(
            update=update, indicator=indicator, defaults={"value": value}
        )
    _bump_version(update)
    return update


@transaction.atomic
def status_update_review(
    *, actor: User, update: StatusUpdate, decision: str, reason: str = ""
) -> StatusUpdate:
    """Accept (the update becomes the task's state of record) or return with a reason."""
    _require(permissions.is_office(actor), _("只有督查室可以审核报送。"))
    update = StatusUpdate.objects.select_for_update().get(pk=update.pk)
    if update.review_state != ReviewState.SUBMITTED:
        raise Conflict("not_awaiting_review", _("该报送不在待审核状态。"))
    if decision == Review.Decision.RETURNED and not reason.strip():
        raise ServiceError("reason_required", _("退回须说明理由。"), field="reason")
    if decision == Review.Decision.ACCEPTED and update.status == TaskStatus.DONE:
        if not update.evidence.exists():
            raise ServiceError("evidence_required", _("“已完成”须附佐证材料后方可通过。"))
    review = _create(
        actor,
        f"status_update.{decision}",
        Review,
        update=update,
        revision=update.revision,
        decision=decision,
        reason=reason.strip(),
        reviewer=actor,
    )
    _update(actor, "status_update.review_state", update, review_state=decision)
    _bump_version(update)
    if review.decision == Review.Decision.ACCEPTED:
        _make_state_of_record(actor, update)
    return update


def _make_state_of_record(actor: User, update: StatusUpdate) -> None:
    task = _locked_task(update.task)
    if _update(actor, "task.state_of_record", task, status=update.status, progress=update.progress):
        _bump_version(task)
    for value in update.values.select_related("indicator"):
        _update(actor, "indicator.actual", value.indicator, latest_actual=value.value)
    task_schedule_refresh(task=task)


# --- Evidence -------------------------------------------------------------------------------

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = {
    "pdf": [b"%PDF-"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "docx": [b"PK\x03\x04"],
    "xlsx": [b"PK\x03\x04"],
    "doc": [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
    "xls": [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
}
_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
}


def _evidence_extension(name: str, head: bytes, size: int) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if size == 0:
        raise ServiceError("file_empty", _("文件为空。"), field="file")
    if size > EVIDENCE_MAX_BYTES:
        raise ServiceError("file_too_large", _("文件不能超过10MB。"), field="file")
    if extension not in _SIGNATURES:
        raise ServiceError(
            "file_type_not_allowed", _("只接受 PDF、图片(PNG/JPG)和 Office 文档。"), field="file"
        )
    if not any(head.startswith(sig) for sig in _SIGNATURES[extension]):
        raise ServiceError("file_content_mismatch", _("文件内容与扩展名不符。"), field="file")
    return extension


@transaction.atomic
def evidence_attach(*, actor: User, update: StatusUpdate, uploaded) -> Evidence:
    _require(permissions.leads(actor, update.task), _("只有牵头单位可以上传佐证材料。"))
    if update.review_state == ReviewState.ACCEPTED:
        raise Conflict("already_accepted", _("已通过审核的报送不能再添加材料。"))
    uploaded.seek(0)
    head = uploaded.read(16)
    extension = _evidence_extension(uploaded.name, head, uploaded.size)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    evidence = Evidence(
        update=update,
        original_name=uploaded.name[-200:],
        size=uploaded.size,
        content_type=_CONTENT_TYPES[extension],
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    evidence.file.save(f"{uuid.uuid4().hex}.{extension}", uploaded, save=False)
    evidence.save()
    audit_log(
        actor=actor,
        action="evidence.attach",
        obj=evidence,
        after=snapshot(evidence, ["update", "original_name", "size", "sha256", "file"]),
    )
    return evidence


# --- Co-departments, leaders ------------------------------------------------------------------


@transaction.atomic
def contribution_submit(
    *, actor: User, task: Task, period: dt.date, narrative: str
) -> Contribution:
    _require(permissions.co_leads(actor, task), _("只有配合单位可以报送配合情况。"))
    _check_period(period)
    if Contribution.objects.filter(task=task, department=actor.department, period=period).exists():
        raise Conflict("duplicate_period", _("本单位本期已报送配合情况。"))
    return _create(
        actor,
        "contribution.submit",
        Contribution,
        task=task,
        department=actor.department,
        period=period,
        narrative=narrative,
        author=actor,
    )


@transaction.atomic
def instruction_create(*, actor: User, task: Task, text: str) -> Instruction:
    _require(permissions.is_leader(actor), _("只有区领导可以作出批示。"))
    return _create(actor, "instruction.create", Instruction, task=task, leader=actor, text=text)


@transaction.atomic
def instruction_mark_read(*, actor: User, instruction: Instruction) -> Instruction:
    _require(permissions.leads(actor, instruction.task), _("只有牵头单位可以阅知批示。"))
    if instruction.read_at is None:
        _update(actor, "instruction.read", instruction, read_at=timezone.now())
    return instruction


# --- Task edits and change control ------------------------------------------------------------

TASK_EDITABLE_FIELDS = (
    "title",
    "lead_department",
    "responsible_leader",
    "start_date",
    "deadline",
    "report_frequency",
)


@transaction.atomic
def task_update(*, actor: User, task: Task, expected_version: int, **fields) -> Task:
    """The office edits a task; after publication a deadline changes only by a change request."""
    _require(permissions.is_office(actor), _("只有督查室可以修改任务。"))
    task = _locked_task(task)
    if task.version != expected_version:
        raise PreconditionFailed()
    published = task.plan.status == Plan.Status.PUBLISHED
    if published and "deadline" in fields and fields["deadline"] != task.deadline:
        raise Conflict(
            "change_request_required", _("计划已发布,调整完成时限须提交变更申请并经督查室批准。")
        )
    start = fields.get("start_date", task.start_date)
    deadline = fields.get("deadline", task.deadline)
    if start and deadline and deadline < start:
        raise ServiceError(
            "deadline_before_start", _("完成时限不能早于开始日期。"), field="deadline"
        )
    if _update(actor, "task.update", task, **fields):
        _bump_version(task)
        task_schedule_refresh(task=task)
    return task


def _parse_change_value(field_name: str, raw: str):
    try:
        return dt.date.fromisoformat(raw) if field_name == "deadline" else Decimal(raw)
    except (ValueError, ArithmeticError):
        raise ServiceError("invalid_value", _("新值格式不正确。"), field="new_value") from None


@transaction.atomic
def change_request_create(
    *,
    actor: User,
    task: Task,
    field: str,
    new_value: str,
    reason: str,
    indicator: Indicator | None = None,
) -> ChangeRequest:
    # The office decides requests; it does not file them, so no one approves their own.
    _require(permissions.leads(actor, task), _("只有牵头单位可以提交变更申请。"))
    if task.plan.status != Plan.Status.PUBLISHED:
        raise Conflict("plan_not_published", _("计划尚未发布,可直接修改,无需变更申请。"))
    if field == ChangeRequest.Field.TARGET_VALUE and (
        indicator is None or indicator.task_id != task.pk
    ):
        raise ServiceError("indicator_required", _("请选择该任务的指标。"), field="indicator")
    parsed = _parse_change_value(field, new_value)
    current = task.deadline if field == ChangeRequest.Field.DEADLINE else indicator.target_value
    if field == ChangeRequest.Field.DEADLINE and task.start_date and parsed < task.start_date:
        raise ServiceError(
            "deadline_before_start", _("完成时限不能早于开始日期。"), field="new_value"
        )
    if ChangeRequest.objects.filter(
        task=task, field=field, indicator=indicator, state=ChangeRequest.State.PENDING
    ).exists():
        raise Conflict("change_request_pending", _("已有待审批的同类变更申请。"))
    return _create(
        actor,
        "change_request.create",
        ChangeRequest,
        task=task,
        indicator=indicator,
        field=field,
        old_value=str(_jsonable(current) or ""),
        new_value=str(_jsonable(parsed)),
        reason=reason,
        requested_by=actor,
    )


@transaction.atomic
def change_request_decide(
    *, actor: User, change: ChangeRequest, approve: bool, note: str = ""
) -> ChangeRequest:
    _require(permissions.is_office(actor), _("只有督查室可以审批变更申请。"))
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.state != ChangeRequest.State.PENDING:
        raise Conflict("already_decided", _("该变更申请已审批。"))
    state = ChangeRequest.State.APPROVED if approve else ChangeRequest.State.REJECTED
    _update(
        actor,
        f"change_request.{state}",
        change,
        state=state,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_note=note,
    )
    if approve:
        _apply_change(actor, change)
    return change


def _apply_change(actor: User, change: ChangeRequest) -> None:
    value = _parse_change_value(change.field, change.new_value)
    if change.field == ChangeRequest.Field.DEADLINE:
        task = _locked_task(change.task)
        _update(
            actor,
            "task.deadline_change",
            task,
            deadline=value,
            original_deadline=task.original_deadline or task.deadline,
        )
        _bump_version(task)
        task_schedule_refresh(task=task)
    else:
        indicator = change.indicator
        _update(
            actor,
            "indicator.target_change",
            indicator,
            target_value=value,
            original_target_value=indicator.original_target_value or indicator.target_value,
        )
