"""2. The leaders' overview at province scale: the stats endpoint against one hand-written SQL.

The system: the real endpoint (middleware, token authentication as a leader, the DRF view, its
serializer and JSON rendering) through django.test.Client in this process, on the bench database.
The baseline: one SQL statement over the same connection that computes the same numbers (totals,
by section, key area, lead department and livelihood: total, done, completion rate, overdue,
by status, by light) as of the same date, from the same history of accepted reviews.

Three rows per date: (a) one government's plan inside the province database (the endpoint once
against the statement restricted to that plan), (b) the province leader's round, the overview
of every plan (one call per plan) against the statement once, grouped by plan, and (c) the
province's overview in one call (GET /api/v1/stats/plans/: every published plan's top-level
numbers) against the same statement once. The statement also computes the breakdowns by
section, key area and department that (c) does not answer: it is the same baseline as (b).

Before anything is timed the statement's numbers are checked against the endpoint's for every
plan and date, and its totals against the province call's; a difference stops the benchmark.
The statement models what the bench data holds: deadlines (changed ones at their value before
the change), start dates, the working calendar for "due soon", red margin 20; not milestones
(the province has none; the benchmark refuses to run if there are any). Completion rates are
compared to 1e-4 (SQL rounds half away from zero, Python half to even).

Timing: medians, system and baseline measured turn about (the machine is shared). Planner
statistics are refreshed first (ANALYZE, as autovacuum would after the bulk load). Query counts
of the endpoint are also taken for plans of 10, 200 and 1,000 tasks built inside a transaction
that is rolled back; a count that varies with size fails every row. The province call's count
is taken again with those plans published too; a different count fails its rows.
"""

import datetime as dt
import json
import statistics
import time
from collections import defaultdict

from bench.harness import Row, time_row

GOAL = 1.5
DATES = [dt.date(2025, 12, 31), dt.date(2025, 6, 30)]
STATUSES = ["not_started", "on_schedule", "behind", "done", "ongoing"]
LIGHTS = ["green", "yellow", "red"]

# Params: as_of (date), end (the first instant after as_of, Asia/Shanghai), plan (id or None).
OVERVIEW_SQL = """
WITH scope AS (
    SELECT t.id, t.plan_id, t.section_id, t.key_area_id, t.lead_department_id, t.start_date,
           COALESCE((SELECT c.old_value::date FROM tasks_app_changerequest c
                      WHERE c.task_id = t.id AND c.field = 'deadline' AND c.state = 'approved'
                        AND c.decided_at >= %(end)s
                      ORDER BY c.decided_at, c.id LIMIT 1), t.deadline) AS deadline,
           (p.kind = 'livelihood' OR t.kind = 'livelihood') AS livelihood
      FROM tasks_app_task t JOIN tasks_app_plan p ON p.id = t.plan_id
     WHERE (%(plan)s::bigint IS NULL OR t.plan_id = %(plan)s::bigint)
),
latest AS (  -- the update whose accepted review is the latest before the end of as_of
    SELECT DISTINCT ON (u.task_id) u.task_id, u.status, u.progress
      FROM tasks_app_review r JOIN tasks_app_statusupdate u ON u.id = r.update_id
     WHERE r.decision = 'accepted' AND r.created_at < %(end)s
       AND u.task_id IN (SELECT id FROM scope)
     ORDER BY u.task_id, r.created_at DESC, r.id DESC
),
days AS (  -- working days counted from the first loaded day, for "working days in (a, b]"
    SELECT d::date AS day,
           count(*) FILTER (WHERE CASE c.kind WHEN 'holiday' THEN false
                                              WHEN 'workday' THEN true
                                              ELSE extract(isodow FROM d) < 6 END)
               OVER (ORDER BY d) AS working_through
      FROM generate_series(
               (SELECT date_trunc('year', least(min(deadline), %(as_of)s)) FROM scope),
               (SELECT date_trunc('year', greatest(max(deadline), %(as_of)s))
                       + interval '1 year - 1 day' FROM scope),
               interval '1 day') AS d
      LEFT JOIN tasks_app_calendarday c ON c.date = d::date
),
state AS (
    SELECT s.*, COALESCE(l.status, 'not_started') AS status, COALESCE(l.progress, 0) AS progress,
           CASE WHEN s.deadline IS NULL THEN 0
                WHEN %(as_of)s >= s.deadline THEN 100
                WHEN s.start_date IS NULL OR s.start_date >= s.deadline
                     OR %(as_of)s < s.start_date THEN 0
                -- linear from start to deadline, rounded half up, in integers
                ELSE (200 * (%(as_of)s - s.start_date) + (s.deadline - s.start_date))
                     / (2 * (s.deadline - s.start_date))
           END AS expected
      FROM scope s LEFT JOIN latest l ON l.task_id = s.id
),
flags AS (
    SELECT st.*,
           (st.status = 'done' AND st.progress >= 100) AS finished,
           (st.deadline IS NOT NULL AND NOT (st.status = 'done' AND st.progress >= 100)
            AND st.status <> 'ongoing') AS tracked
      FROM state st
),
lit AS (
    SELECT f.*,
           (f.tracked AND %(as_of)s > f.deadline) AS overdue,
           CASE
             WHEN f.deadline IS NULL THEN
                  CASE WHEN f.finished OR f.status <> 'behind' THEN 'green' ELSE 'yellow' END
             WHEN f.finished THEN 'green'
             WHEN (f.tracked AND %(as_of)s > f.deadline) OR f.expected - f.progress > 20
                  THEN 'red'
             WHEN f.expected - f.progress > 0
                  OR (f.tracked
                      AND (SELECT working_through FROM days WHERE day = f.deadline)
                          - (SELECT working_through FROM days WHERE day = %(as_of)s) <= 3)
                  THEN 'yellow'
             ELSE 'green'
           END AS light
      FROM flags f
)
SELECT plan_id,
       CASE WHEN GROUPING(section_id) = 0 THEN 'section'
            WHEN GROUPING(key_area_id) = 0 THEN 'key_area'
            WHEN GROUPING(lead_department_id) = 0 THEN 'department'
            WHEN GROUPING(livelihood) = 0 THEN 'livelihood'
            ELSE 'totals' END AS grouping,
       COALESCE(section_id, key_area_id, lead_department_id) AS key,
       livelihood,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'done') AS done,
       round(count(*) FILTER (WHERE status = 'done')::numeric / count(*), 4) AS completion_rate,
       count(*) FILTER (WHERE overdue) AS overdue,
       count(*) FILTER (WHERE status = 'not_started') AS not_started,
       count(*) FILTER (WHERE status = 'on_schedule') AS on_schedule,
       count(*) FILTER (WHERE status = 'behind') AS behind,
       count(*) FILTER (WHERE status = 'done') AS done_status,
       count(*) FILTER (WHERE status = 'ongoing') AS ongoing,
       count(*) FILTER (WHERE light = 'green') AS green,
       count(*) FILTER (WHERE light = 'yellow') AS yellow,
       count(*) FILTER (WHERE light = 'red') AS red
  FROM lit
 GROUP BY GROUPING SETS ((plan_id), (plan_id, section_id), (plan_id, key_area_id),
                         (plan_id, lead_department_id), (plan_id, livelihood))
"""


def _end(as_of: dt.date) -> dt.datetime:
    from tasks_app.stats.snapshot import end_of_day

    return end_of_day(as_of)


def sql_overview(as_of: dt.date, plan_id: int | None = None) -> list[tuple]:
    """The baseline: the statement's rows, one per (plan, grouping, key)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(OVERVIEW_SQL, {"as_of": as_of, "end": _end(as_of), "plan": plan_id})
        return cursor.fetchall()


def _tally_from_row(row) -> dict:
    (_plan, _grouping, _key, _liv, total, done, rate, overdue, *counts) = row
    return {
        "total": total,
        "done": done,
        "completion_rate": float(rate),
        "overdue": overdue,
        "by_status": dict(zip(STATUSES, counts[:5], strict=True)),
        "by_light": dict(zip(LIGHTS, counts[5:], strict=True)),
    }


def numbers_from_sql(rows) -> dict:
    """{plan_id: {(grouping, key): tally}}, groups without tasks left out."""
    plans = defaultdict(dict)
    for row in rows:
        plan_id, grouping, key, livelihood = row[:4]
        if grouping == "livelihood":
            if not livelihood:
                continue
            key = None
        plans[plan_id][(grouping, key)] = _tally_from_row(row)
    return plans


def numbers_from_endpoint(body: dict) -> dict:
    """The endpoint's answer in the same shape."""
    groups = {("totals", None): body["totals"], ("livelihood", None): body["livelihood"]}
    for name, rows in (
        ("section", body["by_section"]),
        ("key_area", body["by_key_area"]),
        ("department", body["by_department"]),
    ):
        for row in rows:
            groups[(name, row["id"])] = {k: row[k] for k in body["totals"]}
    return {k: v for k, v in groups.items() if v["total"]}


def _same(endpoint: dict, sql: dict) -> bool:
    if endpoint.keys() != sql.keys():
        return False
    for key, mine in endpoint.items():
        theirs = sql[key]
        rate_close = abs(mine["completion_rate"] - theirs["completion_rate"]) <= 1e-4 + 1e-9
        rest = {k: v for k, v in mine.items() if k != "completion_rate"}
        if not rate_close or rest != {k: v for k, v in theirs.items() if k != "completion_rate"}:
            return False
    return True


def check_equal(client, plan_ids, as_of: dt.date, sql_rows) -> None:
    """Fail loudly unless the statement and the endpoint give the same numbers for every plan."""
    sql = numbers_from_sql(sql_rows)
    for plan_id in plan_ids:
        endpoint = numbers_from_endpoint(_get(client, plan_id, as_of))
        if not _same(endpoint, sql.get(plan_id, {})):
            raise AssertionError(
                f"plan {plan_id} as of {as_of}: the baseline SQL computes something else\n"
                f"endpoint: {json.dumps(sorted(endpoint.items(), key=str), default=str)[:3000]}\n"
                f"sql:      {json.dumps(sorted(sql.get(plan_id, {}).items(), key=str))[:3000]}"
            )


def check_province_equal(client, plan_ids, as_of: dt.date, sql_rows) -> int:
    """Fail loudly unless the province call lists every plan with the statement's totals;
    answers the number of queries the call made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sql = numbers_from_sql(sql_rows)
    with CaptureQueriesContext(connection) as captured:
        body = _province(client, as_of)
    rows = {row["id"]: row for row in body["results"]}
    if set(rows) != set(plan_ids):
        raise AssertionError(f"province call lists plans {sorted(rows)}, not {sorted(plan_ids)}")
    for plan_id, row in rows.items():
        mine = {k: row[k] for k in ("total", "done", "completion_rate", "overdue")}
        mine.update(by_status=row["by_status"], by_light=row["by_light"])
        theirs = sql.get(plan_id, {}).get(("totals", None))
        if theirs is None and not row["total"]:
            continue
        if theirs is None or not _same({"t": mine}, {"t": theirs}):
            raise AssertionError(
                f"plan {plan_id} as of {as_of}: the province call says {mine}, the SQL {theirs}"
            )
    return len(captured)


# --- The system side -------------------------------------------------------------------------


def leader_client():
    """A django.test.Client that sends a leader's API token, as a leader's browser app would."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tasks_app.models import Role, User

    user, _ = User.objects.get_or_create(
        username="bench-stats-leader", defaults={"role": Role.LEADER}
    )
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(HTTP_AUTHORIZATION=f"Token {token}", SERVER_NAME="127.0.0.1")


def _get(client, plan_id: int, as_of: dt.date) -> dict:
    response = client.get(f"/api/v1/stats/plans/{plan_id}/", {"as_of": as_of.isoformat()})
    if response.status_code != 200:
        raise RuntimeError(f"plan {plan_id}: {response.status_code} {response.content[:300]!r}")
    return response.json()


def _province(client, as_of: dt.date) -> dict:
    response = client.get("/api/v1/stats/plans/", {"as_of": as_of.isoformat()})
    if response.status_code != 200:
        raise RuntimeError(f"province: {response.status_code} {response.content[:300]!r}")
    return response.json()


def query_count(client, plan_id: int, as_of: dt.date) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _get(client, plan_id, as_of)
    return len(captured)


def _sized_plan_query_counts(client, as_of: dt.date, sizes=(10, 1000)) -> tuple[dict, int]:
    """Endpoint queries for plans of other sizes, built in a transaction that is rolled back
    (the bench database is shared with the other benchmarks); their numbers are checked too.
    Also the province call's queries once those plans are published as well."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tasks_app.models import Plan

    counts = {}
    province = None

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for size in sizes:
                plan_id = _build_plan(size)
                for day in DATES:
                    check_equal(client, [plan_id], day, sql_overview(day, plan_id))
                counts[size] = query_count(client, plan_id, as_of)
                Plan.objects.filter(pk=plan_id).update(
                    status=Plan.Status.PUBLISHED, published_at=timezone.now()
                )
            with CaptureQueriesContext(connection) as captured:
                _province(client, as_of)
            province = len(captured)
            raise Rollback
    except Rollback:
        pass
    return counts, province


def _build_plan(size: int) -> int:
    """A plan of `size` tasks, each with a year of accepted monthly reports, like the province."""
    from django.db import connection

    from tasks_app.models import (
        Department,
        KeyArea,
        Plan,
        Review,
        Section,
        StatusUpdate,
        Task,
        User,
    )

    reviewer = User.objects.filter(role="supervisor").first()
    author = User.objects.filter(role="staff").first()
    plan = Plan.objects.create(
        year=2025, title=f"规模{size}", government=f"规模{size}", report_date=dt.date(2025, 1, 15)
    )
    departments = Department.objects.bulk_create(
        [Department(name=f"规模{size}局{i}") for i in range(max(2, size // 10))]
    )
    sections = Section.objects.bulk_create(
        [Section(plan=plan, number=n, title=f"第{n}方面") for n in range(1, 6)]
    )
    areas = KeyArea.objects.bulk_create(
        [KeyArea(section=s, number=1, title=f"领域{s.number}") for s in sections]
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                plan=plan,
                code=f"S{i:04d}",
                title=f"任务{i}",
                source_text="任务。",
                section=areas[i % 5].section,
                key_area=areas[i % 5],
                position=i,
                lead_department=departments[i % len(departments)],
                start_date=dt.date(2025, 1, 15),
                deadline=dt.date(2025, 12, 31) if i % 4 else dt.date(2025, 6, 20),
            )
            for i in range(size)
        ]
    )
    updates = StatusUpdate.objects.bulk_create(
        [
            StatusUpdate(
                task=t,
                period=dt.date(2025, month, 1),
                status=("done" if month == 12 and t.pk % 3 == 0 else "on_schedule"),
                progress=100
                if month == 12 and t.pk % 3 == 0
                else max(0, 8 * month - (t.pk % 7) * 3),
                narrative="推进。",
                author=author,
                review_state="accepted",
                submitted_at=dt.datetime(2025, month, 25, 9, tzinfo=dt.UTC),
            )
            for t in tasks
            for month in range(1, 13)
        ]
    )
    Review.objects.bulk_create(
        [Review(update=u, revision=1, decision="accepted", reviewer=reviewer) for u in updates]
    )
    with connection.cursor() as cursor:  # backdate: submitted on the 25th, accepted 2 days on
        cursor.execute(
            "UPDATE tasks_app_statusupdate u SET created_at = u.submitted_at"
            " FROM tasks_app_task t WHERE t.id = u.task_id AND t.plan_id = %s",
            [plan.pk],
        )
        cursor.execute(
            "UPDATE tasks_app_review r SET created_at = u.submitted_at + interval '2 days'"
            " FROM tasks_app_statusupdate u JOIN tasks_app_task t ON t.id = u.task_id"
            " WHERE u.id = r.update_id AND t.plan_id = %s",
            [plan.pk],
        )
    return plan.pk


# --- The benchmark ---------------------------------------------------------------------------


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would have after a bulk load (both sides gain)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("task", "plan", "statusupdate", "review", "changerequest", "calendarday"):
            cursor.execute(f"ANALYZE tasks_app_{table}")


def _round(client, plan_ids, as_of) -> None:
    for plan_id in plan_ids:
        _get(client, plan_id, as_of)


def _interleaved(system, baseline, repeat: int) -> tuple[float, float]:
    """Median wall times of the two, measured turn about (after a warm-up of each), so that the
    load of a shared machine falls on both alike."""
    system(), baseline()
    times = ([], [])
    for _ in range(repeat):
        for function, kept in zip((system, baseline), times, strict=True):
            started = time.perf_counter()
            function()
            kept.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def run(database_url: str, *, smoke: bool) -> list[Row]:
    from tasks_app.models import Milestone, Plan, Task

    if Milestone.objects.exists():
        raise RuntimeError("the baseline SQL does not model milestones; the bench data has none")
    _analyze()
    client = leader_client()
    plan_ids = list(Plan.objects.order_by("pk").values_list("pk", flat=True))
    one = plan_ids[len(plan_ids) // 2]
    one_tasks = Task.objects.filter(plan_id=one).count()
    repeat_one, repeat_all, repeat_province = (3, 1, 1) if smoke else (30, 3, 5)
    province_counts, province_rows = set(), []
    rows = []
    for as_of in DATES:
        started = time.monotonic()
        check_equal(client, plan_ids, as_of, sql_overview(as_of))
        checked = time.monotonic() - started
        queries = query_count(client, one, as_of)
        system_one, baseline_one = _interleaved(
            lambda: _get(client, one, as_of),  # noqa: B023
            lambda: sql_overview(as_of, one),  # noqa: B023
            repeat_one,
        )
        rows.append(
            time_row(
                f"2. stats overview {as_of}: one plan ({one_tasks} tasks), province DB",
                system_one * 1000,
                baseline_one * 1000,
                "ms",
                GOAL,
                notes=f"endpoint {queries} queries; numbers checked equal for all "
                f"{len(plan_ids)} plans ({checked:.1f}s)",
            )
        )
        system_all, baseline_all = _interleaved(
            lambda: _round(client, plan_ids, as_of),  # noqa: B023
            lambda: sql_overview(as_of),  # noqa: B023
            repeat_all,
        )
        rows.append(
            time_row(
                f"2. stats overview {as_of}: all {len(plan_ids)} plans, a call each",
                system_all,
                baseline_all,
                "s",
                GOAL,
                notes=f"mean per call {system_all / len(plan_ids) * 1000:.1f} ms; "
                f"{len(plan_ids) * queries} queries vs 1",
            )
        )
        province_queries = check_province_equal(client, plan_ids, as_of, sql_overview(as_of))
        province_counts.add(province_queries)
        system_province, baseline_province = _interleaved(
            lambda: _province(client, as_of),  # noqa: B023
            lambda: sql_overview(as_of),  # noqa: B023
            repeat_province,
        )
        rows.append(
            time_row(
                f"2. stats overview {as_of}: province, one call for all {len(plan_ids)} plans",
                system_province,
                baseline_province,
                "s",
                GOAL,
                notes=f"{province_queries} queries vs 1; totals checked equal for every plan",
            )
        )
        province_rows.append(rows[-1])
    sizes, province_more = _sized_plan_query_counts(client, DATES[0], sizes=(10, 200, 1000))
    counts = ", ".join(f"{n} tasks: {q}" for n, q in sizes.items())
    constant = len(set(sizes.values()) | {queries}) == 1
    for row in rows:
        if row in province_rows:
            continue
        row.notes += f"; queries by plan size ({counts}) {'constant' if constant else 'VARY'}"
        if not constant:
            row.meets_goal = False
    province_constant = len(province_counts | {province_more}) == 1
    for row in province_rows:
        row.notes += (
            f"; with 3 more plans (10, 200, 1000 tasks) published: {province_more} queries, "
            f"{'constant' if province_constant else 'VARY'}"
        )
        if not province_constant:
            row.meets_goal = False
    return rows
