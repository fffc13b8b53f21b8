"""The ladder: which rungs fire today, and the reminders they decide."""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction

from tasks_app.audit.services import audit_log
from tasks_app.models import (
    Plan,
    Reminder,
    ReminderRepeat,
    ReminderStep,
)
from tasks_app.plans.tenants import default_government_id
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders.due import DueItem, due_items
from tasks_app.reminders.window import calendar_around, local_now

logger = logging.getLogger("gaoxin.reminders")


WEEK = 5  # working days


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


def ladders() -> dict[tuple[int, int | None], list[ReminderStep]]:
    """Active steps by (government id, plan id); plan None holds a government's default ladder."""
    by_key: dict[tuple[int, int | None], list[ReminderStep]] = defaultdict(list)
    for step in ReminderStep.objects.filter(is_active=True).order_by("offset", "id"):
        by_key[(step.government_id, step.plan_id)].append(step)
    return by_key


class Ladders:
    """Whose rungs apply to a plan: its own; else its government's default ladder; else the
    default government's (a new government starts with the seed's ladder until it sets its own)."""

    def __init__(self):
        self.by_key = ladders()
        self.default_government = default_government_id()
        self.plan_governments = dict(Plan.objects.values_list("pk", "government_id"))

    def steps(self, plan_id: int) -> list[ReminderStep]:
        government = self.plan_governments.get(plan_id)
        return (
            self.by_key.get((government, plan_id))
            or self.by_key.get((government, None))
            or self.by_key.get((self.default_government, None), [])
        )


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
        self.ladders = Ladders()
        self.catch_up = settings.REMINDER_CATCH_UP_WORKING_DAYS
        self._cache: dict[tuple, list | ValueError] = {}

    def fired(self, item: DueItem) -> list[tuple[ReminderStep, dt.date]]:
        """Raises ValueError when the due day is outside the loaded calendar."""
        key = (item.plan_id, item.due)
        if key not in self._cache:
            steps = self.ladders.steps(item.plan_id)
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


def reminders_decide(*, now: dt.datetime, calendar: WorkingCalendar | None = None) -> int:
    """Insert today's reminder decisions (insert-or-ignore); the number of candidate rows.

    Most candidates were decided by an earlier sweep (a rung fires on one day and is caught up
    for a few): those are looked up in one query and not sent to the database again.
    """
    today = local_now(now).date()
    calendar = calendar or calendar_around(today)
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
        (item.task_id, step.id, item.item, item.due, key[3], step.level)
        for key, item, step in candidates
        if key not in decided
    ]
    with transaction.atomic():
        _insert_or_ignore(rows, created_at=now)
        if candidates:
            audit_log(
                actor=None,
                action="reminders.decide",
                object_type="reminder",
                object_repr=f"{today}",
                after={"day": str(today), "candidates": len(candidates)},
            )
    return len(candidates)


def _insert_or_ignore(rows: list[tuple], *, created_at: dt.datetime) -> None:
    """Insert (task, step, item, due, remind_on, level) rows, skipping any already there.

    On PostgreSQL one INSERT ... SELECT FROM unnest(arrays): the day's first sweep inserts a few
    thousand rows, which bulk_create spent a quarter of the sweep building and binding.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        Reminder.objects.bulk_create(
            [
                Reminder(
                    task_id=task_id,
                    step_id=step_id,
                    item=item,
                    due_date=due,
                    remind_on=remind_on,
                    level=level,
                    created_at=created_at,
                )
                for task_id, step_id, item, due, remind_on, level in rows
            ],
            ignore_conflicts=True,
        )
        return
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(Reminder._meta.db_table)} "
            "(task_id, step_id, item, due_date, remind_on, level, created_at) "
            "SELECT task_id, step_id, item, due_date, remind_on, level, %s FROM unnest("
            "%s::bigint[], %s::bigint[], %s::varchar[], %s::date[], %s::date[], %s::varchar[]"
            ") AS r(task_id, step_id, item, due_date, remind_on, level) "
            "ON CONFLICT DO NOTHING",
            [created_at, *(list(column) for column in columns)],
        )


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
