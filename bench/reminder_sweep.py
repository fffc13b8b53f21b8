"""3. The reminder sweep, the whole minute's work, against the fastest hand SQL for that job.

The system: tasks_app.reminders.sweep.reminders_sweep at SWEEP_AT (a working Monday morning in
the last week of the generated year, the day after the history bench.reminderfill wrote): load
the working calendar, select what is due (due_items), apply the ladder, insert-or-ignore the
new Reminder rows, file the unassembled ones into digests with their deliveries and items, the
audit events, and list the deliveries due. The baseline: bench.sweep_sql.sweep, the same job in
three hand-written statements. Each run is in a transaction rolled back afterwards, on both
sides. Rows:

- every minute: the sweep after the day's first one (what runs ~570 times a working day): the
  day's first sweep has run in the same transaction first (untimed, the same for both sides),
  so every candidate is already decided and nothing is assembled or listed;
- the day's first: today's new rungs are inserted, assembled into the day's digests, listed;
- select what is due: due_items against the due-items statement alone (DUE_SQL), the step
  both sides share.

Before timing, the run checks that both sweeps do the same: the same new reminder rows, the
same digest items (recipient, channel, day, reminder), the same deliveries and the same number
listed, the same audit events; and on three days of the year that due_items and DUE_SQL select
the same items. A difference stops the benchmark. Query counts of the day's first sweep are
taken for every government and for one (the other plans unpublished inside a rolled-back
transaction): they must be equal. Runs alternate (bench.harness.interleaved), each recorded.
"""

import datetime as dt
import time

from bench import sweep_sql
from bench.harness import Row, interleaved, pair_runs, time_row

BASELINE_SQL = "WITH " + sweep_sql.DUE_CTES + "\n" + sweep_sql.DUE_SELECT


def _params(today: dt.date, calendar) -> dict:
    from django.conf import settings

    from tasks_app.reminders import due

    since = today - dt.timedelta(days=due.REPORT_LOOKBACK_DAYS)
    horizon = today + dt.timedelta(days=due.LOOKAHEAD_DAYS)
    period = due.period_of(since, quarterly=True)  # a quarter starts on or before it
    periods = []
    while period <= horizon:
        periods.append(period)
        period = due.add_months(period, 1)
    return {
        "periods": periods,
        "first_period": periods[0],
        "first": calendar.first,
        "last": calendar.last,
        "tz": settings.REMINDER_TIMEZONE,
        "since": since,
        "horizon": horizon,
        "receipt": due.RECEIPT_WORKING_DAYS,
        "resubmit": due.RESUBMIT_WORKING_DAYS,
        "review": due.REVIEW_WORKING_DAYS,
    }


def baseline(today: dt.date, calendar) -> list[tuple]:
    """The statement, on the system's own connection: both sides run without JIT compilation
    (gaoxin.settings turns it off; at province scale compiling took longer than running)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, _params(today, calendar))
        return cursor.fetchall()


def _key(item) -> tuple:
    return (item.task_id, item.plan_id, item.item, item.due, item.opened, item.office_only)


def _check_same(today: dt.date) -> tuple[int, dict]:
    from collections import Counter

    from tasks_app.reminders import due, window

    calendar = window.calendar_around(today)
    system = Counter(_key(i) for i in due.due_items(today=today, calendar=calendar))
    sql = Counter(tuple(row) for row in baseline(today, calendar))
    if system != sql:
        only_system = list((system - sql).items())[:5]
        only_sql = list((sql - system).items())[:5]
        raise AssertionError(
            f"the baseline SQL and due_items disagree on {today}: "
            f"system only {only_system}, SQL only {only_sql}"
        )
    return sum(system.values()), Counter(k[2].split(":")[0] for k in system)


def _rolled_back(function):
    from django.db import transaction

    with transaction.atomic():
        result = function()
        transaction.set_rollback(True)
    return result


def _first_sweep(now: dt.datetime) -> tuple[int, int, int, int]:
    """(candidates, new rows, queries) of the day's first sweep; queries for one government too.

    The query count is taken for every government and for one (the other plans unpublished
    inside the rolled-back transaction): the sweep must make as many queries for either.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks_app.models import Plan, Reminder
    from tasks_app.reminders import ladder

    def sweep() -> tuple[int, int, int]:
        before = Reminder.objects.count()
        with CaptureQueriesContext(connection) as captured:
            candidates = ladder.reminders_decide(now=now)
        return candidates, Reminder.objects.count() - before, len(captured)

    def one_government() -> int:
        first = Plan.objects.filter(status="published").order_by("id").first()
        Plan.objects.filter(status="published").exclude(pk=first.pk).update(status="draft")
        return sweep()[2]

    candidates, new, queries = _rolled_back(sweep)
    return candidates, new, queries, _rolled_back(one_government)


def _later_queries(now: dt.datetime) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks_app.reminders import ladder

    def sweep() -> int:
        ladder.reminders_decide(now=now)
        with CaptureQueriesContext(connection) as captured:
            ladder.reminders_decide(now=now)
        return len(captured)

    return _rolled_back(sweep)


def _vacuum(*tables: str) -> None:
    """Planner statistics and visibility maps for the freshly COPYed tables, as autovacuum
    would leave them: the same for the system and the baseline."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE tasks_app_{table}")


def _sweep_params(now: dt.datetime) -> dict:
    from django.conf import settings

    from tasks_app.plans.tenants import default_government_id
    from tasks_app.reminders import window

    today = window.local_now(now).date()
    params = _params(today, window.calendar_around(today))
    params.update(
        government=default_government_id(),
        now=now,
        today=today,
        catch_up=settings.REMINDER_CATCH_UP_WORKING_DAYS,
        grace=now - dt.timedelta(seconds=settings.REMINDER_DISPATCH_GRACE_SECONDS),
        window_start=settings.REMINDER_WINDOW_START,
        zone=window.local_zone(),
    )
    return params


def _system(now: dt.datetime):
    from tasks_app.reminders import sweep

    return lambda: sweep.reminders_sweep(now=now)


def _baseline(now: dt.datetime):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            return sweep_sql.sweep(cursor, _sweep_params(now))

    return run


def _in_rollback(now: dt.datetime, job, *, after_first: bool):
    """A function timing job() in a transaction rolled back afterwards; with after_first, the
    system's day's first sweep runs (untimed) first in the same transaction."""
    from django.db import transaction

    def run() -> float:
        with transaction.atomic():
            if after_first:
                _system(now)()
            started = time.perf_counter()
            job()
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed

    return run


def _outcome(job) -> dict:
    """What a sweep wrote and listed, in terms both sides share (ids aside)."""
    from django.db import connection

    def max_id(table):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM tasks_app_{table}")
            return cursor.fetchone()[0]

    def since(sql, mark):
        with connection.cursor() as cursor:
            cursor.execute(sql, [mark])
            return sorted(tuple(str(v) for v in row) for row in cursor.fetchall())

    marks = {t: max_id(t) for t in ("reminder", "digestitem", "delivery", "auditevent")}
    answer = job()
    listed = answer.delivery_ids if hasattr(answer, "delivery_ids") else answer["listed"]
    return {
        "reminders": since(
            "SELECT task_id, step_id, item, due_date, remind_on, level FROM tasks_app_reminder "
            "WHERE id > %s",
            marks["reminder"],
        ),
        "items": since(
            "SELECT d.recipient_id, d.department_id, d.channel, d.day, r.task_id, r.step_id, "
            "r.item, r.remind_on, i.recipient_key, i.channel FROM tasks_app_digestitem i "
            "JOIN tasks_app_digest d ON d.id = i.digest_id "
            "JOIN tasks_app_reminder r ON r.id = i.reminder_id WHERE i.id > %s",
            marks["digestitem"],
        ),
        "deliveries": since(
            "SELECT channel, status, recipient_id, webhook_id, next_attempt_at, "
            "enqueued_at IS NOT NULL FROM tasks_app_delivery WHERE id > %s",
            marks["delivery"],
        ),
        "events": since(
            "SELECT action, object_type, object_repr, after::text FROM tasks_app_auditevent "
            "WHERE id > %s",
            marks["auditevent"],
        ),
        "listed": len(listed),
    }


def _check_sweeps_same(now: dt.datetime) -> dict:
    """Fail loudly unless the system's and the baseline's sweeps do the same, for the day's
    first sweep and for a later one; answers the day's first sweep's outcome."""
    outcomes = {}
    for after_first in (False, True):
        for side, job in (("system", _system(now)), ("baseline", _baseline(now))):
            outcomes[(after_first, side)] = _rolled_back(
                lambda job=job, after_first=after_first: (
                    _system(now)() if after_first else None,
                    _outcome(job),
                )[1]
            )
        system, baseline = outcomes[(after_first, "system")], outcomes[(after_first, "baseline")]
        for key in system:
            if system[key] != baseline[key]:
                mine = system[key] if key == "listed" else system[key][:3]
                theirs = baseline[key] if key == "listed" else baseline[key][:3]
                count = "" if key == "listed" else f" ({len(system[key])} vs {len(baseline[key])})"
                raise AssertionError(
                    f"{'later' if after_first else 'first'} sweep: {key} differ{count}: "
                    f"system {mine} baseline {theirs}"
                )
    return outcomes[(False, "system")]


def run(database_url: str, *, smoke: bool, scaling: bool = False) -> list[Row]:
    from bench.reminderfill import SWEEP_AT
    from tasks_app.models import Milestone, Plan, Reminder, Task
    from tasks_app.reminders import due, window

    today = window.local_now(SWEEP_AT).date()
    _vacuum("plan", "task", "statusupdate", "review", "milestone", "reminder", "digest")
    items, kinds = _check_same(today)
    for day in (dt.date(today.year, 3, 10), dt.date(today.year, 9, 8)):
        _check_same(day)  # other mornings of the year: the same rules, other periods
    first = _check_sweeps_same(SWEEP_AT)
    runs = 2 if smoke else 7
    calendar_day = window.calendar_around(today)
    timed = interleaved(
        {
            "first": _in_rollback(SWEEP_AT, _system(SWEEP_AT), after_first=False),
            "first_sql": _in_rollback(SWEEP_AT, _baseline(SWEEP_AT), after_first=False),
            "later": _in_rollback(SWEEP_AT, _system(SWEEP_AT), after_first=True),
            "later_sql": _in_rollback(SWEEP_AT, _baseline(SWEEP_AT), after_first=True),
            "select": lambda: due.due_items(today=today, calendar=window.calendar_around(today)),
            "select_sql": lambda: baseline(today, calendar_day),
        },
        runs,
        scale=1000,
    )
    ms = timed["medians"]
    _vacuum("reminder", "digest", "digestitem", "delivery")
    candidates, new, queries, one_queries = _first_sweep(SWEEP_AT)
    later_queries = _later_queries(SWEEP_AT)
    if queries != one_queries:
        raise AssertionError(f"query count depends on size: {one_queries} vs {queries}")
    size = (
        f"{Plan.objects.filter(status='published').count()} governments, "
        f"{Task.objects.count()} tasks ({Milestone.objects.values('task').distinct().count()} "
        f"with milestones), {Reminder.objects.count()} reminders already"
    )
    common = (
        f"now {SWEEP_AT:%Y-%m-%d %H:%M %Z}; {size}; {items} due items "
        f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); both sides rolled back; "
        f"{runs} runs in turns"
    )
    day_first = (
        f"{len(first['reminders'])} new reminders, {len(first['items'])} digest items, "
        f"{len(first['deliveries'])} deliveries, {first['listed']} listed"
    )
    rows = [
        time_row(
            "3a. reminder sweep, every minute (after the day's first) vs the same job in SQL",
            ms["later"],
            ms["later_sql"],
            "ms",
            1.5,
            f"{common}; {candidates} candidates, all decided before; decide + assemble + list "
            f"(the system: {later_queries} queries); outcomes checked equal",
            runs=pair_runs(timed["runs"], "later", "later_sql"),
        ),
        time_row(
            "3b. reminder sweep, the day's first (decide, assemble, list) vs the same job in SQL",
            ms["first"],
            ms["first_sql"],
            "ms",
            1.5,
            f"{common}; {day_first}; the system: {queries} queries for all governments, "
            f"{one_queries} for one; outcomes checked equal",
            runs=pair_runs(timed["runs"], "first", "first_sql"),
        ),
        time_row(
            "3c. reminder sweep: select what is due (due_items) vs the due-items SQL",
            ms["select"],
            ms["select_sql"],
            "ms",
            1.5,
            f"{common}; calendar load + due_items, the same items",
            runs=pair_runs(timed["runs"], "select", "select_sql"),
        ),
    ]
    rows[0].series = "3a. reminder sweep, every minute"
    rows[1].series = "3b. reminder sweep, the day's first"
    del new
    return rows
