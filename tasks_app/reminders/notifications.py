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

Who hears what (channel; delivery key). "The department" is the lead department's heads and
contact person; "the 承办人" is the person who reports on the task: the author of its latest
report, else whoever received (签收) it, while they belong to the lead department. Nobody hears
of their own act.

- a report submitted, or resubmitted after a return (a new revision): the supervision office
  (督查室), in-app and email; ``update:<update id>:<revision>``. With the plan's department
  sign-off on, the office hears only once the head approved it.
- a report awaiting the department head's sign-off (部门负责人审核): the lead department's heads,
  in-app and email; ``signoff:<update id>:<revision>``.
- a report returned by the office: its author and the department, in-app and email, with the
  reason; ``review:<review id>``. Returned by the head: its author and the contact person;
  ``signoff-return:<sign-off id>``.
- a report accepted: its author and the department, in-app only. Nothing is asked of them.
- a correction of a report still awaiting review: nobody; it is already in the office's queue.
- a leader's instruction (批示): the department and the task's 承办人, in-app and email;
  nobody when the task has no lead department yet. ``instruction:<instruction id>``.
- 落实反馈 on an instruction: the leader who gave it, in-app and email; ``feedback:<id>``.
- a change request: the office, in-app; its decision: whoever asked, in-app.
- a chase (催办): the department, the 承办人 of the chased tasks, in-app and email, and the
  department's active robots; ``chase:<chase id>``.

Handled items clear themselves: a report's in-app notification (``ref`` "update:<id>") is
marked read for everyone it was sent to once someone does what it asked (the office reviews,
the head signs off, the author resubmits), and a change request's once it is decided.
"""

import datetime as dt
import functools

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from tasks_app.common import clock
from tasks_app.models import (
    ChangeRequest,
    Channel,
    Delivery,
    DeliveryStatus,
    Department,
    Instruction,
    InstructionFeedback,
    ManualChase,
    Notification,
    Review,
    Role,
    SignOff,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.reminders.delivery import enqueue_deliveries
from tasks_app.reminders.due import open_tasks

# --- Writing the rows, enqueueing after commit ------------------------------------------------


def _in_app(users: list[User], *, kind, title, body, task, now, ref="") -> None:
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=u,
                kind=kind,
                title=title[:200],
                body=body,
                task=task,
                ref=ref,
                created_at=now,
            )
            for u in users
        ]
    )


def _message(*, title, body, task, now) -> dict:
    """The fields every outgoing message of an event shares: due at once."""
    return {
        "task": task,
        "subject": title[:200],
        "body": body,
        "next_attempt_at": now,
        "enqueued_at": now,
    }


def _deliveries(rows: list[Delivery]) -> list[str]:
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return [row.key for row in rows]


def _emails(users: list[User], *, title, body, task, key, now) -> list[str]:
    message = _message(title=title, body=body, task=task, now=now)
    return _deliveries(
        [
            Delivery(key=f"{key}:email:{u.pk}", channel=Channel.EMAIL, recipient=u, **message)
            for u in users
            if u.email
        ]
    )


def _robots(department: Department, *, title, body, task, key, now) -> list[str]:
    message = _message(title=title, body=body, task=task, now=now)
    return _deliveries(
        [
            Delivery(key=f"{key}:hook:{hook.pk}", channel=Channel.WEBHOOK, webhook=hook, **message)
            for hook in department.webhooks.filter(is_active=True)
        ]
    )


def _enqueue_after_commit(keys: list[str]) -> None:
    # bulk_create(ignore_conflicts=True) sets no ids: the workers are given the rows by key.
    def run():
        enqueue_deliveries(list(Delivery.objects.filter(key__in=keys).values_list("id", flat=True)))

    if keys:
        transaction.on_commit(run, robust=True)


def _notify(
    users, *, kind, title, body, task, key, now, email=True, ref="", actor=None
) -> list[str]:
    """In-app notifications for the active users but the actor, and an email each unless email
    is False."""
    skip = actor.pk if actor is not None else None
    users = [u for u in {u.pk: u for u in users}.values() if u.is_active and u.pk != skip]
    _in_app(users, kind=kind, title=title, body=body, task=task, now=now, ref=ref)
    return _emails(users, title=title, body=body, task=task, key=key, now=now) if email else []


# The same rows as _notify for the users a query selects, in one statement (PostgreSQL): the
# in-app notifications and the email deliveries are INSERT ... SELECT from the users, and the
# deliveries' keys come back. A report's submission waits on it, and on a busy server every
# round trip counts (the office's notification was two: read the users, insert their rows).
_NOTIFY_SQL = """
WITH users AS ({users}),
notified AS (
    INSERT INTO tasks_app_notification (recipient_id, kind, title, body, task_id, ref,
                                        created_at)
    SELECT id, %s, %s, %s, %s, %s, %s FROM users
),
mailed AS (
    INSERT INTO tasks_app_delivery (key, channel, status, recipient_id, task_id, subject, body,
                                    attempts, next_attempt_at, enqueued_at, claim_token,
                                    provider_id, error, created_at)
    SELECT %s || id, %s, %s, id, %s, %s, %s, 0, %s, %s, '', '', '', %s
      FROM users WHERE email <> ''
    ON CONFLICT DO NOTHING
    RETURNING key
)
SELECT key FROM mailed
"""


# A government's office is the same query on every submission: compiled once per database and
# government.
_OFFICE_SQL: dict[tuple[str, int], tuple[str, tuple]] = {}


def _users_sql(selected, office: int | None) -> tuple[str, tuple]:
    key = (connection.alias, office)
    compiled = _OFFICE_SQL.get(key) if office else None
    if compiled is None:
        compiled = selected().order_by().values("id", "email").query.sql_with_params()
        if office:
            _OFFICE_SQL[key] = compiled
    return compiled


def _notify_selected(
    users, *, kind, title, body, task, key, now, ref="", actor=None, office=None
) -> list[str]:
    """_notify(list(users()), ...) for the queryset users() builds, in one statement on
    PostgreSQL. office: a government's id when users() is office_of(it): its SQL is compiled
    once, and the queryset is not even built again (building it cost a submission 0.2 ms)."""

    def selected():
        chosen = users().filter(is_active=True)
        return chosen if actor is None else chosen.exclude(pk=actor.pk)

    if connection.vendor != "postgresql":
        return _notify(
            list(selected()),
            kind=kind,
            title=title,
            body=body,
            task=task,
            key=key,
            now=now,
            ref=ref,
        )
    users_sql, users_params = _users_sql(selected, office if actor is None else None)
    title = title[:200]
    with connection.cursor() as cursor:
        cursor.execute(
            _NOTIFY_SQL.format(users=users_sql),
            [
                *users_params,
                *(kind, title, body, task.pk, ref, now),
                *(f"{key}:email:", Channel.EMAIL, DeliveryStatus.PENDING, task.pk, title, body),
                *(now, now, now),
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def notifications_clear(*, ref: str, kinds: list[str], now: dt.datetime | None = None) -> int:
    """The item `ref` was handled: its unread notifications of these kinds become read."""
    unread = Notification.objects.filter(ref=ref, kind__in=kinds, read_at__isnull=True)
    return unread.update(read_at=now or clock.now())


def update_ref(update: StatusUpdate) -> str:
    return f"update:{update.pk}"


def task_handlers(tasks: list[Task]) -> list[User]:
    """The 承办人 of these tasks: the author of each task's latest report, else the person who
    received it, while they are active members of its lead department."""
    latest = StatusUpdate.objects.filter(task=OuterRef("pk")).order_by("-period", "-id")
    rows = (
        Task.objects.filter(pk__in=[t.pk for t in tasks], lead_department__isnull=False)
        .annotate(author=Subquery(latest.values("author")[:1]))
        .values_list("lead_department", "author", "received_by")
    )
    wanted = Q()
    for department, author, received_by in rows:
        if author or received_by:
            wanted |= Q(pk=author or received_by, department_id=department)
    if not wanted:
        return []
    return list(User.objects.filter(wanted, is_active=True).order_by("pk"))


def department_contacts(department: Department | None) -> list[User]:
    """A department's heads and its contact person: whom an event about its work reaches."""
    if department is None:
        return []
    contact = Department.objects.filter(pk=department.pk).values("contact_person_id")
    people = Q(department_id=department.pk, role=Role.HEAD) | Q(pk=Subquery(contact))
    return list(User.objects.filter(people, is_active=True).order_by("pk"))


def _period(update: StatusUpdate) -> str:
    return f"{update.period:%Y-%m}"


def _report_values(update: StatusUpdate) -> dict[str, str]:
    return {"code": update.task.code, "period": _period(update)}


def _report_summary(update: StatusUpdate) -> str:
    task = update.task
    return f"{task.code} {task.title}\n{update.get_status_display()} · {update.progress}%"


def _report_returned_body(update: StatusUpdate, *, label: str, reason: str) -> str:
    return f"{update.task.code} {update.task.title}\n{label}:{reason}"


def _notify_of_report(
    people, *, update: StatusUpdate, kind, title, body, key, now, actor=None
) -> None:
    """In-app and email about a report, the in-app one cleared once the report is handled."""
    _enqueue_after_commit(
        _notify(
            people,
            kind=kind,
            title=title,
            body=body,
            task=update.task,
            key=key,
            now=now or clock.now(),
            ref=update_ref(update),
            actor=actor,
        )
    )


# --- The events -------------------------------------------------------------------------------


def notify_report_submitted(*, update: StatusUpdate, now: dt.datetime | None = None) -> None:
    """A report (or a new revision of a returned one) awaits review: tell the office."""
    now = now or clock.now()
    task = update.task
    values = _report_values(update)
    title = (
        _("%(code)s 重新报送了%(period)s进展,待审核") % values
        if update.revision > 1
        else _("%(code)s 报送了%(period)s进展,待审核") % values
    )
    body = _report_summary(update)
    key = f"update:{update.pk}:{update.revision}"
    _enqueue_after_commit(
        _notify_selected(
            functools.partial(office_of, task.government_id),
            office=task.government_id,
            kind="review",
            title=title,
            body=body,
            task=task,
            key=key,
            now=now,
            ref=update_ref(update),
        )
    )


def office_of(government_id: int):
    """The supervision office of one government: another government's office hears nothing."""
    return User.objects.filter(is_active=True, role=Role.SUPERVISOR, government_id=government_id)


def department_heads(department_id: int) -> list[User]:
    return list(User.objects.filter(department_id=department_id, role=Role.HEAD, is_active=True))


def notify_signoff_requested(*, update: StatusUpdate, now: dt.datetime | None = None) -> None:
    """A report awaits the department head's sign-off before it goes to the office."""
    _notify_of_report(
        department_heads(update.task.lead_department_id),
        update=update,
        kind="signoff",
        title=_("%(code)s %(period)s进展待部门负责人审核") % _report_values(update),
        body=_report_summary(update),
        key=f"signoff:{update.pk}:{update.revision}",
        now=now,
        actor=update.author,
    )


def notify_signoff_returned(*, signoff: SignOff, now: dt.datetime | None = None) -> None:
    """The head returned a report: its author (and the contact person) correct it."""
    update = signoff.update
    department = update.task.lead_department
    contact = department.contact_person if department else None
    _notify_of_report(
        [update.author, *([contact] if contact else [])],
        update=update,
        kind="returned",
        title=_("%(code)s %(period)s进展被部门负责人退回,请修改后重新报送")
        % _report_values(update),
        body=_report_returned_body(update, label=_("意见"), reason=signoff.reason),
        key=f"signoff-return:{signoff.pk}",
        now=now,
        actor=signoff.signer,
    )


def notify_report_returned(*, review: Review, now: dt.datetime | None = None) -> None:
    """A report was returned: the lead department must correct and resubmit it."""
    update = review.update
    _notify_of_report(
        [update.author, *department_contacts(update.task.lead_department)],
        update=update,
        kind="returned",
        title=_("%(code)s %(period)s进展被退回,请修改后重新报送") % _report_values(update),
        body=_report_returned_body(update, label=_("理由"), reason=review.reason),
        key=f"review:{review.pk}",
        now=now,
    )


def notify_report_accepted(*, review: Review, now: dt.datetime | None = None) -> None:
    """A report was accepted: the lead department sees it in-app (nothing to do, no email)."""
    update = review.update
    task = update.task
    title = _("%(code)s %(period)s进展已通过审核") % _report_values(update)
    body = _report_summary(update)
    _notify(
        [update.author, *department_contacts(task.lead_department)],
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
    contacts = department_contacts(task.lead_department) + task_handlers([task])
    key = f"instruction:{instruction.pk}"
    _enqueue_after_commit(
        _notify(contacts, kind="instruction", title=title, body=body, task=task, key=key, now=now)
    )


def _chase_message(chase: ManualChase) -> tuple[str, str, list[Task]]:
    task, department = chase.task, chase.department
    if task:
        title = _("督查室催办:%(code)s %(title)s") % {"code": task.code, "title": task.title}
        return title, chase.note, [task]
    pending = list(
        open_tasks()
        .filter(lead_department=department)
        .exclude(status=TaskStatus.DONE)
        .order_by("code")
        .only("pk", "code", "title")
    )
    title = _("督查室催办:%(department)s") % {"department": department.name}
    lines = "\n".join(f"- {t.code} {t.title}" for t in pending)
    return title, chase.note + "\n" + lines, pending


def notify_chase(*, chase: ManualChase, now: dt.datetime | None = None) -> None:
    """A chase reaches the department's people, the chased tasks' 承办人 and its robots."""
    now = now or clock.now()
    title, body, chased = _chase_message(chase)
    task, department, key = chase.task, chase.department, f"chase:{chase.pk}"
    contacts = department_contacts(department) + task_handlers(chased)
    keys = _notify(contacts, kind="chase", title=title, body=body, task=task, key=key, now=now)
    keys += _robots(department, title=title, body=body, task=task, key=key, now=now)
    _enqueue_after_commit(keys)


def notify_feedback(*, feedback: InstructionFeedback, now: dt.datetime | None = None) -> None:
    """落实反馈 reaches the leader who gave the instruction."""
    now = now or clock.now()
    instruction = feedback.instruction
    task = instruction.task
    title = _("批示落实反馈:%(code)s %(title)s") % {"code": task.code, "title": task.title}
    body = f"{feedback.department.name}:{feedback.text}\n{_('批示')}:{instruction.text}"
    _enqueue_after_commit(
        _notify(
            [instruction.leader],
            kind="feedback",
            title=title,
            body=body,
            task=task,
            key=f"feedback:{feedback.pk}",
            now=now,
            ref=f"instruction:{instruction.pk}",
            actor=feedback.author,
        )
    )


def change_ref(change: ChangeRequest) -> str:
    return f"change:{change.pk}"


def notify_change_requested(*, change: ChangeRequest, now: dt.datetime | None = None) -> None:
    """A change request waits for the office's decision (in-app only)."""
    task = change.task
    title = _("%(code)s 申请变更%(field)s,待审批") % {
        "code": task.code,
        "field": change.get_field_display(),
    }
    body = f"{task.code} {task.title}\n{change.old_value} → {change.new_value}\n{change.reason}"
    _notify(
        office_of(task.government_id),
        kind="change_request",
        title=title,
        body=body,
        task=task,
        key="",
        now=now or clock.now(),
        email=False,
        ref=change_ref(change),
    )


def notify_change_decided(*, change: ChangeRequest, now: dt.datetime | None = None) -> None:
    """Whoever asked hears the office's decision (in-app only)."""
    task = change.task
    title = _("%(code)s 变更申请%(state)s") % {
        "code": task.code,
        "state": change.get_state_display(),
    }
    body = f"{change.old_value} → {change.new_value}\n{change.decision_note}"
    _notify(
        [change.requested_by],
        kind="change_decided",
        title=title,
        body=body,
        task=task,
        key="",
        now=now or clock.now(),
        email=False,
        actor=change.decided_by,
    )
