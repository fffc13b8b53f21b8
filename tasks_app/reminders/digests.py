"""Digests: one per (recipient, channel, day), and how they read."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
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
    Role,
    User,
)
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders import channels as notify
from tasks_app.reminders.window import calendar_around, local_now, local_zone, next_window_start

# --- Digests ----------------------------------------------------------------------------------


@dataclass
class _People:
    heads: dict[int, list[User]]
    office: dict[int, list[User]]  # by government: a task's office is its government's


def _people() -> _People:
    heads: dict[int, list[User]] = defaultdict(list)
    office: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(is_active=True, role__in=[Role.HEAD, Role.SUPERVISOR]):
        if user.role == Role.HEAD:
            heads[user.department_id].append(user)
        else:
            office[user.government_id].append(user)
    return _People(heads, office)


def _audience(reminder: Reminder, people: _People) -> tuple[set[User], bool]:
    """The users a reminder goes to, and whether the department's robots get it too."""
    step, task = reminder.step, reminder.task
    if reminder.item.startswith("review:"):
        return set(people.office.get(task.government_id, [])), False
    department = task.lead_department
    heads = people.heads.get(department.pk, [])
    users: set[User] = set()
    if reminder.item.startswith("signoff:"):
        # Waiting for the department's own head: the contact's rungs reach the heads, and
        # nothing goes to the group robots (the department's internal step).
        users.update(heads if step.to_contact or step.to_head else [])
        users.update(_escalated(step, task, people))
        return users, False
    if step.to_contact:
        contact = department.contact_person
        users.update([contact] if contact and contact.is_active else heads)
    if step.to_head:
        users.update(heads)
    users.update(_escalated(step, task, people))
    return users, step.by_webhook and (step.to_contact or step.to_head)


def _escalated(step, task, people: _People) -> set[User]:
    users: set[User] = set()
    if step.to_leader and task.responsible_leader and task.responsible_leader.is_active:
        users.add(task.responsible_leader)
    if step.to_office:
        users.update(people.office.get(task.government_id, []))
    return users


def _targets(reminders, people) -> dict[tuple[str, int, str], list[Reminder]]:
    """(u|d, id, channel) -> reminders: who hears about what, by which channel."""
    targets: dict[tuple[str, int, str], list[Reminder]] = defaultdict(list)
    for reminder in reminders:
        users, to_robots = _audience(reminder, people)
        for user in users:
            if reminder.step.by_email and user.email:
                targets[("u", user.pk, Channel.EMAIL)].append(reminder)
            if reminder.step.by_in_app:
                targets[("u", user.pk, Channel.IN_APP)].append(reminder)
        if to_robots:
            targets[("d", reminder.task.lead_department_id, Channel.WEBHOOK)].append(reminder)
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


@transaction.atomic
def digests_assemble(*, now: dt.datetime, calendar: WorkingCalendar | None = None) -> int:
    """File each unassembled reminder into its recipients' digests; the number of digests."""
    today = local_now(now).date()
    calendar = calendar or calendar_around(today)
    reminders = list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(assembled_at__isnull=True, remind_on__lte=today)
        .select_related("step", "task__lead_department__contact_person", "task__responsible_leader")
    )
    if not reminders:
        return 0
    hooks: dict[int, list[DepartmentWebhook]] = defaultdict(list)
    departments = {r.task.lead_department_id for r in reminders}
    for hook in DepartmentWebhook.objects.filter(is_active=True, department_id__in=departments):
        hooks[hook.department_id].append(hook)
    targets = {
        key: rows
        for key, rows in _targets(reminders, _people()).items()
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
        DigestItem(
            digest=digest, reminder=reminder, recipient_key=f"{key[0]}{key[1]}", channel=key[2]
        )
        for chosen in (digests, tomorrow)
        for key, digest in chosen.items()
        for reminder in targets[key]
    ]
    DigestItem.objects.bulk_create(items, ignore_conflicts=True)
    Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(assembled_at=now)
    audit_log(
        actor=None,
        action="reminders.assemble",
        object_type="digest",
        object_repr=str(today),
        after={
            "day": str(today),
            "reminders": len(reminders),
            "digests": len(digests) + len(tomorrow),
            "items": len(items),
        },
    )
    return len(digests) + len(tomorrow)


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
