"""Event notifications: who hears of a report, a review, a leader's instruction, a chase.

The services that make the event call these functions themselves, inside their transaction
(``reporting.services`` for reports, reviews and instructions, ``reminders.chasing`` for 催办).
No signal sends anything: a row saved through the ORM, the admin or a data migration notifies
nobody, and a reader of a service sees who hears of it.

Protocol: the in-app notifications and the outgoing deliveries (email, robots) are rows written in
the caller's transaction, so a rolled-back service leaves none; the deliveries are handed to the
workers with ``transaction.on_commit``, so nothing leaves the building before the event is
committed. A broker outage only delays them: the sweep sends any delivery still due. Each
delivery has a stable key (below), so writing the same event twice sends it once.

Who hears what (channel; delivery key):

- a report submitted, or resubmitted after a return (a new revision): the supervision office
  (督查室), in-app and email; ``update:<update id>:<revision>``.
- a report returned: the lead department's heads and contact person, in-app and email, with
  the reason; ``review:<review id>``.
- a report accepted: the same people, in-app only. Nothing is asked of them, so no email.
- a correction of a report still awaiting review: nobody; it is already in the office's queue.
- a leader's instruction (批示): the lead department's heads and contact person, in-app and
  email; nobody when the task has no lead department yet. ``instruction:<instruction id>``.
- a chase (催办): the department's heads and contact person, in-app and email, and the
  department's active robots; ``chase:<chase id>``.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q, Subquery
from django.utils.translation import gettext as _

from tasks_app.common import clock
from tasks_app.models import (
    Channel,
    Delivery,
    Department,
    Instruction,
    ManualChase,
    Notification,
    Review,
    Role,
    StatusUpdate,
    TaskStatus,
    User,
)
from tasks_app.reminders.delivery import enqueue_deliveries
from tasks_app.reminders.due import open_tasks

# --- Writing the rows, enqueueing after commit ------------------------------------------------


def _in_app(users: list[User], *, kind, title, body, task, now) -> None:
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=u, kind=kind, title=title[:200], body=body, task=task, created_at=now
            )
            for u in users
        ]
    )


def _emails(users: list[User], *, title, body, task, key, now) -> list[str]:
    rows = [
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
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return [row.key for row in rows]


def _robots(department: Department, *, title, body, task, key, now) -> list[str]:
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
    return [row.key for row in rows]


def _enqueue_after_commit(keys: list[str]) -> None:
    # bulk_create(ignore_conflicts=True) sets no ids: the workers are given the rows by key.
    def run():
        enqueue_deliveries(list(Delivery.objects.filter(key__in=keys).values_list("id", flat=True)))

    if keys:
        transaction.on_commit(run, robust=True)


def _notify(users, *, kind, title, body, task, key, now, email=True) -> list[str]:
    """In-app notifications for the active users, and an email each unless email is False."""
    users = [u for u in {u.pk: u for u in users}.values() if u.is_active]
    _in_app(users, kind=kind, title=title, body=body, task=task, now=now)
    return _emails(users, title=title, body=body, task=task, key=key, now=now) if email else []


def department_contacts(department: Department | None) -> list[User]:
    """A department's heads and its contact person: whom an event about its work reaches."""
    if department is None:
        return []
    contact = Department.objects.filter(pk=department.pk).values("contact_person_id")
    people = Q(department_id=department.pk, role=Role.HEAD) | Q(pk=Subquery(contact))
    return list(User.objects.filter(people, is_active=True).order_by("pk"))


def _period(update: StatusUpdate) -> str:
    return f"{update.period:%Y-%m}"


# --- The events -------------------------------------------------------------------------------


def notify_report_submitted(*, update: StatusUpdate, now: dt.datetime | None = None) -> None:
    """A report (or a new revision of a returned one) awaits review: tell the office."""
    now = now or clock.now()
    task = update.task
    values = {"code": task.code, "period": _period(update)}
    title = (
        _("%(code)s 重新报送了%(period)s进展,待审核") % values
        if update.revision > 1
        else _("%(code)s 报送了%(period)s进展,待审核") % values
    )
    body = f"{task.code} {task.title}\n{update.get_status_display()} · {update.progress}%"
    office = User.objects.filter(is_active=True, role=Role.SUPERVISOR)
    key = f"update:{update.pk}:{update.revision}"
    _enqueue_after_commit(
        _notify(office, kind="review", title=title, body=body, task=task, key=key, now=now)
    )


def notify_report_returned(*, review: Review, now: dt.datetime | None = None) -> None:
    """A report was returned: the lead department must correct and resubmit it."""
    now = now or clock.now()
    update = review.update
    task = update.task
    title = _("%(code)s %(period)s进展被退回,请修改后重新报送") % {
        "code": task.code,
        "period": _period(update),
    }
    body = f"{task.code} {task.title}\n{_('理由')}:{review.reason}"
    contacts = department_contacts(task.lead_department)
    key = f"review:{review.pk}"
    _enqueue_after_commit(
        _notify(contacts, kind="returned", title=title, body=body, task=task, key=key, now=now)
    )


def notify_report_accepted(*, review: Review, now: dt.datetime | None = None) -> None:
    """A report was accepted: the lead department sees it in-app (nothing to do, no email)."""
    update = review.update
    task = update.task
    title = _("%(code)s %(period)s进展已通过审核") % {"code": task.code, "period": _period(update)}
    body = f"{task.code} {task.title}\n{update.get_status_display()} · {update.progress}%"
    _notify(
        department_contacts(task.lead_department),
        kind="accepted",
        title=title,
        body=body,
        task=task,
        key=f"review:{review.pk}",
        now=now or clock.now(),
        email=False,
    )


def notify_instruction(*, instruction: Instruction, now: dt.datetime | None = None) -> None:
    """A leader's instruction (批示) on a task reaches its lead department."""
    now = now or clock.now()
    task = instruction.task
    leader = instruction.leader
    title = _("区领导批示:%(code)s %(title)s") % {"code": task.code, "title": task.title}
    body = f"{leader.display_name or leader.username}:{instruction.text}"
    contacts = department_contacts(task.lead_department)
    key = f"instruction:{instruction.pk}"
    _enqueue_after_commit(
        _notify(contacts, kind="instruction", title=title, body=body, task=task, key=key, now=now)
    )


def _chase_message(chase: ManualChase) -> tuple[str, str]:
    task, department = chase.task, chase.department
    if task:
        return _("督查室催办:%(code)s %(title)s") % {"code": task.code, "title": task.title}, (
            chase.note
        )
    pending = (
        open_tasks()
        .filter(lead_department=department)
        .exclude(status=TaskStatus.DONE)
        .order_by("code")
        .values_list("code", "title")
    )
    title = _("督查室催办:%(department)s") % {"department": department.name}
    return title, chase.note + "\n" + "\n".join(f"- {c} {t}" for c, t in pending)


def notify_chase(*, chase: ManualChase, now: dt.datetime | None = None) -> None:
    """A chase reaches the department's people and its group robots."""
    now = now or clock.now()
    title, body = _chase_message(chase)
    task, department, key = chase.task, chase.department, f"chase:{chase.pk}"
    contacts = department_contacts(department)
    keys = _notify(contacts, kind="chase", title=title, body=body, task=task, key=key, now=now)
    keys += _robots(department, title=title, body=body, task=task, key=key, now=now)
    _enqueue_after_commit(keys)
