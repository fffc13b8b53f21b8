"""Event notifications (a report submitted or returned) and the signals that raise them."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.models import (
    Channel,
    Delivery,
    Department,
    Notification,
    Review,
    Role,
    StatusUpdate,
    Task,
    User,
)
from tasks_app.reminders.delivery import enqueue_deliveries

# --- Event notifications: in-app at once, email and robots through deliveries ---------------


def _notify_users(
    users, *, kind: str, title: str, body: str, task: Task | None, key: str, now: dt.datetime
) -> list[Delivery]:
    """In-app notifications now, and an email delivery each; the caller enqueues after commit."""
    users = [u for u in {u.pk: u for u in users}.values() if u.is_active]
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=u, kind=kind, title=title[:200], body=body, task=task, created_at=now
            )
            for u in users
        ]
    )
    deliveries = [
        Delivery(
            key=f"{key}:email:{u.pk}",
            channel=Channel.EMAIL,
            recipient=u,
            task=task,
            subject=title[:200],
            body=body,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for u in users
        if u.email
    ]
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return deliveries


def _robot_deliveries(department: Department, *, title, body, task, key, now) -> list[Delivery]:
    rows = [
        Delivery(
            key=f"{key}:hook:{hook.pk}",
            channel=Channel.WEBHOOK,
            webhook=hook,
            task=task,
            subject=title[:200],
            body=body,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for hook in department.webhooks.filter(is_active=True)
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def _enqueue_keys(keys: list[str]) -> None:
    def run():
        enqueue_deliveries(list(Delivery.objects.filter(key__in=keys).values_list("id", flat=True)))

    if keys:
        transaction.on_commit(run, robust=True)


def department_contacts(department: Department) -> list[User]:
    heads = list(department.members.filter(role=Role.HEAD, is_active=True))
    contact = department.contact_person
    return heads + ([contact] if contact and contact.is_active else [])


def notify_report_submitted(*, update: StatusUpdate) -> None:
    """A report awaits review: tell the office (runs inside the submitting transaction)."""
    now = timezone.now()
    task = update.task
    title = _("%(code)s 报送了%(period)s进展,待审核") % {
        "code": task.code,
        "period": f"{update.period:%Y-%m}",
    }
    body = f"{task.code} {task.title}\n{update.get_status_display()} · {update.progress}%"
    office = User.objects.filter(is_active=True, role=Role.SUPERVISOR)
    rows = _notify_users(
        office,
        kind="review",
        title=title,
        body=body,
        task=task,
        key=f"update:{update.pk}:{update.revision}",
        now=now,
    )
    _enqueue_keys([d.key for d in rows])


def notify_report_returned(*, review: Review) -> None:
    now = timezone.now()
    update = review.update
    task = update.task
    title = _("%(code)s %(period)s进展被退回,请修改后重新报送") % {
        "code": task.code,
        "period": f"{update.period:%Y-%m}",
    }
    body = f"{task.code} {task.title}\n{_('理由')}:{review.reason}"
    rows = _notify_users(
        department_contacts(task.lead_department),
        kind="returned",
        title=title,
        body=body,
        task=task,
        key=f"review:{review.pk}",
        now=now,
    )
    _enqueue_keys([d.key for d in rows])


# --- Signals: the workflow services' writes that someone should hear about ---------------------
# Connected in apps.ready. They run inside the service's transaction; delivery waits for commit.


def on_status_update_saved(sender, instance: StatusUpdate, created: bool, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        notify_report_submitted(update=instance)


def on_review_saved(sender, instance: Review, created: bool, **kwargs) -> None:
    if created and not kwargs.get("raw") and instance.decision == Review.Decision.RETURNED:
        notify_report_returned(review=instance)


def connect_signals() -> None:
    from django.db.models.signals import post_save

    post_save.connect(
        on_status_update_saved, sender=StatusUpdate, dispatch_uid="reminders.status_update"
    )
    post_save.connect(on_review_saved, sender=Review, dispatch_uid="reminders.review")
