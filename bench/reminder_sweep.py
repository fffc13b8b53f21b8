"""3. The reminder sweep over all tasks, against one SQL statement that selects what is due.

The system is the sweep's decision step, tasks_app.reminders.reminders_decide at SWEEP_AT (a
working Monday morning in the last week of the generated year, the day after the history that
bench.reminderfill wrote): load the working calendar, select what is due (due_items), apply
the ladder, look up which candidates an earlier sweep decided, insert-or-ignore the new
Reminder rows and write the audit event. Digest assembly and delivery listing (the rest of
reminders_sweep) are not in the figures. Three rows, each in a transaction rolled back:

- every minute: the sweep after the day's first one (what runs ~570 times a working day):
  every candidate is already decided, nothing is inserted;
- the day's first: today's new rungs are inserted (a few thousand rows at scale 1.0);
- due_items alone: the same output as the SQL, the like-for-like comparison.

The baseline is one hand-written SQL statement that selects the same due items as due_items,
with the same rules (report periods of the one report schedule, tasks_app.plans.report_schedule,
not yet reported within the lookback and lookahead,
deadlines of open tasks, receipts, overdue milestones, returned and waiting reports, due dates
on the working calendar). Before timing, the run checks on three days of the year that both
select the same items, and fails loudly if not. Each function runs in turns with the others,
so that all see the same load on a shared machine.

Query counts of the day's first sweep are taken for every government and for one (the other
plans unpublished inside a rolled-back transaction): they must be equal.
"""

import datetime as dt
import statistics
import time

from bench.harness import Row, time_row

BASELINE_SQL = """
WITH
  working AS (
    SELECT d::date AS day
      FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 day') AS d
      LEFT JOIN tasks_app_calendarday c ON c.date = d::date
     WHERE coalesce(c.kind = 'workday', extract(isodow FROM d) < 6 AND c.kind IS NULL)
  ),
  task AS (
    SELECT t.id, t.plan_id, t.status, t.start_date, t.deadline, t.received_at,
           t.report_frequency = 'quarterly' AS quarterly, p.report_day, p.year,
           (p.published_at AT TIME ZONE %(tz)s)::date AS published
      FROM tasks_app_task t JOIN tasks_app_plan p ON p.id = t.plan_id
     WHERE p.status = 'published' AND t.lead_department_id IS NOT NULL
  ),
  unreceived AS MATERIALIZED (
    SELECT id, plan_id, published,
           CASE WHEN published BETWEEN %(first)s AND %(last)s THEN
             (SELECT day FROM working WHERE day > published ORDER BY day OFFSET %(receipt)s - 1
               LIMIT 1)
           END AS receipt_due
      FROM task WHERE received_at IS NULL
  ),
  open_task AS (  -- a receipt due outside the loaded calendar skips the task's items
    SELECT * FROM task
     WHERE NOT EXISTS (SELECT 1 FROM unreceived n WHERE n.id = task.id AND receipt_due IS NULL)
  ),
  chased AS MATERIALIZED (  -- tasks not done, each with its reports of the candidate periods
    SELECT o.*, coalesce((SELECT array_agg(u.period) FROM tasks_app_statusupdate u
                           WHERE u.task_id = o.id AND u.period >= %(first_period)s),
                         '{}') AS reported
      FROM open_task o WHERE o.status <> 'done'
  ),
  shifted AS MATERIALIZED (  -- each candidate period's due day per frequency and report day:
                             -- the report day after the period, moved to the next working day
    SELECT p AS period, f.quarterly, r.report_day,
           (SELECT min(day) FROM working
             WHERE day >= (p + CASE WHEN f.quarterly THEN interval '3 months'
                                    ELSE interval '1 month' END)::date
                          + (r.report_day - 1)) AS due
      FROM unnest(%(periods)s::date[]) AS p
      CROSS JOIN (VALUES (true), (false)) AS f(quarterly)
      CROSS JOIN (SELECT DISTINCT report_day FROM task) AS r
  ),
  period AS (  -- the few candidate periods around today, each task's due ones among them:
               -- from its start (else its plan's publication) to its deadline, in its plan year
    SELECT o.id, o.plan_id, s.period, s.due
      FROM chased o
      JOIN shifted s ON s.quarterly = o.quarterly AND s.report_day = o.report_day
     WHERE s.period >= date_trunc(CASE WHEN o.quarterly THEN 'quarter' ELSE 'month' END,
                                  greatest(coalesce(o.start_date, o.published),
                                           make_date(o.year, 1, 1), %(since)s::date)
                                  ::timestamp)
       AND s.period <= date_trunc(CASE WHEN o.quarterly THEN 'quarter' ELSE 'month' END,
                                  least(coalesce(o.deadline, make_date(o.year, 12, 31)),
                                        make_date(o.year, 12, 31))::timestamp)
       AND (NOT o.quarterly OR extract(month FROM s.period) IN (1, 4, 7, 10))
       AND NOT EXISTS (  -- a report for any month of the period counts for it
             SELECT 1 FROM unnest(o.reported) AS r(month)
              WHERE r.month >= s.period
                AND r.month < (s.period + CASE WHEN o.quarterly THEN interval '3 months'
                                               ELSE interval '1 month' END)::date)
  ),
  waiting AS MATERIALIZED (  -- reports returned to the department or waiting for the office
    SELECT u.id, u.task_id, task.plan_id, u.revision, u.review_state = 'returned' AS returned,
           (CASE WHEN u.review_state = 'returned'
                 THEN coalesce((SELECT max(r.created_at) FROM tasks_app_review r
                                 WHERE r.update_id = u.id), u.submitted_at)
                 ELSE u.submitted_at END AT TIME ZONE %(tz)s)::date AS opened
      FROM tasks_app_statusupdate u JOIN task ON task.id = u.task_id
     WHERE u.review_state IN ('returned', 'submitted')
  )
SELECT id, plan_id, 'deadline', deadline, coalesce(start_date, published), false
  FROM open_task WHERE deadline IS NOT NULL AND status NOT IN ('done', 'ongoing')
UNION ALL
SELECT id, plan_id, 'receipt', receipt_due, published, false
  FROM unreceived WHERE receipt_due IS NOT NULL
UNION ALL
SELECT id, plan_id, 'report:' || to_char(period, 'YYYY-MM-DD'), due, period, false
  FROM period WHERE due <= %(horizon)s
UNION ALL
SELECT m.task_id, task.plan_id, 'milestone:' || m.id, m.due_date,
       coalesce(task.start_date, m.due_date - 366), false
  FROM tasks_app_milestone m JOIN task ON task.id = m.task_id
 WHERE task.status <> 'done' AND m.done_date IS NULL AND m.due_date <= %(horizon)s
UNION ALL
SELECT task_id, plan_id,
       CASE WHEN returned THEN 'returned:' ELSE 'review:' END || id || ':' || revision, due,
       opened, NOT returned
  FROM (SELECT waiting.*,
               (SELECT day FROM working WHERE day > opened ORDER BY day
                 OFFSET (CASE WHEN returned THEN %(resubmit)s ELSE %(review)s END) - 1
                 LIMIT 1) AS due
          FROM waiting WHERE opened BETWEEN %(first)s AND %(last)s) AS waiting_due
 WHERE due IS NOT NULL
"""


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
    """The statement, without JIT compilation: at province scale its cost estimate passes
    jit_above_cost and compiling would take longer than running it (the system's queries stay
    below the threshold, so this only makes the baseline faster)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
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


def _sweep(now: dt.datetime, *, decided_before: bool):
    """Time reminders_decide in a transaction that is rolled back afterwards.

    decided_before: an earlier sweep of the same day has already decided today's reminders (the
    state of every sweep but the day's first: the sweep runs every minute).
    """
    from django.db import transaction

    from tasks_app.reminders import ladder

    def run() -> float:
        with transaction.atomic():
            if decided_before:
                ladder.reminders_decide(now=now)
            started = time.perf_counter()
            ladder.reminders_decide(now=now)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        _vacuum("reminder")  # the rolled-back rows would pile up in the indexes, run after run
        return elapsed

    return run


def _timed(function):
    def run() -> float:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started

    return run


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


def _interleaved(functions: dict, repeat: int) -> dict[str, float]:
    """Median seconds of each function (each returns its own time), run in turns so that all
    see the same machine load (other benchmarks share the two CPUs); a warm-up round first."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for round_number in range(repeat + 1):
        for name, function in functions.items():
            elapsed = function()
            if round_number:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def _vacuum(*tables: str) -> None:
    """Planner statistics and visibility maps for the freshly COPYed tables, as autovacuum
    would leave them: the same for the system and the baseline."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE tasks_app_{table}")


def run(database_url: str, *, smoke: bool) -> list[Row]:
    from bench.reminderfill import SWEEP_AT
    from tasks_app.models import Plan, Reminder, Task
    from tasks_app.reminders import due, window

    today = window.local_now(SWEEP_AT).date()
    _vacuum("plan", "task", "statusupdate", "review", "milestone", "reminder")
    items, kinds = _check_same(today)
    for day in (dt.date(today.year, 3, 10), dt.date(today.year, 9, 8)):
        _check_same(day)  # other mornings of the year: the same rules, other periods
    repeat = 3 if smoke else 9
    calendar_day = window.calendar_around(today)
    timed = _interleaved(
        {
            "sql": _timed(lambda: baseline(today, calendar_day)),
            "first": _sweep(SWEEP_AT, decided_before=False),
            "later": _sweep(SWEEP_AT, decided_before=True),
            "select": _timed(
                lambda: due.due_items(today=today, calendar=window.calendar_around(today))
            ),
        },
        repeat,
    )
    ms = {name: seconds * 1000 for name, seconds in timed.items()}
    candidates, new, queries, one_queries = _first_sweep(SWEEP_AT)
    later_queries = _later_queries(SWEEP_AT)
    if queries != one_queries:
        raise AssertionError(f"query count depends on size: {one_queries} vs {queries}")
    size = (
        f"{Plan.objects.filter(status='published').count()} governments, "
        f"{Task.objects.count()} tasks, {Reminder.objects.count()} reminders already"
    )
    common = (
        f"now {SWEEP_AT:%Y-%m-%d %H:%M %Z}; {size}; {items} due items "
        f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), same set as the SQL "
        f"({ms['sql']:.0f} ms); median of {repeat}, run in turns"
    )
    decide = "reminders_decide (calendar, due_items, ladder, lookup, insert-or-ignore, audit)"
    return [
        time_row(
            "3. reminder sweep, every minute (today's reminders decided) vs one SQL selecting "
            "what is due",
            ms["later"],
            ms["sql"],
            "ms",
            1.5,
            f"{common}; {decide}, no digests, after the day's first sweep: "
            f"{candidates} candidates, 0 new; {later_queries} queries",
        ),
        time_row(
            "3. reminder sweep, the day's first (inserts today's reminders) vs one SQL",
            ms["first"],
            ms["sql"],
            "ms",
            1.5,
            f"{common}; {decide}, no digests, rolled back: {candidates} candidates, {new} new "
            f"rows; {queries} queries for all governments, {one_queries} for one",
        ),
        time_row(
            "3. reminder sweep: select what is due (due_items) vs one SQL",
            ms["select"],
            ms["sql"],
            "ms",
            1.5,
            f"{common}; calendar load + due_items, same items",
        ),
    ]
