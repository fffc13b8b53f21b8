"""2. The leaders' overview at province scale: each stats endpoint against the fastest hand SQL
for exactly what it returns (bench.stats_sql, checked equal first).

The system: the real endpoint (middleware, token authentication as a leader, the DRF view, its
serializer and JSON rendering) through django.test.Client in this process, on the bench database,
with row-level security's settings as in a web process (_as_web_process).

Rows per date (as of 2025-12-31 and 2025-06-30):
(a) one government's plan (GET /api/v1/stats/plans/<id>/) against PLAN_SQL for that plan, each
    run CALLS_PER_RUN calls on each side, the mean per call recorded;
(b) the province's overview in one call (GET /api/v1/stats/plans/: every published plan's
    totals) against PROVINCE_SQL, the totals-only statement;
(c) the old way round, every plan's per-plan overview one call each, against PLAN_SQL once per
    plan (the same 143 answers).
A share of the generated tasks has quarterly milestones, so the expected progress through
milestones is on both sides.

Before anything is timed PLAN_SQL's numbers are checked against the endpoint's for every plan
and date, and PROVINCE_SQL's totals and order against the province call's; a difference stops
the benchmark. Completion rates are compared to 1e-4 (SQL rounds half away from zero, Python
half to even).

Timing: system and baseline in turns (bench.harness.interleaved: a warm-up round, then every
run recorded), on the same connection, planner statistics refreshed first. Query counts of the
endpoint are also taken for plans of 10, 200 and 1,000 tasks built inside a transaction that is
rolled back; a count that varies with size fails every row. The province call's count is taken
again with those plans published too; a different count fails its rows.

In a scaling run (another province size) only the province rows (b) are measured.
"""

import contextlib
import datetime as dt
import json
import time
from collections import defaultdict

from bench.harness import Row, interleaved, pair_runs, time_row
from bench.stats_sql import PLAN_SQL, PROVINCE_SQL

GOAL = 1.5
# One call takes 10-20 ms: a run of one call is at the mercy of one scheduling hiccup, so each
# run of rows (a) times this many calls in a row, on each side, and records the mean per call.
CALLS_PER_RUN = 10
DATES = [dt.date(2025, 12, 31), dt.date(2025, 6, 30)]
STATUSES = ["not_started", "on_schedule", "behind", "done", "ongoing"]
LIGHTS = ["green", "yellow", "red"]


def _end(as_of: dt.date) -> dt.datetime:
    from tasks_app.stats.snapshot import end_of_day

    return end_of_day(as_of)


def _params(as_of: dt.date, plan_id: int | None = None) -> dict:
    return {"as_of": as_of, "end": _end(as_of), "plan": plan_id, "statuses": STATUSES}


def sql_plan(as_of: dt.date, plan_id: int) -> list[tuple]:
    """Baseline (a): one plan's overview, PLAN_SQL's rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(PLAN_SQL, _params(as_of, plan_id))
        return cursor.fetchall()


def sql_province(as_of: dt.date) -> list[tuple]:
    """Baseline (b): every published plan's totals, exceptions first, PROVINCE_SQL's rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(PROVINCE_SQL, _params(as_of))
        return cursor.fetchall()


def explain(sql: str, params: dict) -> list[str]:
    """The statement's EXPLAIN ANALYZE, the lines worth reading (plan nodes and timings)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    return [line for line in lines if "->" in line or "Time:" in line or line[:1] != " "][:40]


def _tally_from_row(row) -> dict:
    (total, done, rate, overdue, *counts) = row[4:16]
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


def check_equal(client, plan_ids, as_of: dt.date) -> None:
    """Fail loudly unless the statement and the endpoint give the same numbers for every plan."""
    for plan_id in plan_ids:
        sql = numbers_from_sql(sql_plan(as_of, plan_id))
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
    if [row["id"] for row in body["results"]] != [row[0] for row in sql_rows]:
        raise AssertionError(f"as of {as_of} the province call orders the plans otherwise")
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
    """A django.test.Client that sends a leader's API token, as a leader's browser app would.
    The leader belongs to the province's government, as the generated office does (bench.generate),
    and reads the governments below it."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from tasks_app.models import Role, User

    office = User.objects.filter(role=Role.SUPERVISOR).order_by("pk").first()
    user, _ = User.objects.get_or_create(
        username="bench-stats-leader",
        defaults={"role": Role.LEADER, "government_id": office and office.government_id},
    )
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(HTTP_AUTHORIZATION=f"Token {token}", SERVER_NAME="127.0.0.1")


def _get(client, plan_id: int, as_of: dt.date, *, parse: bool = True) -> dict | bytes:
    """The answer, parsed for the checks; its bytes when timed (the job ends at the response:
    parsing it is the client's work, which the baseline's cursor rows do not need)."""
    response = client.get(f"/api/v1/stats/plans/{plan_id}/", {"as_of": as_of.isoformat()})
    if response.status_code != 200:
        raise RuntimeError(f"plan {plan_id}: {response.status_code} {response.content[:300]!r}")
    return response.json() if parse else response.content


def _province(client, as_of: dt.date, *, parse: bool = True) -> dict | bytes:
    response = client.get("/api/v1/stats/plans/", {"as_of": as_of.isoformat()})
    if response.status_code != 200:
        raise RuntimeError(f"province: {response.status_code} {response.content[:300]!r}")
    return response.json() if parse else response.content


def query_count(client, plan_id: int, as_of: dt.date) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _get(client, plan_id, as_of)
    return len(captured)


def _sized_plan_query_counts(
    client, as_of: dt.date, timed_plan: int, sizes=(10, 1000)
) -> tuple[dict, tuple[int, int]]:
    """Endpoint queries for plans of other sizes, built in a transaction that is rolled back
    (the bench database is shared with the other benchmarks); their numbers are checked too.
    The timed plan's are counted in the same transaction, and the province call's before and
    after those plans are published as well: like with like (inside a transaction the
    row-level security settings are sent on every request, common.rls.apply)."""
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
            _get(client, timed_plan, as_of)  # the first request in it finds settings held
            counts["timed"] = query_count(client, timed_plan, as_of)
            with CaptureQueriesContext(connection) as captured:
                _province(client, as_of)
            province_before = len(captured)
            for size in sizes:
                plan_id = _build_plan(size)
                for day in DATES:
                    check_equal(client, [plan_id], day)
                counts[size] = query_count(client, plan_id, as_of)
                Plan.objects.filter(pk=plan_id).update(
                    status=Plan.Status.PUBLISHED, published_at=timezone.now()
                )
            with CaptureQueriesContext(connection) as captured:
                _province(client, as_of)
            province = (province_before, len(captured))
            raise Rollback
    except Rollback:
        pass
    return counts, province


def _build_plan(size: int) -> int:
    """A plan of `size` tasks, each with a year of accepted monthly reports, like the province."""
    from django.db import connection

    from tasks_app.models import (
        Department,
        Government,
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
    government = Government.objects.create(
        name=f"规模{size}", level="district", parent_id=reviewer.government_id
    )
    plan = Plan.objects.create(
        year=2025, title=f"规模{size}", government=government, report_date=dt.date(2025, 1, 15)
    )
    departments = Department.objects.bulk_create(
        [
            Department(government=government, name=f"规模{size}局{i}")
            for i in range(max(2, size // 10))
        ]
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
                government=government,
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


def _repeat(times: int, function, *args, **kwargs) -> None:
    for _ in range(times):
        function(*args, **kwargs)


def _round(client, plan_ids, as_of) -> None:
    for plan_id in plan_ids:
        _get(client, plan_id, as_of, parse=False)


def _sql_round(plan_ids, as_of) -> None:
    for plan_id in plan_ids:
        sql_plan(as_of, plan_id)


@contextlib.contextmanager
def _as_web_process():
    """The endpoint as gunicorn runs it: a web process (gaoxin/wsgi.py), whose connection holds
    no governments between requests. The bench's own process is not one, and would hold every
    government between requests; the baseline's statements run as the superuser either way,
    which row-level security does not bind."""
    import os

    from tasks_app.common import rls

    before = os.environ.get("GAOXIN_RLS_DEFAULT")
    os.environ["GAOXIN_RLS_DEFAULT"] = "none"
    rls.apply(*rls.process_default())
    try:
        yield
    finally:
        if before is None:
            del os.environ["GAOXIN_RLS_DEFAULT"]
        else:
            os.environ["GAOXIN_RLS_DEFAULT"] = before
        rls.apply(*rls.process_default())


def run(database_url: str, *, smoke: bool, scaling: bool = False) -> list[Row]:
    with _as_web_process():
        return _run(smoke=smoke, scaling=scaling)


def _run(*, smoke: bool, scaling: bool) -> list[Row]:
    from tasks_app.models import Milestone, Plan, Task

    _analyze()
    client = leader_client()
    plan_ids = list(Plan.objects.order_by("pk").values_list("pk", flat=True))
    one = plan_ids[len(plan_ids) // 2]
    one_tasks = Task.objects.filter(plan_id=one).count()
    with_milestones = Task.objects.filter(milestones__isnull=False).distinct().count()
    milestones = f"{with_milestones} of {Task.objects.count()} tasks have milestones"
    if not Milestone.objects.exists() and not smoke:
        raise RuntimeError("the province has no milestones: that path would not be timed")
    runs_one, runs_all, runs_province = (2, 2, 2) if smoke else (9, 5, 5)
    province_counts, province_rows = set(), []
    rows = []
    for as_of in DATES:
        started = time.monotonic()
        if not scaling:  # a scaling run times the province call only: its totals are checked
            check_equal(client, plan_ids, as_of)
        checked = time.monotonic() - started
        queries = query_count(client, one, as_of)
        if not scaling:
            timed = interleaved(
                {
                    "system": lambda: _repeat(CALLS_PER_RUN, _get, client, one, as_of, parse=False),  # noqa: B023
                    "baseline": lambda: _repeat(CALLS_PER_RUN, sql_plan, as_of, one),  # noqa: B023
                },
                runs_one,
                scale=1000 / CALLS_PER_RUN,
            )
            row = time_row(
                f"2a. stats, one plan's overview as of {as_of} ({one_tasks} tasks) vs PLAN_SQL",
                timed["medians"]["system"],
                timed["medians"]["baseline"],
                "ms",
                GOAL,
                notes=f"endpoint {queries} queries; {CALLS_PER_RUN} calls per run, per call; "
                f"numbers checked equal for all "
                f"{len(plan_ids)} plans ({checked:.1f}s); {milestones}",
                runs=pair_runs(timed["runs"], "system", "baseline"),
            )
            row.extra["explain"] = explain(PLAN_SQL, _params(as_of, one))
            rows.append(row)
        if not scaling and as_of == DATES[0]:  # the old way round, once: 2b replaced it
            timed = interleaved(
                {
                    "system": lambda: _round(client, plan_ids, as_of),  # noqa: B023
                    "baseline": lambda: _sql_round(plan_ids, as_of),  # noqa: B023
                },
                runs_all,
            )
            rows.append(
                time_row(
                    f"2c. stats, every plan's overview as of {as_of}, one call each "
                    f"({len(plan_ids)} calls) vs PLAN_SQL once per plan",
                    timed["medians"]["system"],
                    timed["medians"]["baseline"],
                    "s",
                    GOAL,
                    notes=f"{len(plan_ids) * queries} queries vs {len(plan_ids)}; "
                    "the province call (2b) answers the province's totals in one call",
                    runs=pair_runs(timed["runs"], "system", "baseline"),
                )
            )
        province_queries = check_province_equal(client, plan_ids, as_of, sql_province(as_of))
        province_counts.add(province_queries)
        timed = interleaved(
            {
                "system": lambda: _province(client, as_of, parse=False),  # noqa: B023
                "baseline": lambda: sql_province(as_of),  # noqa: B023
            },
            runs_province,
        )
        row = time_row(
            f"2b. stats, the province's overview as of {as_of}, one call for all plans "
            "vs PROVINCE_SQL",
            timed["medians"]["system"],
            timed["medians"]["baseline"],
            "s",
            GOAL,
            notes=f"{len(plan_ids)} plans; {province_queries} queries vs 1; totals and order "
            f"checked equal for every plan; {milestones}",
            runs=pair_runs(timed["runs"], "system", "baseline"),
        )
        row.series = f"2b. stats province call as of {as_of}"
        row.extra["explain"] = explain(PROVINCE_SQL, _params(as_of))
        rows.append(row)
        province_rows.append(row)
    if scaling:
        return rows
    sized = (10, 200) if smoke else (10, 200, 1000)
    sizes, (province_before, province_more) = _sized_plan_query_counts(
        client, DATES[0], one, sizes=sized
    )
    counts = ", ".join(f"{n} tasks: {q}" for n, q in sizes.items() if n != "timed")
    constant = len(set(sizes.values())) == 1
    for row in rows:
        if row in province_rows:
            continue
        row.notes += (
            f"; queries by plan size in a rolled-back transaction ({counts}) "
            f"{'constant' if constant else 'VARY'}"
        )
        if not constant:
            row.meets_goal = False
    province_constant = len(province_counts) == 1 and province_before == province_more
    for row in province_rows:
        row.notes += (
            f"; with {len(sized)} more plans ({', '.join(map(str, sized))} tasks) published: "
            f"{province_more} queries, "
            f"{'constant' if province_constant else 'VARY'}"
        )
        if not province_constant:
            row.meets_goal = False
    return rows
