"""The reminder sweep at province scale: the same decisions, fewer rows sent back and forth.

due_items reads each task's reported periods as bits and works out each report schedule once;
reminders_decide looks up which candidates an earlier sweep already decided. These tests hold
the result to the rule as written per task, and check that the lookup keeps every new item.
"""

import datetime as dt
import gc
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.models import Plan, Reminder, StatusUpdate, Task
from tasks_app.plans import report_schedule
from tasks_app.reminders import due as reminders_due
from tasks_app.reminders import ladder, window
from tests.reminders.reminders_support import Cast, at, publish

D = dt.date.fromisoformat
SWEEP_DAYS = ["2020-01-22", "2020-04-03", "2020-07-15", "2020-10-09", "2020-11-30"]


@pytest.fixture
def cast(economic_bureau, clerk) -> Cast:
    return Cast(economic_bureau, clerk)


@pytest.fixture
def livelihood(db) -> Plan:
    return publish(Plan.objects.create(year=2020, title="民生实事清单", kind="livelihood"))


def _varied_tasks(plan: Plan, cast: Cast, count: int, rng: random.Random) -> list[Task]:
    """Monthly and quarterly tasks with every kind of start, deadline, status and receipt."""
    tasks = []
    for i in range(count):
        start = rng.choice([None, D("2020-01-02"), D("2020-03-16"), D("2020-08-01")])
        deadline = rng.choice([None, D("2020-06-30"), D("2020-12-31"), D("2021-03-31")])
        if start and deadline and deadline < start:
            deadline = None
        status = rng.choice(["not_started", "on_schedule", "behind", "done", "ongoing"])
        tasks.append(
            Task(
                plan=plan,
                code=f"S-{i:03d}",
                title=f"民生实事{i}",
                source_text="示例",
                kind="livelihood",
                lead_department=cast.department,
                start_date=start,
                deadline=deadline,
                report_frequency=rng.choice(["monthly", "quarterly"]),
                status=status,
                progress=100 if status == "done" else 40,
                received_at=None if rng.random() < 0.2 else at("2020-01-13"),
            )
        )
    return Task.objects.bulk_create(tasks)


def _some_reports(tasks: list[Task], cast: Cast, rng: random.Random) -> None:
    StatusUpdate.objects.bulk_create(
        StatusUpdate(
            task=task,
            period=dt.date(2020, month, 1),
            status="on_schedule",
            progress=40,
            narrative="按计划推进。",
            explanation="情况说明:受前期手续影响滞后,正在加快推进。",
            author=cast.contact,
            review_state="accepted",
        )
        for task in tasks
        for month in range(1, 13)
        if rng.random() < 0.6
    )


def _the_rule(today: dt.date, calendar) -> set[tuple]:
    """Deadlines, receipts and unreported periods, task by task, as the rule is written."""
    expected = set()
    since = today - dt.timedelta(days=reminders_due.REPORT_LOOKBACK_DAYS)
    horizon = today + dt.timedelta(days=reminders_due.LOOKAHEAD_DAYS)
    for task in reminders_due.open_tasks().select_related("plan"):
        published = window.local_now(task.plan.published_at).date()
        if task.deadline and task.status not in ("done", "ongoing"):
            expected.add((task.pk, "deadline", task.deadline, task.start_date or published))
        if task.received_at is None:
            due = calendar.add_working_days(published, reminders_due.RECEIPT_WORKING_DAYS)
            expected.add((task.pk, "receipt", due, published))
        if task.status == "done":
            continue
        schedule = report_schedule.report_schedule(
            report_frequency=task.report_frequency,
            report_day=task.plan.report_day,
            year=task.plan.year,
            start_date=task.start_date,
            deadline=task.deadline,
            published=published,
        )
        reported = {schedule.period_for(u.period) for u in task.updates.all()}
        first = report_schedule.period_of(since, quarterly=schedule.quarterly)
        for period in schedule.periods():
            if period < first or period in reported or schedule.nominal_due(period) > horizon:
                continue  # (a due date beyond the horizon may be beyond the calendar too)
            due = schedule.due_date(period, calendar=calendar)
            if due <= horizon:
                expected.add((task.pk, f"report:{period}", due, period))
    return expected


@pytest.mark.parametrize("day", SWEEP_DAYS)
def test_the_sweep_finds_exactly_the_deadlines_receipts_and_unreported_periods_of_the_rule(
    livelihood, cast, day
):
    rng = random.Random(8)
    tasks = _varied_tasks(livelihood, cast, 80, rng)
    _some_reports(tasks, cast, rng)
    today = D(day)
    calendar = window.calendar_around(today)

    found = {
        (i.task_id, i.item, i.due, i.opened)
        for i in reminders_due.due_items(today=today, calendar=calendar)
        if i.item.split(":")[0] in ("deadline", "receipt", "report")
    }

    expected = _the_rule(today, calendar)
    assert found == expected
    assert {i[1].split(":")[0] for i in expected} == {"deadline", "receipt", "report"}


def _due_on_the_22nd(plan: Plan, cast: Cast, count: int, first: int = 0) -> None:
    Task.objects.bulk_create(
        Task(
            plan=plan,
            code=f"L-{i:04d}",
            title=f"民生实事{i}",
            source_text="示例",
            kind="livelihood",
            lead_department=cast.department,
            start_date=D("2020-01-02"),
            deadline=D("2020-01-22"),
            received_at=at("2020-01-10"),
        )
        for i in range(first, first + count)
    )


def _inserts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured
        if q["sql"].startswith("INSERT") and 'INTO "tasks_app_reminder"' in q["sql"]
    ]


def test_a_later_sweep_the_same_day_sends_only_new_reminders_to_the_database(livelihood, cast):
    _due_on_the_22nd(livelihood, cast, 10)
    first = ladder.reminders_decide(now=at("2020-01-22", "09:00"))
    decided = set(Reminder.objects.values_list("pk", "task_id", "step_id", "item", "remind_on"))

    with CaptureQueriesContext(connection) as captured:
        again = ladder.reminders_decide(now=at("2020-01-22", "09:01"))

    assert again == first == 10  # the rung of the due day, for each task
    assert not _inserts(captured)
    assert set(Reminder.objects.values_list("pk", "task_id", "step_id", "item", "remind_on")) == (
        decided
    )

    _due_on_the_22nd(livelihood, cast, 3, first=10)
    with CaptureQueriesContext(connection) as captured:
        ladder.reminders_decide(now=at("2020-01-22", "09:02"))

    assert len(_inserts(captured)) == 1
    assert Reminder.objects.count() == len(decided) + 3
    assert Reminder.objects.filter(task__code="L-0012", item="deadline").count() == 1


@pytest.fixture
def collections_seen():
    """The cycle collections run while the test runs, with the collector at its most eager (a
    young collection every allocation)."""
    seen = []
    threshold = gc.get_threshold()

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    gc.set_threshold(1)
    try:
        yield seen
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(record)


def test_the_sweeps_bulk_work_runs_without_a_cycle_collection_and_puts_the_collector_back(
    livelihood, cast, collections_seen
):
    rng = random.Random(11)
    _some_reports(_varied_tasks(livelihood, cast, 40, rng), cast, rng)
    today = D("2020-07-15")
    calendar = window.calendar_around(today)
    Task.objects.first()  # the connection and the models are warm: only the work is watched
    collections_seen.clear()

    items = reminders_due.due_items(today=today, calendar=calendar)

    assert items and collections_seen == []
    assert gc.isenabled()
    gc.disable()  # a process that runs with the collector off keeps it off
    try:
        reminders_due.due_items(today=today, calendar=calendar)
        assert not gc.isenabled()
    finally:
        gc.enable()
