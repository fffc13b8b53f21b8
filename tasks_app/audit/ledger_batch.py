"""Many audit events in a few queries: what services.audit_log does per event, done for a batch.

A breakdown sheet of 2,000 rows makes some 5,000 ledger events. services.audit_log appends each
on its own; here they are noted in order and appended together by ledger.append_many (one head
lock, one COPY, one head move), which writes the same events, hashes and chain.

created / updated / deleted note what create_audited, update_audited and a snapshot-then-delete
note, by the same rules (services.snapshot, services.change_apply); the caller writes the rows
in bulk, then the events with write().

Objects created in the same batch may not have their primary keys when their event is noted:
the object id is read when the batch is written (after the caller's bulk_create).
"""

from dataclasses import dataclass
from typing import Any

from django.db import models

from tasks_app.audit import ledger
from tasks_app.audit.services import (
    change_apply,
    event_government_id,
    own_government_id,
    parent_key,
    snapshot,
)
from tasks_app.models import AuditEvent, User


@dataclass
class _Noted:
    action: str
    obj: models.Model
    object_repr: str
    before: Any
    after: Any


class EventBatch:
    """Events noted in order, appended to the ledger by write() as audit_log would have."""

    def __init__(self, actor: User | None):
        self.actor = actor
        self.noted: list[_Noted] = []

    def note(self, action: str, obj: models.Model, *, before=None, after=None) -> None:
        """Like services.audit_log(actor=..., action=..., obj=obj, before=..., after=...).

        The object's str() is taken now (as audit_log takes it when called); its pk when written.
        """
        self.noted.append(_Noted(action, obj, str(obj), before, after))

    def created(self, action: str, obj: models.Model, fields: list[str]) -> None:
        """create_audited's event for obj, not yet saved: its fields as they will be stored."""
        self.note(action, obj, after=snapshot(obj, fields))

    def updated(self, action: str, obj: models.Model, values: dict[str, Any]) -> list[str]:
        """update_audited without the save: the values set on obj, the names of those changed."""
        change = change_apply(obj, values)
        if change is None:
            return []
        self.note(action, obj, before=change.before, after=change.after)
        return change.fields

    def deleted(self, action: str, obj: models.Model, fields: list[str]) -> None:
        """The event of deleting obj, noted before the caller deletes it: its fields as stored."""
        self.note(action, obj, before=snapshot(obj, fields))

    def _governments(self) -> list[int | None]:
        """event_government_id() of each noted object, in one query per kind of parent (a
        sheet's indicators name 2,000 tasks: one query, not 2,000)."""
        keys = [None if own_government_id(n.obj) else parent_key(n.obj) for n in self.noted]
        wanted: dict[type, set] = {}
        for key in filter(None, keys):
            wanted.setdefault(key[0], set()).add(key[1])
        found = {}
        for model, ids in wanted.items():
            if any(f.name == "government" for f in model._meta.concrete_fields):
                rows = model.objects.filter(pk__in=ids).values_list("pk", "government_id")
                found.update({(model, pk): government for pk, government in rows})
        return [
            own_government_id(n.obj) or found.get(key) or event_government_id(n.obj, self.actor)
            for n, key in zip(self.noted, keys, strict=True)
        ]

    def write(self) -> list[AuditEvent]:
        actor = self.actor
        governments = self._governments()
        department = getattr(actor, "department", None)
        entries = [
            ledger.Entry(
                actor_id=actor.pk if actor else None,
                actor_username=actor.username if actor else "system",
                actor_role=actor.role if actor else "",
                actor_department=department.name if department else "",
                action=noted.action,
                object_type=noted.obj._meta.model_name,
                object_id=str(noted.obj.pk),
                object_repr=noted.object_repr,
                before=noted.before,
                after=noted.after,
                government_id=government_id,
            )
            for noted, government_id in zip(self.noted, governments, strict=True)
        ]
        self.noted = []
        return ledger.append_many(entries)
