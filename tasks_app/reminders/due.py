"""What falls due: report cycles, deadlines, milestones, receipts and reviews."""

import datetime as dt
import logging
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncDate

from tasks_app.common.collector import collector_paused
from tasks_app.models import (
    Milestone,
    Plan,
    ReportFrequency,
    Review,
    ReviewState,
    SignOff,
    StatusUpdate,
    Task,
    TaskKind,
    TaskStatus,
)
from tasks_app.plans.report_schedule import (
    DueDates,
    ReportSchedule,
    add_months,
    period_of,
    report_schedule,
)
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders.window import local_now, local_zone

logger = logging.getLogger("gaoxin.reminders")


RECEIPT_WORKING_DAYS = 2  # a published task is to be received (签收) within this
RESUBMIT_WORKING_DAYS = 3  # a returned report is to be resubmitted within this
REVIEW_WORKING_DAYS = 3  # the office reviews a submitted report within this
SIGNOFF_WORKING_DAYS = 2  # a department head signs off a report within this
LOOKAHEAD_DAYS = 45  # calendar days ahead that the earliest ladder step may look
REPORT_LOOKBACK_DAYS = 120  # unreported periods older than this are left to manual chasing


# --- What falls due ---------------------------------------------------------------------------


class DueItem(NamedTuple):  # a tuple, not a dataclass: a province sweep makes thousands
    task_id: int
    plan_id: int
    item: str
    due: dt.date
    opened: dt.date  # reminders before the item existed make no sense
    office_only: bool = False


class _ReportSchedule:
    """The report periods due around today, by the one report schedule
    (tasks_app.plans.report_schedule), worked out once per (frequency, report day, start,
    publication, deadline, year) rather than once per task: a province has tens of thousands of
    tasks and a handful of schedules."""

    def __init__(self, today: dt.date, calendar: WorkingCalendar):
        self.since = today - dt.timedelta(days=REPORT_LOOKBACK_DAYS)
        self.horizon = today + dt.timedelta(days=LOOKAHEAD_DAYS)
        self.due = DueDates(calendar)
        self._cache: dict[tuple, list[tuple]] = {}
        # Every month any task can be asked about: each month from the lookback's quarter.
        month, self.bits = period_of(self.since, quarterly=True), {}
        while month <= self.horizon:
            self.bits[month] = 1 << len(self.bits)
            month = add_months(month, 1)

    def reported(self) -> Subquery:
        """A task's reported candidate months as one number, a bit per month: the database
        answers "which of these periods has a report" without sending every report over."""
        bit = Case(
            *[When(period=month, then=Value(bit)) for month, bit in self.bits.items()],
            default=Value(0),
            output_field=IntegerField(),
        )
        reports = StatusUpdate.objects.filter(task=OuterRef("pk"), period__in=list(self.bits))
        return Subquery(
            reports.order_by().values("task").annotate(bits=Sum(bit)).values("bits"),
            output_field=IntegerField(),
        )

    def periods(self, task: dict, plan: dict) -> list[tuple]:
        """(period, due, item, mask) of the task's periods from the lookback's on whose report
        is due by the horizon; mask has the bit of each month of the period (a quarter's report
        may name any of its months)."""
        key = (
            task["report_frequency"] == ReportFrequency.QUARTERLY,
            plan["report_day"],
            task["start_date"],
            plan["published"],
            task["deadline"],
            plan["year"],
        )
        if key not in self._cache:
            self._cache[key] = self._periods(
                report_schedule(
                    report_frequency=task["report_frequency"],
                    report_day=plan["report_day"],
                    year=plan["year"],
                    start_date=task["start_date"],
                    deadline=task["deadline"],
                    published=plan["published"],
                )
            )
        return self._cache[key]

    def _periods(self, schedule: ReportSchedule) -> list[tuple]:
        rows, first = [], period_of(self.since, quarterly=schedule.quarterly)
        for period in schedule.periods():
            # Periods before the lookback are left alone: their due dates may lie outside the
            # loaded calendar, and they are left to manual chasing anyway.
            if period < first or schedule.nominal_due(period) > self.horizon:
                continue
            due = self.due(schedule, period)
            if due > self.horizon:
                continue
            months = (add_months(period, i) for i in range(schedule.months))
            mask = sum(self.bits[month] for month in months)
            rows.append((period, due, f"report:{period}", mask))
        return rows


def _report_items(task: dict, plan: dict, schedule: _ReportSchedule) -> list[DueItem]:
    periods = schedule.periods(task, plan)
    reported = task["reported"] or 0
    return [
        DueItem(task["id"], task["plan_id"], item, due, period)
        for period, due, item, mask in periods
        if not reported & mask
    ]


def _task_items(task: dict, plan: dict, schedule: _ReportSchedule, calendar) -> list[DueItem]:
    items = []
    status_open = task["status"] not in (TaskStatus.DONE, TaskStatus.ONGOING)
    if task["deadline"] and status_open:
        opened = task["start_date"] or plan["published"]
        items.append(DueItem(task["id"], task["plan_id"], "deadline", task["deadline"], opened))
    if not task["received"]:
        # A 调度会's 议定事项 is added after publication and starts the (business) day it is
        # decided: it is to be received from then.
        opened = plan["published"]
        if task["kind"] == TaskKind.DECISION and task["start_date"]:
            opened = max(opened, task["start_date"])
        due = calendar.add_working_days(opened, RECEIPT_WORKING_DAYS)
        items.append(DueItem(task["id"], task["plan_id"], "receipt", due, opened))
    if task["status"] != TaskStatus.DONE:
        items.extend(_report_items(task, plan, schedule))
    return items


def open_tasks() -> QuerySet[Task]:
    return Task.objects.filter(plan__status=Plan.Status.PUBLISHED, lead_department__isnull=False)


def _chased_tasks() -> QuerySet[Task]:
    """Open tasks with anything of their own to chase: not done, or not yet received."""
    return open_tasks().filter(Q(received_at__isnull=True) | ~Q(status=TaskStatus.DONE))


@collector_paused  # thousands of tuples: no whole-heap collection in the middle of them
def due_items(*, today: dt.date, calendar: WorkingCalendar) -> list[DueItem]:
    """Everything that falls due around today; four queries, whatever the number of tasks.

    Done tasks that were received are not read; each task comes with its reported periods as
    bits; a plan's year, report day and publication day are read once, not once per task.
    """
    schedule = _ReportSchedule(today, calendar)
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
            "kind",
        )
    )
    items = []
    for task in tasks:
        items.extend(_guarded(_task_items, task, plans[task["plan_id"]], schedule, calendar) or ())
    items.extend(_milestone_items(today))
    items.extend(_update_items(calendar))
    return items


def _guarded(function, *args):
    """Dates outside the loaded calendar (years away from today) are skipped, not fatal:
    function's answer, or None (logged) when it raised ValueError."""
    try:
        return function(*args)
    except ValueError as exc:
        logger.warning("reminders skipped some items: %s", exc)
        return None


def _milestone_items(today: dt.date) -> list[DueItem]:
    milestones = Milestone.objects.filter(
        task__in=open_tasks().exclude(status=TaskStatus.DONE),
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


# (item name, working days allowed, office only) by the state a report waits in.
_WAITING = {
    ReviewState.RETURNED: ("returned", RESUBMIT_WORKING_DAYS, False),
    ReviewState.SIGNOFF: ("signoff", SIGNOFF_WORKING_DAYS, False),
    ReviewState.SUBMITTED: ("review", REVIEW_WORKING_DAYS, True),
}


def _update_items(calendar: WorkingCalendar) -> list[DueItem]:
    """Returned reports waiting to be resubmitted; submitted ones waiting for the office, or
    for the department head's sign-off.

    A busy office has tens of thousands of reports waiting, so the database answers the day
    each wait began (in the reminder zone): a returned report's latest return or sign-off,
    looked up for returned reports only (the submission when it has neither), another's
    submission. Rows come as tuples, and each due day is worked out once per (day, allowance);
    a day outside the loaded calendar skips its items with one warning."""
    returned = Q(review_state=ReviewState.RETURNED)
    last_return = Greatest(
        Coalesce(_latest(Review), _latest(SignOff)), Coalesce(_latest(SignOff), _latest(Review))
    )  # the later of the two, whichever exists (SQLite's GREATEST is NULL if any is)
    began = Case(
        When(returned, then=Coalesce(last_return, "submitted_at")), default=F("submitted_at")
    )
    rows = (
        StatusUpdate.objects.filter(
            task__plan__status=Plan.Status.PUBLISHED,  # open_tasks(), on the one join to tasks
            task__lead_department__isnull=False,
            review_state__in=list(_WAITING),
        )
        .annotate(opened=TruncDate(began, tzinfo=local_zone()))
        .order_by()  # items become rows keyed by their own unique key: any order will do
        .values_list("task_id", "task__plan_id", "id", "revision", "review_state", "opened")
    )
    due_on: dict[tuple[dt.date, int], dt.date | None] = {}

    def due(opened: dt.date, days: int) -> dt.date | None:
        key = (opened, days)
        if key not in due_on:
            due_on[key] = _guarded(calendar.add_working_days, opened, days)
        return due_on[key]

    items = []
    for task_id, plan_id, pk, revision, state, opened in rows:
        name, days, office_only = _WAITING[state]
        day = due(opened, days)
        if day is not None:
            item = f"{name}:{pk}:{revision}"
            items.append(DueItem(task_id, plan_id, item, day, opened, office_only))
    return items


def _latest(model) -> Subquery:
    """The created_at of the update's latest row of model (a review, a sign-off)."""
    rows = model.objects.filter(update=OuterRef("pk")).order_by("-created_at")
    return Subquery(rows.values("created_at")[:1])
