"""Digests: one per (recipient, channel, day), and how they read."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import (
    Q,
)
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log
from tasks_app.models import (
    Channel,
    Delivery,
    DepartmentWebhook,
    Digest,
    DigestItem,
    Reminder,
    ReminderLevel,
    ReminderStep,
    Role,
    User,
)
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders import channels as notify
from tasks_app.reminders.window import calendar_around, local_now, local_zone, next_window_start

# --- Digests ----------------------------------------------------------------------------------


class _Pending(NamedTuple):
    """A reminder waiting to be filed, as the assembly needs it (a tuple: a province's day's
    first sweep files tens of thousands, and model instances with four joined relations cost
    most of the sweep)."""

    id: int
    item: str
    step_id: int
    government_id: int
    department_id: int
    contact_id: int | None
    leader_id: int | None


@dataclass
class _People:
    heads: dict[int, list[int]]  # by department: active heads' ids
    office: dict[int, list[int]]  # by government: a task's office is its government's
    emails: dict[int, str]  # every active user named here: their address ("" for none)


def _people(pending: list[_Pending]) -> _People:
    """The active heads and offices, and the contacts and leaders the reminders name."""
    heads: dict[int, list[int]] = defaultdict(list)
    office: dict[int, list[int]] = defaultdict(list)
    named = {r.contact_id for r in pending} | {r.leader_id for r in pending}
    named.discard(None)
    people = User.objects.filter(is_active=True).filter(
        Q(role__in=[Role.HEAD, Role.SUPERVISOR]) | Q(pk__in=named)
    )
    emails = {}
    for pk, role, department_id, government_id, email in people.values_list(
        "pk", "role", "department_id", "government_id", "email"
    ):
        emails[pk] = email
        if role == Role.HEAD:
            heads[department_id].append(pk)
        elif role == Role.SUPERVISOR:
            office[government_id].append(pk)
    return _People(heads, office, emails)


def _audience(reminder: _Pending, step: ReminderStep, people: _People) -> tuple[set[int], bool]:
    """The users a reminder goes to, and whether the department's robots get it too."""
    if reminder.item.startswith("review:"):
        return set(people.office.get(reminder.government_id, [])), False
    heads = people.heads.get(reminder.department_id, [])
    users: set[int] = set()
    if reminder.item.startswith("signoff:"):
        # Waiting for the department's own head: the contact's rungs reach the heads, and
        # nothing goes to the group robots (the department's internal step).
        users.update(heads if step.to_contact or step.to_head else [])
        users.update(_escalated(step, reminder, people))
        return users, False
    if step.to_contact:
        contact = reminder.contact_id
        users.update([contact] if contact in people.emails else heads)
    if step.to_head:
        users.update(heads)
    users.update(_escalated(step, reminder, people))
    return users, step.by_webhook and (step.to_contact or step.to_head)


def _escalated(step: ReminderStep, reminder: _Pending, people: _People) -> set[int]:
    users: set[int] = set()
    if step.to_leader and reminder.leader_id in people.emails:
        users.add(reminder.leader_id)
    if step.to_office:
        users.update(people.office.get(reminder.government_id, []))
    return users


def _targets(pending: list[_Pending], steps, people) -> dict[tuple[str, int, str], list[int]]:
    """(u|d, id, channel) -> reminder ids: who hears about what, by which channel."""
    targets: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for reminder in pending:
        step = steps[reminder.step_id]
        users, to_robots = _audience(reminder, step, people)
        for user in users:
            if step.by_email and people.emails[user]:
                targets[("u", user, Channel.EMAIL)].append(reminder.id)
            if step.by_in_app:
                targets[("u", user, Channel.IN_APP)].append(reminder.id)
        if to_robots:
            targets[("d", reminder.department_id, Channel.WEBHOOK)].append(reminder.id)
    return targets


def _digest_key(digest: Digest) -> tuple[str, int, str]:
    if digest.recipient_id:
        return ("u", digest.recipient_id, digest.channel)
    return ("d", digest.department_id, digest.channel)


def _open_digests(keys, day: dt.date) -> dict[tuple[str, int, str], Digest]:
    """Insert-or-ignore the digests for keys on day, then lock the ones still open."""
    Digest.objects.bulk_create(
        [
            Digest(
                recipient_id=i if kind == "u" else None,
                department_id=i if kind == "d" else None,
                channel=channel,
                day=day,
            )
            for kind, i, channel in keys
        ],
        ignore_conflicts=True,
    )
    users = [i for kind, i, _c in keys if kind == "u"]
    departments = [i for kind, i, _c in keys if kind == "d"]
    digests = Digest.objects.select_for_update().filter(
        Q(recipient_id__in=users) | Q(department_id__in=departments),
        day=day,
        sealed_at__isnull=True,
    )
    return {_digest_key(d): d for d in digests if _digest_key(d) in keys}


def _deliveries(digests, hooks, send_at) -> list[Delivery]:
    rows = []
    for digest in digests:
        common = {"digest": digest, "channel": digest.channel, "next_attempt_at": send_at}
        if digest.channel == Channel.WEBHOOK:
            rows.extend(
                Delivery(key=f"digest:{digest.pk}:hook:{hook.pk}", webhook=hook, **common)
                for hook in hooks.get(digest.department_id, [])
            )
        else:
            rows.append(
                Delivery(key=f"digest:{digest.pk}", recipient_id=digest.recipient_id, **common)
            )
    return rows


def _pending(today: dt.date) -> list[_Pending]:
    """The reminders due by today not yet filed, locked (others' locked rows are skipped)."""
    rows = (
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(assembled_at__isnull=True, remind_on__lte=today)
        .order_by()
        .values_list(
            "id",
            "item",
            "step_id",
            "task__government_id",
            "task__lead_department_id",
            "task__lead_department__contact_person_id",
            "task__responsible_leader_id",
        )
    )
    return [_Pending._make(row) for row in rows]


@transaction.atomic
def digests_assemble(*, now: dt.datetime, calendar: WorkingCalendar | None = None) -> int:
    """File each unassembled reminder into its recipients' digests; the number of digests."""
    today = local_now(now).date()
    calendar = calendar or calendar_around(today)
    pending = _pending(today)
    if not pending:
        return 0
    steps = ReminderStep.objects.in_bulk({r.step_id for r in pending})
    hooks: dict[int, list[DepartmentWebhook]] = defaultdict(list)
    departments = {r.department_id for r in pending}
    for hook in DepartmentWebhook.objects.filter(is_active=True, department_id__in=departments):
        hooks[hook.department_id].append(hook)
    targets = {
        key: rows
        for key, rows in _targets(pending, steps, _people(pending)).items()
        if key[0] == "u" or hooks.get(key[1])
    }
    digests = _open_digests(set(targets), today)
    later = set(targets) - set(digests)
    next_day = calendar.next_working_day(today, include_today=False)
    tomorrow = _open_digests(later, next_day) if later else {}
    next_start = next_window_start(
        dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=local_zone()), calendar
    )
    Delivery.objects.bulk_create(
        _deliveries(digests.values(), hooks, now)
        + _deliveries(tomorrow.values(), hooks, next_start),
        ignore_conflicts=True,
    )
    items = [
        (digest.pk, reminder_id, f"{key[0]}{key[1]}", key[2])
        for chosen in (digests, tomorrow)
        for key, digest in chosen.items()
        for reminder_id in targets[key]
    ]
    _file_items(items)
    _mark_assembled([r.id for r in pending], now)
    audit_log(
        actor=None,
        action="reminders.assemble",
        object_type="digest",
        object_repr=str(today),
        after={
            "day": str(today),
            "reminders": len(pending),
            "digests": len(digests) + len(tomorrow),
            "items": len(items),
        },
    )
    return len(digests) + len(tomorrow)


def _file_items(items: list[tuple[int, int, str, str]]) -> None:
    """Insert-or-ignore (digest, reminder, recipient key, channel) rows: on PostgreSQL one
    INSERT ... SELECT FROM unnest(arrays), as the ladder inserts its reminders."""
    if not items:
        return
    if connection.vendor != "postgresql":
        DigestItem.objects.bulk_create(
            [
                DigestItem(digest_id=d, reminder_id=r, recipient_key=key, channel=channel)
                for d, r, key, channel in items
            ],
            ignore_conflicts=True,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(DigestItem._meta.db_table)} "
            "(digest_id, reminder_id, recipient_key, channel) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) "
            "ON CONFLICT DO NOTHING",
            [list(column) for column in zip(*items, strict=True)],
        )


def _mark_assembled(ids: list[int], now: dt.datetime) -> None:
    if connection.vendor != "postgresql":
        Reminder.objects.filter(pk__in=ids).update(assembled_at=now)
        return
    with connection.cursor() as cursor:  # one array, not tens of thousands of parameters
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(Reminder._meta.db_table)} "
            "SET assembled_at = %s WHERE id = ANY(%s::bigint[])",
            [now, ids],
        )


# --- Rendering --------------------------------------------------------------------------------


def item_label(item: str) -> str:
    kind, _sep, rest = item.partition(":")
    if kind == "report":
        period = dt.date.fromisoformat(rest)
        return _("%(year)s年%(month)s月进展报送") % {"year": period.year, "month": period.month}
    return {
        "deadline": _("完成时限"),
        "milestone": _("节点"),
        "receipt": _("任务签收"),
        "returned": _("退回报送待重新报送"),
        "review": _("报送待审核"),
        "signoff": _("报送待部门负责人审核"),
    }.get(kind, item)


def render_digest(digest: Digest) -> notify.Message:
    items = (
        DigestItem.objects.filter(digest=digest)
        .select_related("reminder__task")
        .order_by("-reminder__level", "reminder__due_date", "reminder__task__code", "id")
    )
    levels = dict(ReminderLevel.choices)
    lines = [
        f"- 【{levels[i.reminder.level]}】{i.reminder.task.code} {i.reminder.task.title}:"
        f"{item_label(i.reminder.item)},{_('到期日')} {i.reminder.due_date:%Y-%m-%d}"
        for i in items
    ]
    subject = _("督查督办提醒(%(day)s):%(count)s项事项") % {
        "day": f"{digest.day:%Y-%m-%d}",
        "count": len(lines),
    }
    return notify.Message(subject=subject, body="\n".join(lines))
