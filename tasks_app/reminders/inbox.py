"""What the pages read: a user's in-app notifications, a task's reminder history."""

from django.db import transaction
from django.db.models import (
    Q,
    QuerySet,
)
from django.utils import timezone

from tasks_app.audit.services import audit_log
from tasks_app.models import (
    Delivery,
    DigestItem,
    ManualChase,
    Notification,
    Task,
    User,
)

# --- In-app notifications: reads and the one write --------------------------------------------


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user).select_related("task")
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications


def notification_unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's own notifications read (all unread ones when ids is None)."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    ids = list(unread.values_list("pk", flat=True))
    if ids:
        Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
        audit_log(
            actor=actor,
            action="notification.read",
            object_type="notification",
            object_id=",".join(map(str, ids))[:50],
            object_repr=f"{len(ids)}",
            after={"ids": ids},
        )
    return len(ids)


# --- A task's reminder history ------------------------------------------------------------------


def task_delivery_history(*, task: Task, limit: int = 50) -> list[Delivery]:
    """Deliveries about this task (its digests, chases, reviews) with every attempt."""
    digest_ids = DigestItem.objects.filter(reminder__task=task).values("digest_id")
    return list(
        Delivery.objects.filter(Q(task=task) | Q(digest_id__in=digest_ids))
        .select_related("recipient", "webhook__department", "digest")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")[:limit]
    )


def task_chases(*, task: Task) -> QuerySet[ManualChase]:
    return ManualChase.objects.filter(task=task).select_related("chased_by")
