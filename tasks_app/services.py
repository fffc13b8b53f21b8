"""Every write in gaoxin: <entity>_<action>(*, actor, ...), one transaction, one audit row per change.

Nothing outside this module saves a model. A service that finds nothing to change writes nothing,
not even an audit row, so that re-running an import or a demo seed is a no-op.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from tasks_app.models import (
    AuditEvent,
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

# --- The audit helper -----------------------------------------------------------------------

_MASKED_FIELDS = {"password"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
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
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """The one place that writes the ledger. Call it inside the service's transaction."""
    department = getattr(actor, "department", None)
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.username if actor else "system",
        actor_role=actor.role if actor else "",
        actor_department=department.name if department else "",
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
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
        actor, "department.create", Department,
        name=name, short_name=short_name, parent=parent, is_sample=is_sample,
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
        actor, result, Task,
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
            actor, result, Indicator,
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
        actor, result, Plan,
        {"year": meta["year"], "title": meta["title"]},
        {
            "government": meta.get("government", ""),
            "kind": meta.get("kind", Plan.Kind.WORK_REPORT),
            "report_date": dt.date.fromisoformat(meta["report_date"])
            if meta.get("report_date") else None,
        },
    )
    position = 0
    for spec in data.get("headline_targets", []):
        position += 1
        _load_task(actor, result, plan, spec, kind=Task.Kind.HEADLINE_TARGET, position=position)
    for section_spec in data["sections"]:
        section = _upsert(
            actor, result, Section,
            {"plan": plan, "number": section_spec["number"]},
            {"title": section_spec["title"]},
        )
        for area_spec in section_spec["key_areas"]:
            key_area = _upsert(
                actor, result, KeyArea,
                {"section": section, "number": area_spec["number"]},
                {"title": area_spec["title"]},
            )
            for spec in area_spec["tasks"]:
                position += 1
                _load_task(
                    actor, result, plan, spec, kind=Task.Kind.WORK_ITEM, position=position,
                    section=section, key_area=key_area,
                )
    return plan, result


@transaction.atomic
def plan_publish(*, actor: User | None, plan: Plan) -> Plan:
    if plan.status != Plan.Status.PUBLISHED:
        _update(
            actor, "plan.publish", plan,
            status=Plan.Status.PUBLISHED, published_at=timezone.now(),
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
        actor, "task.assign", task,
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
            actor=actor, action="task.co_departments", obj=task,
            before=before_co, after={"co_departments": wanted_co},
        )
        changed = True
    if changed:
        Task.objects.filter(pk=task.pk).update(version=models.F("version") + 1)
        task.refresh_from_db(fields=["version"])
    return task


@transaction.atomic
def milestone_create(
    *, actor: User | None, task: Task, title: str, due_date: dt.date, is_sample: bool = False
) -> Milestone:
    return _create(
        actor, "milestone.create", Milestone,
        task=task, title=title, due_date=due_date, is_sample=is_sample,
    )


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
        audit_log(actor=actor, action=f"{kind}.create", obj=obj,
                  after=snapshot(obj, _concrete_field_names(obj)))
        return obj
    original = type(obj).objects.get(pk=obj.pk)
    before = snapshot(original, fields)
    obj.save()
    audit_log(actor=actor, action=f"{kind}.update", obj=obj, before=before,
              after=snapshot(obj, fields))
    return obj


@transaction.atomic
def admin_save_related(*, actor: User, obj: models.Model, save) -> None:
    """Inline rows and many-to-many fields saved by an admin form: audited as one change."""
    related = ["co_departments"] if isinstance(obj, Task) else []
    before = snapshot(obj, related)
    before["indicators"] = list(obj.indicators.values("id", "name", "target_value")) if isinstance(
        obj, Task) else []
    save()
    after = snapshot(obj, related)
    after["indicators"] = list(obj.indicators.values("id", "name", "target_value")) if isinstance(
        obj, Task) else []
    if before != after:
        audit_log(actor=actor, action=f"{obj._meta.model_name}.update_related", obj=obj,
                  before=_jsonable_tree(before), after=_jsonable_tree(after))


def _jsonable_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable_tree(v) for v in value]
    return _jsonable(value)


@transaction.atomic
def admin_delete(*, actor: User, obj: models.Model) -> None:
    audit_log(actor=actor, action=f"{obj._meta.model_name}.delete", obj=obj,
              before=snapshot(obj, _concrete_field_names(obj)))
    obj.delete()
