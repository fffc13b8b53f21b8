"""A year of reminders as the sweep would have left them, for the generated province.

The sweep (tasks_app.reminders) runs every minute of every working day's sending window, so by
the day before SWEEP_AT every rung of the ladder that fired has one Reminder row, keyed as the
sweep keys them (task, step, item, remind_on), and each government's office's in-app digest of
each day with its items, delivery, attempt and notification. Filled here by replaying the
ladder per item in Python and loading the rows with COPY; the rules are the sweep's:

- report:<period> for each period of the task's report schedule (tasks_app.plans.report_schedule:
  due on the plan's report day after the period, moved off rest days), from the period's first
  day until the report arrives (submitted 17:00 local, after that day's sweeps) or the task is
  done; a missed report is chased until it falls out of the 120-day lookback;
- deadline, from the task's start until the task is done;
- review:<update>:<revision>, from submission until the office's review (goes to the office).

The generator publishes each plan on its report day and has each task received an hour later
(bench.generate.PUBLISHED_AT), so no receipt is chased.
"""

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from zoneinfo import ZoneInfo

from bench.generate import YEAR

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The benchmark's sweep: a working Monday morning, the last week of the generated year, when the
# deadline's "3 working days before" rung has fired and missed reports are being chased.
SWEEP_AT = dt.datetime(YEAR, 12, 29, 9, 30, tzinfo=SHANGHAI)
SENT_AT = dt.time(8, 31)
CHUNK = 100_000  # reminders per COPY: about a million at scale 1.0, not all in memory at once


def fill(*, scale: float, seed: int, counts) -> None:
    """Write the reminders, digests and deliveries of every working day before SWEEP_AT."""
    from django.db import transaction

    del scale, seed  # everything follows from the generated rows
    with transaction.atomic():
        _skip_capture()
        _ensure_default_ladder()
        state = _State.load(history_end=SWEEP_AT.date() - dt.timedelta(days=1))
        reminders = state.reminders()
        _write(state, reminders, counts)


def _skip_capture() -> None:
    """Setup rows are not audited changes (as bench.generate): the capture triggers skip them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gaoxin.audited', 'on', true)")


def _ensure_default_ladder() -> None:
    """Migration 0008 seeds the default ladder; put it back if someone emptied the table."""
    import importlib

    from django.apps import apps

    from tasks_app.models import ReminderStep

    if not ReminderStep.objects.filter(plan__isnull=True).exists():
        migration = importlib.import_module("tasks_app.migrations.0008_reminders")
        migration.create_default_ladder(apps, None)


class _State:
    """The generated rows the ladder needs, the working days, and the office."""

    @classmethod
    def load(cls, history_end: dt.date) -> "_State":
        from tasks_app.models import Department, Role, StatusUpdate, User
        from tasks_app.plans.report_schedule import DueDates
        from tasks_app.plans.workcalendar import WorkingCalendar
        from tasks_app.reminders import due as reminders_due
        from tasks_app.reminders import ladder

        self = cls()
        self.history_end = history_end
        calendar = WorkingCalendar.load(dt.date(YEAR - 1, 1, 1), dt.date(YEAR + 1, 12, 31))
        self.calendar = calendar
        self.due_dates = DueDates(calendar)
        first = dt.date(YEAR - 1, 1, 1)
        days = (first + dt.timedelta(days=i) for i in range(366 * 3))
        self.working = [d for d in days if d <= calendar.last and calendar.is_working_day(d)]
        self.ladders = ladder.Ladders()
        # A task's reminders for the office go to its own government's office (as the sweep's).
        self.office = defaultdict(list)
        for user in User.objects.filter(is_active=True, role=Role.SUPERVISOR):
            self.office[user.government_id].append(user)
        others = User.objects.filter(is_active=True, role__in=[Role.HEAD, Role.LEADER])
        contacts = Department.objects.filter(contact_person__isnull=False)
        if others.exists() or contacts.exists():
            raise RuntimeError("reminderfill knows only the office as a recipient; extend it")
        self.tasks = list(
            reminders_due.open_tasks().values(
                "id",
                "plan_id",
                "government_id",
                "plan__report_day",
                "plan__year",
                "plan__published_at",
                "start_date",
                "deadline",
                "status",
                "report_frequency",
            )
        )
        self.updates = defaultdict(list)
        rows = StatusUpdate.objects.filter(task__in=reminders_due.open_tasks()).values_list(
            "id", "task_id", "period", "status", "revision", "submitted_at", "review_state"
        )
        for row in rows.order_by("task_id", "period"):
            self.updates[row[1]].append(row)
        self.reviewed = dict(
            StatusUpdate.objects.filter(task__in=reminders_due.open_tasks())
            .values_list("id")
            .annotate(last=_max_review())
        )
        return self

    def index(self, day: dt.date) -> int:
        """The position of the first working day on or after day."""
        return bisect_left(self.working, day)

    def effective_due(self, due: dt.date) -> int:
        """The due day's working-day index: a holiday's due day is the working day before."""
        i = bisect_right(self.working, due) - 1
        return i

    def reminders(self):
        """Every reminder the ladder fired for the province's items, as dicts (a generator)."""
        for task in self.tasks:
            steps = self.ladders.steps(task["plan_id"])
            for item, due, opened, last in self._items(task):
                for row in self._fire(task["id"], steps, item, due, opened, last):
                    row["government_id"] = task["government_id"]
                    yield row

    def _items(self, task: dict):
        """(item, due, opened, last day it is still due) for each item of the task's year."""
        from tasks_app.plans.report_schedule import add_months, report_schedule
        from tasks_app.reminders import due as reminders_due

        done_on = None
        end = self.history_end
        for update_id, _t, _p, status, revision, submitted, state in self.updates[task["id"]]:
            day = submitted.astimezone(SHANGHAI).date()
            if status == "done" and done_on is None:
                done_on = day
            reviewed = self.reviewed.get(update_id)
            if state == "returned":
                raise RuntimeError("reminderfill does not replay returned reports; extend it")
            review_day = reviewed.astimezone(SHANGHAI).date() if reviewed else end
            due = self.calendar.add_working_days(day, reminders_due.REVIEW_WORKING_DAYS)
            yield f"review:{update_id}:{revision}", due, day, review_day
        if task["status"] == "ongoing":
            return
        task_end = min(done_on or end, end)
        if task["deadline"]:
            yield "deadline", task["deadline"], task["start_date"], task_end
        schedule = report_schedule(
            report_frequency=task["report_frequency"],
            report_day=task["plan__report_day"],
            year=task["plan__year"],
            start_date=task["start_date"],
            deadline=task["deadline"],
            published=task["plan__published_at"].astimezone(SHANGHAI).date(),
        )
        reported = {}
        for row in self.updates[task["id"]]:
            reported.setdefault(schedule.period_for(row[2]), row[5].astimezone(SHANGHAI).date())
        for period in schedule.periods():
            due = self.due_dates(schedule, period)
            lookback = add_months(period, schedule.months) + dt.timedelta(
                days=reminders_due.REPORT_LOOKBACK_DAYS - 1
            )
            last = min(reported.get(period, end), lookback, task_end)
            yield f"report:{period}", due, period, last

    def _fire(self, task_id, steps, item, due, opened, last) -> list[dict]:
        """One row per working day in [opened, last] on which a rung of the ladder fires."""
        from tasks_app.models import ReminderRepeat

        due_index = self.effective_due(due)
        first, final = self.index(opened), bisect_right(self.working, last) - 1
        rows = []
        for step in steps:
            start = due_index + step.offset
            if step.repeat == ReminderRepeat.ONCE:
                fired = [start]
            else:
                every = 1 if step.repeat == ReminderRepeat.DAILY else 5
                if start < first:
                    start += -(-(first - start) // every) * every
                fired = range(start, final + 1, every)
            for i in fired:
                if first <= i <= final:
                    rows.append(
                        {
                            "task_id": task_id,
                            "step": step,
                            "item": item,
                            "due_date": due,
                            "remind_on": self.working[i],
                        }
                    )
        return rows


def _max_review():
    from django.db.models import Max

    return Max("reviews__created_at")


def _write(state: _State, reminders, counts) -> None:
    """COPY the reminders, then the office's digests, items, deliveries and notifications."""
    from bench.copyload import copy_rows, next_id, reset_sequences
    from tasks_app.models import (
        Delivery,
        DeliveryAttempt,
        Digest,
        DigestItem,
        Notification,
        Reminder,
    )

    reminder_id = next_id(Reminder)
    digests: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    rows = []
    for row in reminders:
        if len(rows) == CHUNK:
            counts.add("reminder", copy_rows(Reminder, rows))
            rows = []
        step, day, government = row.pop("step"), row["remind_on"], row.pop("government_id")
        # A review item appears at submission (17:00), after the day's digest went out.
        late = row["item"].startswith("review:")
        made = dt.datetime.combine(day, dt.time(17, 1) if late else SENT_AT, tzinfo=SHANGHAI)
        rows.append(
            dict(
                row,
                id=reminder_id,
                step_id=step.pk,
                level=step.level,
                created_at=made,
                assembled_at=made,
            )
        )
        if step.by_in_app and (late or step.to_office):
            digest_day = state.working[bisect_right(state.working, day)] if late else day
            digests[(government, digest_day)].append(reminder_id)
        reminder_id += 1
    counts.add("reminder", copy_rows(Reminder, rows))
    del rows
    ids = {m: next_id(m) for m in (Digest, DigestItem, Delivery, DeliveryAttempt, Notification)}
    tables = defaultdict(list)
    for (government, day), reminder_ids in sorted(digests.items()):
        if day > state.history_end:
            continue  # tomorrow's digest: still open, the benchmark's sweep may add to it
        for office in state.office[government]:
            _digest(tables, ids, office, day, reminder_ids)
    for model in (Digest, DigestItem, Delivery, DeliveryAttempt, Notification):
        counts.add(model._meta.model_name, copy_rows(model, tables[model]))
    reset_sequences(Reminder, Digest, DigestItem, Delivery, DeliveryAttempt, Notification)


def _digest(tables, ids, office, day, reminder_ids) -> None:
    from tasks_app.models import (
        Delivery,
        DeliveryAttempt,
        Digest,
        DigestItem,
        Notification,
    )

    sent = dt.datetime.combine(day, SENT_AT, tzinfo=SHANGHAI)
    digest_id = ids[Digest]
    ids[Digest] += 1
    tables[Digest].append(
        {
            "id": digest_id,
            "recipient_id": office.pk,
            "department_id": None,
            "channel": "in_app",
            "day": day,
            "sealed_at": sent,
            "created_at": sent,
        }
    )
    for reminder_id in reminder_ids:
        tables[DigestItem].append(
            {
                "id": ids[DigestItem],
                "digest_id": digest_id,
                "reminder_id": reminder_id,
                "recipient_key": f"u{office.pk}",
                "channel": "in_app",
            }
        )
        ids[DigestItem] += 1
    subject = f"督查督办提醒({day:%Y-%m-%d}):{len(reminder_ids)}项事项"
    tables[Notification].append(
        {
            "id": ids[Notification],
            "recipient_id": office.pk,
            "kind": "digest",
            "title": subject,
            "body": subject,
            "task_id": None,
            "digest_id": digest_id,
            "created_at": sent,
            "read_at": None,
        }
    )
    tables[Delivery].append(
        {
            "id": ids[Delivery],
            "key": f"digest:{digest_id}",
            "channel": "in_app",
            "status": "sent",
            "digest_id": digest_id,
            "recipient_id": office.pk,
            "attempts": 1,
            "next_attempt_at": sent,
            "enqueued_at": sent,
            "provider_id": f"notification:{ids[Notification]}",
            "sent_at": sent,
            "created_at": sent,
        }
    )
    tables[DeliveryAttempt].append(
        {
            "id": ids[DeliveryAttempt],
            "delivery_id": ids[Delivery],
            "number": 1,
            "channel": "in_app",
            "started_at": sent,
            "finished_at": sent,
            "ok": True,
            "provider_id": f"notification:{ids[Notification]}",
        }
    )
    ids[Notification] += 1
    ids[Delivery] += 1
    ids[DeliveryAttempt] += 1
