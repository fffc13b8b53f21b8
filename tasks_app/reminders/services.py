"""Writes of the reminders feature that the pages and the API call directly."""

from django.db import transaction

from tasks_app.audit.services import audit_log
from tasks_app.common import clock
from tasks_app.models import Notification, User


@transaction.atomic
def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's own notifications read (all unread ones when ids is None)."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    ids = list(unread.values_list("pk", flat=True))
    if ids:
        Notification.objects.filter(pk__in=ids).update(read_at=clock.now())
        audit_log(
            actor=actor,
            action="notification.read",
            object_type="notification",
            object_id=",".join(map(str, ids))[:50],
            object_repr=f"{len(ids)}",
            after={"ids": ids},
        )
    return len(ids)
