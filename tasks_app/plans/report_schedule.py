"""One report schedule: which progress reports a task owes, when each is due, whether one was on
time. The reminders, the ranking (红黑榜), the workbench and the progress-log export all ask here,
so that they cannot disagree.

The rule:

- Periods. A task whose report_frequency is quarterly owes one report per calendar quarter, named
  by the quarter's first month (2020-04-01 stands for April-June); every other task owes one per
  month (weekly and biweekly tasks too: a report's 报送期 is a month, one report per task and
  month). A report counts for the period that contains its 报送期, so a quarterly task's report
  filed for May counts for the second quarter; a period's first report is the one that counts.
- First period: the period of the task's start date; a task without one owes from the period in
  which its plan was published (下达). Receipt (签收) moves nothing: a late receipt neither excuses
  the months before it nor adds any, and it is chased on its own. Never before January of the
  plan year; a task with neither a start date nor a published plan owes nothing.
- Last period: the period of the deadline or December (the fourth quarter) of the plan year,
  whichever comes first, never past either. A task that is done owes nothing after the period of
  its latest report (the caller knows whether it is done: see `closed_after`).
- Due date: the plan's report_day (每月报送日) of the month after the period, or after the quarter
  (2020-01 -> 2020-02-05; Q1 -> 2020-04-05). A due date on a rest day of the working calendar (a
  weekend or holiday; an adjusted working day 调休上班 is a working day) moves to the next working
  day.
- Due as of a date D: the periods whose due date is on or before D.
- Next to report: the earliest period owed that has no report, due yet or not; none when every
  period owed has one.
- On time: the report was first submitted (its creation, as a local date in the site's time
  zone) on or before its period's due date. A resubmission after a return does not change that;
  the return counts against first-pass (一次通过率) only.

Pure: dates in, dates out, no database. Due dates need a WorkingCalendar covering them, which the
caller loads (the plan's year and the next one cover every period of a plan); asking about a date
outside it raises ValueError, as WorkingCalendar does. Many tasks share a schedule: `DueDates`
works each period's due date out once.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from django.utils import timezone

from tasks_app.models import ReportFrequency
from tasks_app.plans.workcalendar import WorkingCalendar

QUARTER = 3  # months


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(day: dt.date, *, quarterly: bool) -> dt.date:
    """The first day of the month, or of the quarter, that contains day."""
    month = (day.month - 1) // QUARTER * QUARTER + 1 if quarterly else day.month
    return dt.date(day.year, month, 1)


def is_quarterly(report_frequency: str) -> bool:
    return report_frequency == ReportFrequency.QUARTERLY


def local_date(moment: dt.datetime) -> dt.date:
    """A moment's date in the site's time zone (Asia/Shanghai)."""
    return timezone.localdate(moment)


def on_time(*, first_submitted: dt.datetime, due: dt.date) -> bool:
    """A report is on time when its first submission's local date is on or before the due day."""
    return local_date(first_submitted) <= due


class NextReport(NamedTuple):
    period: dt.date
    due: dt.date


@dataclass(frozen=True)
class ReportSchedule:
    """The periods first..last (first days of months or quarters) a task owes a report for.

    Frozen and hashable: callers that ask about many tasks keep one per distinct schedule.
    """

    quarterly: bool
    report_day: int
    first: dt.date | None  # None, or after last: nothing is owed
    last: dt.date | None

    @property
    def months(self) -> int:
        return QUARTER if self.quarterly else 1

    def periods(self) -> list[dt.date]:
        periods, period = [], self.first
        while period is not None and self.last is not None and period <= self.last:
            periods.append(period)
            period = add_months(period, self.months)
        return periods

    def period_for(self, reported: dt.date) -> dt.date | None:
        """The owed period a report for `reported` (its 报送期) counts for; None if not owed."""
        period = period_of(reported, quarterly=self.quarterly)
        owed = self.first is not None and self.last is not None
        return period if owed and self.first <= period <= self.last else None

    def nominal_due(self, period: dt.date) -> dt.date:
        """The report day of the month after the period, before any move off a rest day."""
        return add_months(period, self.months).replace(day=self.report_day)

    def due_date(self, period: dt.date, *, calendar: WorkingCalendar) -> dt.date:
        return calendar.next_working_day(self.nominal_due(period))

    def due_as_of(self, day: dt.date, *, calendar: WorkingCalendar) -> list[dt.date]:
        return [period for period, _due in DueDates(calendar).due_as_of(self, day)]

    def next_period(self, *, reported: Iterable[dt.date]) -> dt.date | None:
        """The earliest owed period without a report (reported: the reports' 报送期)."""
        done = {self.period_for(day) for day in reported}
        return next((p for p in self.periods() if p not in done), None)

    def on_time(self, period: dt.date, *, first_submitted: dt.datetime, calendar) -> bool:
        return on_time(
            first_submitted=first_submitted, due=self.due_date(period, calendar=calendar)
        )

    def closed_after(self, period: dt.date | None) -> "ReportSchedule":
        """The schedule of a task that is done: nothing after `period` (its latest report's
        报送期, None when it has none) is owed any more."""
        if period is None:
            return replace(self, last=None)
        last = period_of(period, quarterly=self.quarterly)
        return replace(self, last=min(last, self.last) if self.last else None)


def report_schedule(
    *,
    report_frequency: str,
    report_day: int,
    year: int,
    start_date: dt.date | None,
    deadline: dt.date | None,
    published: dt.date | None,
) -> ReportSchedule:
    """A task's schedule (see the module's docstring for the rule). `published` is the local
    date its plan was published, None while it is a draft."""
    quarterly = is_quarterly(report_frequency)
    opened = start_date or published
    if opened is None:
        return ReportSchedule(quarterly, report_day, None, None)
    first = period_of(max(opened, dt.date(year, 1, 1)), quarterly=quarterly)
    year_end = dt.date(year, 12, 1)
    last = period_of(min(deadline, year_end) if deadline else year_end, quarterly=quarterly)
    return ReportSchedule(quarterly, report_day, first, last)


def report_schedule_of(task) -> ReportSchedule:
    """The schedule of a Task whose plan is loaded (select_related): no query."""
    plan = task.plan
    return report_schedule(
        report_frequency=task.report_frequency,
        report_day=plan.report_day,
        year=plan.year,
        start_date=task.start_date,
        deadline=task.deadline,
        published=local_date(plan.published_at) if plan.published_at else None,
    )


class DueDates:
    """Due dates worked out once per (frequency, report day, period) on one calendar: a plan's
    thousands of tasks share a handful of schedules."""

    def __init__(self, calendar: WorkingCalendar):
        self.calendar = calendar
        self._due: dict[tuple[bool, int, dt.date], dt.date] = {}

    def __call__(self, schedule: ReportSchedule, period: dt.date) -> dt.date:
        key = (schedule.quarterly, schedule.report_day, period)
        if key not in self._due:
            self._due[key] = schedule.due_date(period, calendar=self.calendar)
        return self._due[key]

    def due_as_of(self, schedule: ReportSchedule, day: dt.date) -> list[tuple[dt.date, dt.date]]:
        """(period, due date) of the schedule's periods due on or before day."""
        due = []
        for period in schedule.periods():
            # Due dates rise with the periods. A nominal due day after `day` cannot move onto or
            # before it, and is not looked up: it may lie beyond the loaded calendar.
            if schedule.nominal_due(period) > day or self(schedule, period) > day:
                break
            due.append((period, self(schedule, period)))
        return due

    def next_report(
        self, schedule: ReportSchedule, *, reported: Iterable[dt.date]
    ) -> NextReport | None:
        period = schedule.next_period(reported=reported)
        return None if period is None else NextReport(period, self(schedule, period))


def calendar_years(years: Iterable[int]) -> tuple[dt.date, dt.date]:
    """The range of WorkingCalendar.load that covers every due date of plans of these years:
    a December or fourth-quarter report is due in the next year."""
    years = list(years)
    return dt.date(min(years), 1, 1), dt.date(max(years) + 1, 12, 31)
