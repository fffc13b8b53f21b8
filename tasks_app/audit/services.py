import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from tasks_app.common.errors import Conflict
from tasks_app.models import (
    AuditEvent,
    Government,
    Task,
    User,
)
from tasks_app.plans.models import CHANGE_CONTROLLED, is_published
from tasks_app.plans.tenants import default_government_id

if TYPE_CHECKING:
    from tasks_app.audit.ledger import Verification

# --- The audit helper -----------------------------------------------------------------------

_MASKED_FIELDS = {"password", "secret", "token"}


def json_value(value: Any) -> Any:
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
            values[name] = json_value(getattr(obj, name))
    return values


# The relations by which an object reaches the government it belongs to (a review -> its report
# -> its task), tried in this order.
_GOVERNMENT_PATHS = ("task", "update", "instruction", "plan", "department", "series", "pack")


def _parent_field(obj: models.Model):
    for name in _GOVERNMENT_PATHS:
        field = next((f for f in obj._meta.concrete_fields if f.name == name), None)
        if field is not None and field.is_relation and getattr(obj, field.attname) is not None:
            return field
    return None


def _parent(obj: models.Model) -> models.Model | None:
    field = _parent_field(obj)
    if field is None:
        return None
    try:
        return getattr(obj, field.name)
    except field.related_model.DoesNotExist:  # deleted in this transaction
        return None


def own_government_id(obj: models.Model) -> int | None:
    """The government obj names itself (a Government, or a row with government_id)."""
    if isinstance(obj, Government):
        return obj.pk
    return getattr(obj, "government_id", None)


def parent_key(obj: models.Model) -> tuple[type[models.Model], Any] | None:
    """(model, id) of the row obj hangs from on its way to a government, without loading it."""
    field = _parent_field(obj)
    return (field.related_model, getattr(obj, field.attname)) if field is not None else None


def event_government_id(obj: models.Model | None, actor: User | None) -> int | None:
    """The government whose chain records an event about obj by actor: obj's own (or that of the
    task, report, plan or department it hangs from), else the actor's; None for an event of
    neither (a system event), which goes to the default government's chain."""
    for _depth in range(3):
        if obj is None:
            break
        if own_government_id(obj):
            return own_government_id(obj)
        obj = _parent(obj)
    return getattr(actor, "government_id", None)


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
    government_id: int | None = None,
    head: tuple[int, str] | None = None,
) -> AuditEvent:
    """The one place that writes the ledger. Call it inside the service's transaction.

    The event joins the hash chain of its government (tasks_app.ledger): government_id when
    given, else event_government_id(obj, actor). It carries the request's IP, user agent and
    request id. On PostgreSQL it also marks the transaction as audited, so that the capture
    triggers do not record the service's own changes a second time.
    """
    from tasks_app.audit import ledger

    department = getattr(actor, "department", None)
    return ledger.append(
        government_id=government_id or event_government_id(obj, actor),
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
        head=head,
    )


def create_audited(actor: User | None, action: str, model: type[models.Model], **values) -> Any:
    """Create the row and its ledger event; on PostgreSQL the INSERT takes the lock of the
    chain of the row's government too (ledger.insert_locking_head)."""
    from tasks_app.audit import ledger

    obj = model(**values)
    government_id = event_government_id(obj, actor) or default_government_id()
    head = ledger.insert_locking_head(obj, government_id)
    if head is None:
        obj.save(force_insert=True)
        government_id = None  # audit_log reads it from the saved row (save() may set it)
    audit_log(
        actor=actor,
        action=action,
        obj=obj,
        after=snapshot(obj, list(values)),
        government_id=government_id,
        head=head,
    )
    return obj


@dataclass(frozen=True)
class Change:
    """One audited update: the fields that changed and their snapshots either side."""

    fields: list[str]
    before: dict[str, Any]
    after: dict[str, Any]


def change_apply(obj: models.Model, values: dict[str, Any]) -> Change | None:
    """Set on obj the values that differ from its own; the change, or None when none differs.

    The rule of every audited update, one row at a time (update_audited) or many in a batch
    (audit.ledger_batch): a foreign key is compared by id, so an unloaded relation costs no query.
    """
    changed = [name for name, value in values.items() if _differs(obj, name, value)]
    if not changed:
        return None
    before = snapshot(obj, changed)
    for name in changed:
        setattr(obj, name, values[name])
    return Change(changed, before, snapshot(obj, changed))


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    model_field = obj._meta.get_field(name)
    if model_field.is_relation and model_field.concrete and not model_field.many_to_many:
        wanted = value.pk if isinstance(value, models.Model) else value
        return getattr(obj, model_field.attname) != wanted
    return getattr(obj, name) != value


def update_audited(actor: User | None, action: str, obj: models.Model, **values) -> bool:
    """Set the changed values on obj and save them; False (and no audit row) when none changed."""
    change = change_apply(obj, values)
    if change is None:
        return False
    obj.save(update_fields=change.fields)
    audit_log(actor=actor, action=action, obj=obj, before=change.before, after=change.after)
    return True


def ledger_verify(
    *, actor: User, from_seq: int | None = None, to_seq: int | None = None
) -> "Verification":
    """Walk the actor's government's hash chain (all of it, or from_seq..to_seq) and record who
    checked, and the outcome.

    The verification is itself a ledger event ("audit.verify"), written after the walk so that
    it does not take part in what it checked.
    """
    from tasks_app.audit import ledger

    result = ledger.verify(government_id=actor.government_id, from_seq=from_seq, to_seq=to_seq)
    audit_log(
        actor=actor,
        action="audit.verify",
        object_type="ledger",
        object_repr="ledger",
        government_id=result.government_id,
        after={
            "ok": result.ok,
            "checked": result.checked,
            "broken_seq": result.broken and result.broken.seq,
        },
    )
    return result


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
    original = type(obj).objects.select_related(*_plan_path(obj)).get(pk=obj.pk)
    locked = set(CHANGE_CONTROLLED.get(kind, ())) & set(fields)
    if locked and is_published(original):
        raise Conflict(
            "change_request_required",
            _("计划已发布:完成时限和目标值须经变更申请,状态和进度须经报送审核,不能直接修改。"),
        )
    before = snapshot(original, fields)
    obj.save()
    if fields:
        _version_bump(obj)
    audit_log(
        actor=actor, action=f"{kind}.update", obj=obj, before=before, after=snapshot(obj, fields)
    )
    return obj


def _plan_path(obj: models.Model) -> list[str]:
    return ["plan"] if obj._meta.model_name in CHANGE_CONTROLLED else []


def _version_bump(obj: models.Model) -> None:
    """Any admin change to a versioned row (a task) moves its ETag: a client's stale If-Match
    must fail after it, as after an API edit."""
    if any(f.name == "version" for f in obj._meta.concrete_fields):
        type(obj).objects.filter(pk=obj.pk).update(version=models.F("version") + 1)
        obj.version += 1


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
        _version_bump(obj)
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
    return json_value(value)


@transaction.atomic
def admin_delete(*, actor: User, obj: models.Model) -> None:
    audit_log(
        actor=actor,
        action=f"{obj._meta.model_name}.delete",
        obj=obj,
        before=snapshot(obj, _concrete_field_names(obj)),
    )
    obj.delete()
