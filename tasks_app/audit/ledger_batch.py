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
from tasks_app.audit.services import change_apply, event_government_id, snapshot
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

    def write(self) -> list[AuditEvent]:
        actor = self.actor
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
                government_id=event_government_id(noted.obj, actor),
            )
            for noted in self.noted
        ]
        self.noted = []
        return ledger.append_many(entries)
