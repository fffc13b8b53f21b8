"""Reminders, chasing (催办) and escalation (督办): services and selectors.

Protocol (each step is safe to run twice, or twice at once):

1. ``reminders_decide(now)`` looks at what falls due (report cycles, deadlines, milestones,
   returned reports, tasks not received, reports awaiting review), applies each plan's ladder on
   the working calendar and inserts one Reminder per (task, step, item, day), insert-or-ignore.
2. ``digests_assemble(now)`` puts every new reminder in one Digest per (recipient, channel, day),
   insert-or-ignore, with one Delivery per digest (per robot for a department's webhooks). A
   digest takes items until its first delivery claim seals it; later items wait for the next
   working day's digest.
3. ``deliveries_due(now)`` lists deliveries to hand to workers; ``delivery_send(id, now)`` claims
   one with a conditional UPDATE and a lease, sends it, records the attempt, and schedules a retry
   with backoff or gives up. A delivery whose worker died is claimable again when its lease ends.

The database is the only schedule: a broker message says "look at delivery 42 now", never
"remind at T". Everything runs only inside the sending window (08:30-18:00 on working days by
default); a sweep outside it does nothing, a delivery outside it waits for the next window.
"""

import datetime as dt
import logging
import time
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import notify, permissions
from tasks_app.errors import NotPermitted, ServiceError
from tasks_app.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Department,
    DepartmentWebhook,
    Digest,
    DigestItem,
    ManualChase,
    Milestone,
    Notification,
    Plan,
    Reminder,
    ReminderLevel,
    ReminderRepeat,
    ReminderStep,
    ReportFrequency,
    Review,
    ReviewState,
    Role,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.services import _create, audit_log, snapshot
from tasks_app.workcalendar import WorkingCalendar

logger = logging.getLogger("gaoxin.reminders")

RECEIPT_WORKING_DAYS = 2  # a published task is to be received (签收) within this
RESUBMIT_WORKING_DAYS = 3  # a returned report is to be resubmitted within this
REVIEW_WORKING_DAYS = 3  # the office reviews a submitted report within this
LOOKAHEAD_DAYS = 45  # calendar days ahead that the earliest ladder step may look
REPORT_LOOKBACK_DAYS = 120  # unreported periods older than this are left to manual chasing
MAX_BACKOFF_SECONDS = 3600
WEEK = 5  # working days


class RateLimited(ServiceError):
    status = 429


# --- The sending window -----------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.REMINDER_TIMEZONE)


def _clock(value: str) -> dt.time:
    hours, minutes = (int(part) for part in value.split(":"))
    return dt.time.max if hours == 24 else dt.time(hours, minutes)


def local_now(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now, _zone())


def _calendar_around(day: dt.date) -> WorkingCalendar:
    """The years a sweep looks at: overdue items of the past year, due dates of the next weeks."""
    return WorkingCalendar.load(day - dt.timedelta(days=366), day + dt.timedelta(days=60))


def in_window(now: dt.datetime, calendar: WorkingCalendar | None = None) -> bool:
    local = local_now(now)
    start, end = _clock(settings.REMINDER_WINDOW_START), _clock(settings.REMINDER_WINDOW_END)
    if not start <= local.time() < end:
        return False
    if not settings.REMINDER_WORKING_DAYS_ONLY:
        return True
    calendar = calendar or WorkingCalendar.load(local.date(), local.date())
    return calendar.is_working_day(local.date())


def next_window_start(now: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """now if inside the window, else the next moment the window opens."""
    if in_window(now, calendar):
        return now
    local = local_now(now)
    start = _clock(settings.REMINDER_WINDOW_START)
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    if settings.REMINDER_WORKING_DAYS_ONLY:
        calendar = calendar or WorkingCalendar.load(day, day + dt.timedelta(days=30))
        day = calendar.next_working_day(day)
    return dt.datetime.combine(day, start, tzinfo=_zone())


# --- What falls due ---------------------------------------------------------------------------


class DueItem(NamedTuple):  # a tuple, not a dataclass: a province sweep makes thousands
    task_id: int
    plan_id: int
    item: str
    due: dt.date
    opened: dt.date  # reminders before the item existed make no sense
    office_only: bool = False


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period_of(day: dt.date, quarterly: bool) -> dt.date:
    month = (day.month - 1) // 3 * 3 + 1 if quarterly else day.month
    return dt.date(day.year, month, 1)


def report_due_date(period: dt.date, *, report_day: int, quarterly: bool) -> dt.date:
    """A period's report is due on the plan's report day of the month after the period."""
    return _add_months(period, 3 if quarterly else 1).replace(day=report_day)


class _ReportSchedule:
    """The report periods due around today, worked out once per (frequency, report day, start,
    deadline) rather than once per task: a province has tens of thousands of tasks and a
    handful of schedules."""

    def __init__(self, today: dt.date):
        self.since = today - dt.timedelta(days=REPORT_LOOKBACK_DAYS)
        self.horizon = today + dt.timedelta(days=LOOKAHEAD_DAYS)
        self._cache: dict[tuple, list[tuple]] = {}
        # Every period any task can be asked about: each month from the lookback's quarter.
        period, self.bits = _period_of(self.since, quarterly=True), {}
        while period <= self.horizon:
            self.bits[period] = 1 << len(self.bits)
            period = _add_months(period, 1)

    def reported(self) -> Subquery:
        """A task's reported candidate periods as one number, a bit per period: the database
        answers "which of these periods has a report" without sending every report over."""
        bit = Case(
            *[When(period=period, then=Value(bit)) for period, bit in self.bits.items()],
            default=Value(0),
            output_field=IntegerField(),
        )
        reports = StatusUpdate.objects.filter(task=OuterRef("pk"), period__in=list(self.bits))
        return Subquery(
            reports.order_by().values("task").annotate(bits=Sum(bit)).values("bits"),
            output_field=IntegerField(),
        )

    def periods(self, quarterly: bool, report_day: int, start: dt.date, deadline: dt.date | None):
        """(period, due, item, bit) from start (or the lookback) up to the deadline's period
        whose report is due by the horizon; tasks share start days and deadlines."""
        key = (quarterly, report_day, start, deadline)
        if key not in self._cache:
            first = _period_of(max(start, self.since), quarterly)
            last = _period_of(deadline, quarterly) if deadline else None
            self._cache[key] = self._periods(quarterly, report_day, first, last)
        return self._cache[key]

    def _periods(self, quarterly, report_day, period, last) -> list[tuple]:
        rows = []
        while last is None or period <= last:
            due = report_due_date(period, report_day=report_day, quarterly=quarterly)
            if due > self.horizon:
                break
            rows.append((period, due, f"report:{period}", self.bits[period]))
            period = _add_months(period, 3 if quarterly else 1)
        return rows


def _report_items(task: dict, plan: dict, schedule: _ReportSchedule) -> list[DueItem]:
    quarterly = task["report_frequency"] == ReportFrequency.QUARTERLY
    start = task["start_date"] or (plan["published"] or dt.date(plan["year"], 1, 1))
    periods = schedule.periods(quarterly, plan["report_day"], start, task["deadline"])
    reported = task["reported"] or 0
    return [
        DueItem(task["id"], task["plan_id"], item, due, period)
        for period, due, item, bit in periods
        if not reported & bit
    ]


def _task_items(task: dict, plan: dict, schedule: _ReportSchedule, calendar) -> list[DueItem]:
    items = []
    status_open = task["status"] not in (TaskStatus.DONE, TaskStatus.ONGOING)
    if task["deadline"] and status_open:
        opened = task["start_date"] or plan["published"]
        items.append(DueItem(task["id"], task["plan_id"], "deadline", task["deadline"], opened))
    if not task["received"]:
        due = calendar.add_working_days(plan["published"], RECEIPT_WORKING_DAYS)
        items.append(DueItem(task["id"], task["plan_id"], "receipt", due, plan["published"]))
    if task["status"] != TaskStatus.DONE:
        items.extend(_report_items(task, plan, schedule))
    return items


def _open_tasks() -> QuerySet[Task]:
    return Task.objects.filter(plan__status=Plan.Status.PUBLISHED, lead_department__isnull=False)


def _chased_tasks() -> QuerySet[Task]:
    """Open tasks with anything of their own to chase: not done, or not yet received."""
    return _open_tasks().filter(Q(received_at__isnull=True) | ~Q(status=TaskStatus.DONE))


def due_items(*, today: dt.date, calendar: WorkingCalendar) -> list[DueItem]:
    """Everything that falls due around today; four queries, whatever the number of tasks.

    Done tasks that were received are not read; each task comes with its reported periods as
    bits; a plan's year, report day and publication day are read once, not once per task.
    """
    schedule = _ReportSchedule(today)
    plans = {
        plan["id"]: dict(plan, published=local_now(plan["published_at"]).date())
        for plan in Plan.objects.filter(status=Plan.Status.PUBLISHED).values(
            "id", "year", "report_day", "published_at"
        )
    }
    tasks = (
        _chased_tasks()
        .annotate(
            reported=schedule.reported(),
            received=ExpressionWrapper(Q(received_at__isnull=False), output_field=BooleanField()),
        )
        .order_by()  # items become rows keyed by their own unique key: any order will do
        .values(
            "id",
            "plan_id",
            "status",
            "start_date",
            "deadline",
            "report_frequency",
            "received",
            "reported",
        )
    )
    items = []
    for task in tasks:
        items.extend(_guarded(_task_items, task, plans[task["plan_id"]], schedule, calendar))
    items.extend(_milestone_items(today))
    items.extend(_update_items(calendar))
    return items


def _guarded(function, *args) -> list[DueItem]:
    """Dates outside the loaded calendar (years away from today) are skipped, not fatal."""
    try:
        return function(*args)
    except ValueError as exc:
        logger.warning("reminders skipped some items: %s", exc)
        return []


def _milestone_items(today: dt.date) -> list[DueItem]:
    milestones = Milestone.objects.filter(
        task__in=_open_tasks().exclude(status=TaskStatus.DONE),
        done_date__isnull=True,
        due_date__lte=today + dt.timedelta(days=LOOKAHEAD_DAYS),
    ).values("id", "task_id", "task__plan_id", "task__start_date", "due_date")
    return [
        DueItem(
            m["task_id"],
            m["task__plan_id"],
            f"milestone:{m['id']}",
            m["due_date"],
            m["task__start_date"] or m["due_date"] - dt.timedelta(days=366),
        )
        for m in milestones
    ]


def _update_items(calendar: WorkingCalendar) -> list[DueItem]:
    """Returned reports waiting to be resubmitted; submitted ones waiting for the office."""
    updates = (
        StatusUpdate.objects.filter(
            task__in=_open_tasks(),
            review_state__in=[ReviewState.RETURNED, ReviewState.SUBMITTED],
        )
        .annotate(returned_at=Max("reviews__created_at"))
        .values(
            "id",
            "task_id",
            "task__plan_id",
            "revision",
            "review_state",
            "submitted_at",
            "returned_at",
        )
    )
    return [item for u in updates for item in _guarded(_update_item, u, calendar)]


def _update_item(u: dict, calendar: WorkingCalendar) -> list[DueItem]:
    if u["review_state"] == ReviewState.RETURNED:
        opened = local_now(u["returned_at"] or u["submitted_at"]).date()
        due = calendar.add_working_days(opened, RESUBMIT_WORKING_DAYS)
        item, office_only = f"returned:{u['id']}:{u['revision']}", False
    else:
        opened = local_now(u["submitted_at"]).date()
        due = calendar.add_working_days(opened, REVIEW_WORKING_DAYS)
        item, office_only = f"review:{u['id']}:{u['revision']}", True
    return [DueItem(u["task_id"], u["task__plan_id"], item, due, opened, office_only)]


# --- The ladder -------------------------------------------------------------------------------


def step_occurrence(step: ReminderStep, k: int, catch_up: int) -> int | None:
    """The latest working-day offset at which step fires, given today is k working days after
    the due day (negative: before); None when it does not fire or fired too long ago."""
    if k < step.offset:
        return None
    if step.repeat == ReminderRepeat.ONCE:
        occurrence = step.offset
    elif step.repeat == ReminderRepeat.DAILY:
        occurrence = k
    else:
        occurrence = step.offset + (k - step.offset) // WEEK * WEEK
    return occurrence if k - occurrence <= catch_up else None


def ladders() -> dict[int | None, list[ReminderStep]]:
    """Active steps by plan id; None holds the default ladder."""
    by_plan: dict[int | None, list[ReminderStep]] = defaultdict(list)
    for step in ReminderStep.objects.filter(is_active=True).order_by("offset", "id"):
        by_plan[step.plan_id].append(step)
    return by_plan


def _effective_due(due: dt.date, calendar: WorkingCalendar) -> dt.date:
    """A due day on a holiday or weekend is due on the working day before it."""
    return due if calendar.is_working_day(due) else calendar.add_working_days(due, -1)


def _firing(steps, due: dt.date, today, calendar, catch_up) -> list[tuple[ReminderStep, dt.date]]:
    """(step, remind_on) for each rung that fires today for an item due on due."""
    effective = _effective_due(due, calendar)
    k = calendar.working_days_between(effective, today)
    fired = []
    for step in steps:
        occurrence = step_occurrence(step, k, catch_up)
        if occurrence is not None:
            fired.append((step, calendar.add_working_days(effective, occurrence)))
    return fired


class _Ladder:
    """The rungs firing today, worked out once per (ladder, due day): items share due days."""

    def __init__(self, today: dt.date, calendar: WorkingCalendar):
        self.today, self.calendar = today, calendar
        self.by_plan = ladders()
        self.catch_up = settings.REMINDER_CATCH_UP_WORKING_DAYS
        self._cache: dict[tuple, list | ValueError] = {}

    def fired(self, item: DueItem) -> list[tuple[ReminderStep, dt.date]]:
        """Raises ValueError when the due day is outside the loaded calendar."""
        key = (item.plan_id, item.due)
        if key not in self._cache:
            steps = self.by_plan.get(item.plan_id) or self.by_plan.get(None, [])
            try:
                self._cache[key] = _firing(
                    steps, item.due, self.today, self.calendar, self.catch_up
                )
            except ValueError as exc:
                self._cache[key] = exc
        fired = self._cache[key]
        if isinstance(fired, ValueError):
            raise fired
        return [(step, day) for step, day in fired if day >= item.opened]


@dataclass
class SweepResult:
    in_window: bool
    reminders: int = 0
    digests: int = 0
    delivery_ids: list[int] = field(default_factory=list)


def reminders_decide(*, now: dt.datetime, calendar: WorkingCalendar | None = None) -> int:
    """Insert today's reminder decisions (insert-or-ignore); the number of candidate rows.

    Most candidates were decided by an earlier sweep (a rung fires on one day and is caught up
    for a few): those are looked up in one query and not sent to the database again.
    """
    today = local_now(now).date()
    calendar = calendar or _calendar_around(today)
    ladder = _Ladder(today, calendar)
    candidates = []  # (key as the unique constraint has it, item, step)
    for item in due_items(today=today, calendar=calendar):
        try:
            fired = ladder.fired(item)
        except ValueError:  # a due date outside the loaded calendar years: too old to matter
            logger.info("skipping %s of task %s due %s", item.item, item.task_id, item.due)
            continue
        candidates.extend(
            ((item.task_id, step.id, item.item, day), item, step) for step, day in fired
        )
    decided = _decided(candidates)
    rows = [
        Reminder(
            task_id=item.task_id,
            step_id=step.id,
            item=item.item,
            due_date=item.due,
            remind_on=key[3],
            level=step.level,
        )
        for key, item, step in candidates
        if key not in decided
    ]
    with transaction.atomic():
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        if candidates:
            audit_log(
                actor=None,
                action="reminders.decide",
                object_type="reminder",
                object_repr=f"{today}",
                after={"day": str(today), "candidates": len(candidates)},
            )
    return len(candidates)


def _decided(candidates) -> set[tuple[int, int, str, dt.date]]:
    """The candidates' keys that are already rows: one query over their (step, day) pairs."""
    pairs = {(key[1], key[3]) for key, _item, _step in candidates}
    if not pairs:
        return set()
    # One statement, a UNION ALL branch per pair: each reads the covering index alone, where
    # an OR of the pairs makes PostgreSQL visit the table.
    keys = ("task_id", "step_id", "item", "remind_on")
    first, *rest = [
        Reminder.objects.filter(step_id=step_id, remind_on=day).order_by().values_list(*keys)
        for step_id, day in sorted(pairs)
    ]
    return set(first.union(*rest, all=True) if rest else first)


# --- Digests ----------------------------------------------------------------------------------


@dataclass
class _People:
    heads: dict[int, list[User]]
    office: list[User]


def _people() -> _People:
    heads: dict[int, list[User]] = defaultdict(list)
    office = []
    for user in User.objects.filter(is_active=True, role__in=[Role.HEAD, Role.SUPERVISOR]):
        if user.role == Role.HEAD:
            heads[user.department_id].append(user)
        else:
            office.append(user)
    return _People(heads, office)


def _audience(reminder: Reminder, people: _People) -> tuple[set[User], bool]:
    """The users a reminder goes to, and whether the department's robots get it too."""
    step, task = reminder.step, reminder.task
    if reminder.item.startswith("review:"):
        return set(people.office), False
    department = task.lead_department
    heads = people.heads.get(department.pk, [])
    users: set[User] = set()
    if step.to_contact:
        contact = department.contact_person
        users.update([contact] if contact and contact.is_active else heads)
    if step.to_head:
        users.update(heads)
    if step.to_leader and task.responsible_leader and task.responsible_leader.is_active:
        users.add(task.responsible_leader)
    if step.to_office:
        users.update(people.office)
    return users, step.by_webhook and (step.to_contact or step.to_head)


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
    calendar = calendar or _calendar_around(today)
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
        dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=_zone()), calendar
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


# --- Delivery ---------------------------------------------------------------------------------


def deliveries_due(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Deliveries to hand to workers now: due, or claimed by a worker whose lease ran out.

    Each is marked enqueued, so the next sweep skips it for a grace period; if the broker lost
    the message, the one after that sends it again (a duplicate message finds nothing to claim).
    """
    grace = dt.timedelta(seconds=settings.REMINDER_DISPATCH_GRACE_SECONDS)
    ids = list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def _claimable(now: dt.datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )


def delivery_claim(*, delivery_id: int, now: dt.datetime) -> Delivery | None:
    """Take the delivery with a lease; None when it is not due or another worker holds it."""
    token = uuid.uuid4().hex
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    candidate = Delivery.objects.filter(_claimable(now), pk=delivery_id).first()
    if candidate is None:
        return None
    with transaction.atomic():
        if candidate.digest_id:  # lock order: digest, then delivery (as digests_assemble)
            Digest.objects.filter(pk=candidate.digest_id, sealed_at__isnull=True).update(
                sealed_at=now
            )
        claimed = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=DeliveryStatus.SENDING,
            claimed_until=now + lease,
            claim_token=token,
            attempts=F("attempts") + 1,
        )
    if not claimed:
        return None
    return Delivery.objects.select_related("digest", "recipient", "webhook").get(pk=delivery_id)


def _message(delivery: Delivery) -> notify.Message:
    if delivery.digest_id:
        return render_digest(delivery.digest)
    return notify.Message(subject=delivery.subject, body=delivery.body)


def _send(delivery: Delivery, now: dt.datetime) -> str:
    message = _message(delivery)
    if delivery.channel == Channel.EMAIL:
        return notify.send_email(
            recipient=delivery.recipient, message=message, reference=f"delivery{delivery.pk}"
        )
    if delivery.channel == Channel.IN_APP:
        return notify.send_in_app(
            recipient=delivery.recipient, message=message, digest_id=delivery.digest_id
        )
    return notify.send_webhook(
        hook=delivery.webhook, message=message, timestamp_ms=int(now.timestamp() * 1000)
    )


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def _outcome(delivery: Delivery, now, finished, provider_id: str, error: str) -> dict:
    if not error:
        return {
            "status": DeliveryStatus.SENT,
            "sent_at": finished,
            "provider_id": provider_id[:200],
            "error": "",
            "claimed_until": None,
        }
    if delivery.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        return {"status": DeliveryStatus.FAILED, "error": error, "claimed_until": None}
    return {
        "status": DeliveryStatus.PENDING,
        "error": error,
        "claimed_until": None,
        "next_attempt_at": now + _backoff(delivery.attempts),
        "enqueued_at": None,
    }


@transaction.atomic
def _record(delivery: Delivery, started, finished, provider_id: str, error: str) -> str:
    values = _outcome(delivery, started, finished, provider_id, error)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        channel=delivery.channel,
        started_at=started,
        finished_at=finished,
        ok=not error,
        provider_id=provider_id[:200],
        error=error,
    )
    current = Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)
    if not current.update(**values):  # our lease ran out and another worker took over
        return "superseded"
    status = values["status"]
    action = {"sent": "delivery.sent", "failed": "delivery.failed"}.get(status, "delivery.retry")
    audit_log(
        actor=None,
        action=action,
        object_type="delivery",
        object_id=str(delivery.pk),
        object_repr=delivery.key,
        after={
            "channel": delivery.channel,
            "attempt": delivery.attempts,
            "status": status,
            "provider_id": provider_id[:200],
            "error": error[:500],
        },
    )
    return status


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Claim, send and record one delivery; returns what happened (for logs and tests)."""
    now = now or timezone.now()
    if not in_window(now):
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            next_attempt_at=next_window_start(now), enqueued_at=None
        )
        return "outside_window"
    delivery = delivery_claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return "not_claimed"
    provider_id, error = "", ""
    started = time.monotonic()
    try:
        provider_id = _send(delivery, now)
    except notify.DeliveryFailed as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # a bug or an outage: record it, retry later like any failure
        logger.exception("delivery %s failed unexpectedly", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    finished = now + dt.timedelta(seconds=time.monotonic() - started)
    return _record(delivery, now, finished, provider_id, error)


# --- Sweep ------------------------------------------------------------------------------------


def reminders_sweep(*, now: dt.datetime) -> SweepResult:
    """Decide, assemble and list due deliveries, inside the sending window only."""
    calendar = _calendar_around(local_now(now).date())
    if not in_window(now, calendar):
        return SweepResult(in_window=False)
    result = SweepResult(in_window=True)
    result.reminders = reminders_decide(now=now, calendar=calendar)
    result.digests = digests_assemble(now=now, calendar=calendar)
    result.delivery_ids = deliveries_due(now=now)
    return result


def enqueue_deliveries(delivery_ids: list[int]) -> int:
    """Nudge workers; a broker outage is logged, never raised (the sweep retries later)."""
    from tasks_app.tasks import deliver

    sent = 0
    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(
                (delivery_id,), task_id=f"deliver-{delivery_id}-{uuid.uuid4().hex[:12]}"
            )
            sent += 1
        except Exception:
            logger.warning(
                "could not enqueue delivery %s; the sweep will retry", delivery_id, exc_info=True
            )
    return sent


def enqueue_after_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: enqueue_deliveries(list(delivery_ids)), robust=True)


def run_embedded_once(*, now: dt.datetime | None = None) -> SweepResult:
    """Demo mode without a broker: the same sweep and delivery code, in this process."""
    now = now or timezone.now()
    result = reminders_sweep(now=now)
    for delivery_id in result.delivery_ids:
        delivery_send(delivery_id=delivery_id, now=now)
    return result


def start_embedded_scheduler(interval: int | None = None):
    """A daemon thread running run_embedded_once every interval seconds (make run)."""
    import threading

    from django.db import close_old_connections

    interval = interval or settings.REMINDER_EMBEDDED_INTERVAL_SECONDS
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            close_old_connections()
            try:
                result = run_embedded_once()
                if result.delivery_ids:
                    logger.info("embedded sweep sent %s deliveries", len(result.delivery_ids))
            except Exception:
                logger.exception("embedded reminder sweep failed")
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="reminder-sweep", daemon=True)
    thread.start()
    return thread, stop


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


# --- Manual chasing (催办) ----------------------------------------------------------------------


def _check_chase(actor: User, department: Department, task: Task | None, note: str, now):
    if not permissions.is_office(actor):
        raise NotPermitted(_("只有督查室可以催办。"))
    if not note.strip():
        raise ServiceError("note_required", _("请填写催办说明。"), field="note")
    if len(note) > 1000:
        raise ServiceError("note_too_long", _("催办说明不能超过1000字。"), field="note")
    since = now - dt.timedelta(minutes=settings.REMINDER_CHASE_INTERVAL_MINUTES)
    recent = ManualChase.objects.filter(department=department, created_at__gte=since)
    recent = recent.filter(task=task) if task else recent.filter(task__isnull=True)
    if recent.exists():
        raise RateLimited(
            "chase_rate_limited",
            _("%(minutes)s分钟内已催办过,请稍后再试。")
            % {"minutes": settings.REMINDER_CHASE_INTERVAL_MINUTES},
        )


def _chase(*, actor, department, task, note, now) -> ManualChase:
    department = Department.objects.select_for_update().get(pk=department.pk)
    _check_chase(actor, department, task, note, now)
    chase = _create(
        actor,
        "chase.create",
        ManualChase,
        chased_by=actor,
        task=task,
        department=department,
        note=note.strip(),
        created_at=now,
    )
    if task:
        title = _("督查室催办:%(code)s %(title)s") % {"code": task.code, "title": task.title}
        body = note.strip()
    else:
        open_tasks = (
            _open_tasks()
            .filter(lead_department=department)
            .exclude(status=TaskStatus.DONE)
            .order_by("code")
            .values_list("code", "title")
        )
        title = _("督查室催办:%(department)s") % {"department": department.name}
        body = note.strip() + "\n" + "\n".join(f"- {c} {t}" for c, t in open_tasks)
    key = f"chase:{chase.pk}"
    rows = _notify_users(
        department_contacts(department),
        kind="chase",
        title=title,
        body=body,
        task=task,
        key=key,
        now=now,
    )
    rows += _robot_deliveries(department, title=title, body=body, task=task, key=key, now=now)
    _enqueue_keys([d.key for d in rows])
    return chase


@transaction.atomic
def chase_task(*, actor: User, task: Task, note: str, now: dt.datetime | None = None):
    if task.lead_department_id is None:
        raise ServiceError("task_unassigned", _("该任务尚未确定牵头单位,无法催办。"))
    return _chase(
        actor=actor,
        department=task.lead_department,
        task=task,
        note=note,
        now=now or timezone.now(),
    )


@transaction.atomic
def chase_department(
    *, actor: User, department: Department, note: str, now: dt.datetime | None = None
):
    return _chase(
        actor=actor, department=department, task=None, note=note, now=now or timezone.now()
    )


# --- Department robots (admin) ------------------------------------------------------------------

_WEBHOOK_FIELDS = ["department", "kind", "url", "secret", "is_active"]


def _webhook_snapshot(hook: DepartmentWebhook, fields: list[str]) -> dict:
    """Audited values with the robot's credentials (the URL's key or token, the secret) hidden."""
    values = snapshot(hook, [f for f in fields if f in _WEBHOOK_FIELDS])
    if "url" in values:
        values["url"] = urllib.parse.urlsplit(hook.url)._replace(query="***").geturl()
    if "secret" in values:
        values["secret"] = "***" if hook.secret else ""
    return values


@transaction.atomic
def webhook_save(*, actor: User, hook: DepartmentWebhook, changed: list[str], is_new: bool):
    before = (
        None if is_new else _webhook_snapshot(DepartmentWebhook.objects.get(pk=hook.pk), changed)
    )
    hook.save()
    audit_log(
        actor=actor,
        action="departmentwebhook.create" if is_new else "departmentwebhook.update",
        obj=hook,
        before=before,
        after=_webhook_snapshot(hook, _WEBHOOK_FIELDS if is_new else changed),
    )
    return hook


@transaction.atomic
def webhook_delete(*, actor: User, hook: DepartmentWebhook) -> None:
    audit_log(
        actor=actor,
        action="departmentwebhook.delete",
        obj=hook,
        before=_webhook_snapshot(hook, _WEBHOOK_FIELDS),
    )
    hook.delete()


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
