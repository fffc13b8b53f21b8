"""What the pages read: a user's in-app notifications, a task's reminder history."""

from django.db.models import (
    Q,
    QuerySet,
)

from tasks_app.common import permissions
from tasks_app.models import (
    Delivery,
    Department,
    DigestItem,
    ManualChase,
    Notification,
    Task,
    User,
)

# --- In-app notifications ----------------------------------------------------------------------


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user).select_related("task")
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications


def notification_unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


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


def chaseable_departments(*, user: User) -> QuerySet[Department]:
    """Departments this user may chase: its own government's for the office, none for anyone
    else, so a department the caller cannot chase answers like one that does not exist."""
    if permissions.is_office(user):
        return Department.objects.filter(government_id=user.government_id)
    return Department.objects.none()
