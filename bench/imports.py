"""6. Importing the seed report and a 2,000-row 任务分解表, each against a bulk load of its rows.

Seed report (system): the path the office takes on /imports/, through the services its views
call — drafts.import_draft_create (decode + parse the TXT into a draft, stored and audited),
then publish.import_draft_publish (match, plan_load, kinds, publish; every row audited).
Baseline: the rows that import produced (plan, draft, sections, key areas, tasks, indicators),
read back, then COPYed again under fresh ids in a transaction that is rolled back. No parsing,
no ledger: the fastest way to get the same rows into PostgreSQL. Parse-only time is in notes.

Breakdown (system): breakdown_apply.breakdown_import, as the upload view and the import_breakdown
command call it: read the XLSX (openpyxl), check every row (all or nothing), then write lead
and co departments, leader, deadline and targets of 2,000 unassigned tasks of a draft plan,
each change audited, schedule refreshed, committed. The sheet is export_xlsx of a plan with
the same tasks fully assigned, so it is in the exact layout the office downloads.
Baseline: openpyxl read_only/values_only over the same file, names -> ids by dict, the same
deadline/target parsing, then one UPDATE ... FROM (VALUES ...) of the tasks (lead, leader,
deadline, version), COPY of the co-department links and of the indicators, in a transaction
that is rolled back. No per-row checks beyond the parse, no ledger, no schedule refresh.

Goals. The issue gives none for imports; a user waits on both, so the absolute time is what
matters, and the notes say it. The breakdown: <= 10x the bulk baseline (about 10 s for 2,000
rows on this machine, well inside the 30 s a user will wait on an upload), with a query count
that does not grow with the rows. Every row is validated all or nothing and every change is
audited into the hash-chained ledger, work a bare COPY does not do, hence not parity. The seed
report is recorded without a ratio goal: it is one report of fixed size (about 200 items), its
COPY baseline is some 40 ms, so a ratio would only measure the per-row audited upserts of the
shared services.plan_load; the bar is that the whole upload -> draft -> publish takes under
5 s, and the notes say whether it did.
"""

import datetime as dt
import io
import json
import statistics
import time
import uuid

from bench.generate import DEPARTMENT_NAMES
from bench.harness import ROOT, Row, time_row

SEED = ROOT / "tasks_app" / "data" / "zhuhai_gaoxin_2020_report.txt"
PLAN_DATA = ROOT / "tasks_app" / "data" / "plan_2020.json"
BREAKDOWN_ROWS = 2000
SMALL_ROWS = 200
YEAR = 2026
MAX_RATIO = 10  # the breakdown sheet
REPORT_SECONDS = 5  # the seed report: the user's wait, not a ratio
DEPARTMENTS = DEPARTMENT_NAMES[:15]
DEADLINES = [dt.date(YEAR, m, d) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31), (11, 30))]


def run(database_url: str, *, smoke: bool) -> list[Row]:
    from django.db import connection

    assert connection.vendor == "postgresql", "the import benchmark needs PostgreSQL"
    tag = uuid.uuid4().hex[:6]
    office = _office(tag)
    return [
        _seed_report_row(office, tag, repeat=1 if smoke else 3),
        _breakdown_row(office, tag, smoke=smoke),
    ]


# --- Setup helpers ----------------------------------------------------------------------------


def _office(tag: str):
    from tasks_app.models import Role
    from tasks_app.plans import services

    return services.user_create(
        actor=None,
        username=f"bench-import-{tag}",
        password="bench-pass-123456",
        role=Role.SUPERVISOR,
    )


def _unaudited():
    """Setup rows are not audited changes: tell the capture triggers to skip this transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gaoxin.audited', 'on', true)")


def _copy_with_new_ids(model, rows: list[dict], id_map: dict, **remap) -> list[dict]:
    """rows under fresh ids (recorded in id_map[model]); remap: fk attname -> model to follow."""
    from bench.copyload import next_id

    start = next_id(model) + 1_000_000  # clear of the sequence; the transaction is rolled back
    out = []
    for offset, row in enumerate(rows):
        new = dict(row)
        new["id"] = start + offset
        id_map.setdefault(model, {})[row["id"]] = new["id"]
        for attname, target in remap.items():
            if new.get(attname) is not None:
                new[attname] = id_map[target][new[attname]]
        out.append(new)
    return out


class _QueryCounter:
    """connection.execute_wrapper that counts statements (the debug log keeps only 9,000)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class _Rollback(Exception):
    pass


def _timed_rolled_back(function) -> float:
    """Wall time of function() inside a transaction that is then rolled back."""
    from django.db import transaction

    started = time.perf_counter()
    try:
        with transaction.atomic():
            _unaudited()
            function()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


# --- 1. The seed report -----------------------------------------------------------------------


def _seed_report_row(office, tag: str, *, repeat: int) -> Row:
    from django.db import connection

    from tasks_app.importer import drafts, publish
    from tasks_app.models import ImportDraft, Indicator, KeyArea, Plan, Section, Task

    data = SEED.read_bytes()
    parse_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        draft_data, _encoding = drafts.report_parse(data=data, year=2020)
        parse_times.append(time.perf_counter() - started)

    def import_once(n: int):
        draft = drafts.import_draft_create(
            actor=office,
            data=data,
            source_name=SEED.name,
            year=2020,
            title=f"珠海高新区2020年政府工作报告(基准{tag}-{n})",
            government="珠海高新区",
        )
        # The office's assignments are not part of what the benchmark measures.
        plan, summary = publish.import_draft_publish(
            actor=office, draft=draft, allow_incomplete=True
        )
        return draft, plan, summary

    system_times, queries = [], 0
    for n in range(repeat):
        started = time.perf_counter()
        if n == 0:
            counter = _QueryCounter()
            with connection.execute_wrapper(counter):
                draft, plan, summary = import_once(n)
            queries = counter.count
        else:
            draft, plan, summary = import_once(n)
        system_times.append(time.perf_counter() - started)

    # The rows that import produced, read back, COPYed again under fresh ids.
    rows = {
        Plan: list(Plan.objects.filter(pk=plan.pk).values()),
        ImportDraft: list(ImportDraft.objects.filter(pk=draft.pk).values()),
        Section: list(Section.objects.filter(plan=plan).values()),
        KeyArea: list(KeyArea.objects.filter(section__plan=plan).values()),
        Task: list(Task.objects.filter(plan=plan).values()),
        Indicator: list(Indicator.objects.filter(plan=plan).values()),
    }
    counts = {model._meta.model_name: len(items) for model, items in rows.items()}
    assert counts["task"] == len(summary["new"]) and counts["indicator"] > 0, counts

    def bulk_load():
        from bench.copyload import copy_rows

        ids: dict = {}
        plans = _copy_with_new_ids(Plan, rows[Plan], ids)
        plans[0]["title"] = plans[0]["title"] + "(副本)"
        copy_rows(Plan, plans)
        copy_rows(
            ImportDraft, _copy_with_new_ids(ImportDraft, rows[ImportDraft], ids, plan_id=Plan)
        )
        copy_rows(Section, _copy_with_new_ids(Section, rows[Section], ids, plan_id=Plan))
        copy_rows(KeyArea, _copy_with_new_ids(KeyArea, rows[KeyArea], ids, section_id=Section))
        copy_rows(
            Task,
            _copy_with_new_ids(
                Task, rows[Task], ids, plan_id=Plan, section_id=Section, key_area_id=KeyArea
            ),
        )
        copy_rows(
            Indicator,
            _copy_with_new_ids(Indicator, rows[Indicator], ids, plan_id=Plan, task_id=Task),
        )

    baseline_times = [_timed_rolled_back(bulk_load) for _ in range(repeat)]
    system = statistics.median(system_times)
    baseline = statistics.median(baseline_times)
    verdict = "under" if system < REPORT_SECONDS else "OVER"
    notes = (
        f"{system:.2f} s for the user, {verdict} the {REPORT_SECONDS} s bar; "
        f"parse only (decode+parse, no DB) {statistics.median(parse_times) * 1000:.0f} ms; "
        f"draft+publish {queries} queries; rows {counts}; "
        f"median of {repeat}; baseline = COPY of those rows, no parse, no ledger"
    )
    return time_row(
        "6a. import: seed report, upload -> draft -> publish", system, baseline, "s", None, notes
    )


# --- 2. A 2,000-row breakdown sheet -----------------------------------------------------------


def _plan_items() -> tuple[list[dict], list[dict]]:
    """(task title/text pairs, indicator specs) of the seed plan, to vary the generated rows."""
    data = json.loads(PLAN_DATA.read_text(encoding="utf-8"))
    items = list(data["headline_targets"])
    for section in data["sections"]:
        for area in section["key_areas"]:
            items.extend(area["tasks"])
    specs = [spec for item in items for spec in item.get("indicators", [])]
    return items, specs


def _breakdown_world(tag: str) -> dict:
    """Departments and leaders the sheet names (unique to this run)."""
    from django.db import transaction

    from tasks_app.models import Department, Role, User
    from tasks_app.plans.tenants import default_government_id

    government_id = default_government_id()
    with transaction.atomic():
        departments = Department.objects.bulk_create(
            [
                Department(government_id=government_id, name=f"基准{tag}{name}", short_name=name)
                for name in DEPARTMENTS
            ]
        )
        leaders = User.objects.bulk_create(
            [
                User(
                    government_id=government_id,
                    username=f"bench-leader-{tag}-{i}",
                    role=Role.LEADER,
                    display_name=f"基准{tag}副区长{i}",
                    password="!",
                )
                for i in range(8)
            ]
        )
    return {"departments": departments, "leaders": leaders}


def _make_plan(tag: str, label: str, size: int, *, world: dict | None = None):
    """A draft plan of `size` tasks via COPY; with world, every task assigned and targeted."""
    import random

    from django.db import transaction

    from bench.copyload import copy_rows, next_id, reset_sequences
    from tasks_app.models import Indicator, KeyArea, Plan, Section, Task
    from tasks_app.plans.tenants import default_government_id

    items, specs = _plan_items()
    government_id = default_government_id()
    rng = random.Random(size)
    co_model = Task.co_departments.through
    with transaction.atomic():
        _unaudited()
        plan_id, section_id, area_id, task_id, indicator_id, link_id = (
            next_id(Plan),
            next_id(Section),
            next_id(KeyArea),
            next_id(Task),
            next_id(Indicator),
            next_id(co_model),
        )
        now = dt.datetime.now(dt.UTC)
        copy_rows(
            Plan,
            [
                {
                    "id": plan_id,
                    "year": YEAR,
                    "title": f"基准{tag}分解表{label}",
                    "government_id": government_id,
                    "kind": "work_report",
                    "status": "draft",
                    "created_at": now,
                }
            ],
        )
        copy_rows(Section, [{"id": section_id, "plan_id": plan_id, "number": 1, "title": "方面"}])
        areas = (size + 99) // 100
        copy_rows(
            KeyArea,
            [
                {"id": area_id + a, "section_id": section_id, "number": a + 1, "title": f"领域{a}"}
                for a in range(areas)
            ],
        )
        tasks, indicators, links = [], [], []
        for n in range(size):
            item = items[n % len(items)]
            task = {
                "id": task_id + n,
                "plan_id": plan_id,
                "code": f"{n // 100 + 1}.{n % 100 + 1}",
                "title": item["title"][:200],
                "source_text": item["source_text"],
                "kind": "work_item",
                "government_id": government_id,
                "section_id": section_id,
                "key_area_id": area_id + n // 100,
                "position": n + 1,
                "created_at": now,
                "updated_at": now,
            }
            if world:
                departments = world["departments"]
                lead = rng.choice(departments)
                task["lead_department_id"] = lead.pk
                task["responsible_leader_id"] = rng.choice(world["leaders"]).pk
                task["deadline"] = DEADLINES[n % len(DEADLINES)]
                for co in rng.sample([d for d in departments if d != lead], n % 4):
                    links.append(
                        {"id": link_id + len(links), "task_id": task_id + n, "department_id": co.pk}
                    )
                for position in range(1, n % 3 + 1):
                    spec = specs[(n + position) % len(specs)]
                    indicators.append(
                        {
                            "id": indicator_id + len(indicators),
                            "plan_id": plan_id,
                            "task_id": task_id + n,
                            "position": position,
                            "name": spec["name"],
                            "unit": spec.get("unit", ""),
                            "comparator": spec["comparator"],
                            "target_value": spec["value"],
                            "target_value_max": spec.get("value_max") or None,
                            "source_text": spec["text"][:300],
                            "kind": "",
                        }
                    )
            tasks.append(task)
        copy_rows(Task, tasks)
        copy_rows(co_model, links)
        copy_rows(Indicator, indicators)
        reset_sequences(Plan, Section, KeyArea, Task, Indicator, co_model)
    return Plan.objects.get(pk=plan_id)


def _import(office, plan, data: bytes, *, count_queries: bool = False) -> tuple[float, int]:
    import contextlib

    from django.db import connection

    from tasks_app.importer import breakdown_apply

    counter = _QueryCounter()
    counting = connection.execute_wrapper(counter) if count_queries else contextlib.nullcontext()
    started = time.perf_counter()
    with counting:
        result = breakdown_apply.breakdown_import(
            actor=office, plan=plan, data=data, filename="任务分解表.xlsx"
        )
    elapsed = time.perf_counter() - started
    size = plan.tasks.count()
    assert result["rows"] == size and len(result["changed"]) == size, (result["rows"], size)
    return elapsed, counter.count


def _bulk_breakdown(plan, data: bytes) -> None:
    """The baseline: read the sheet read-only, resolve names by dict, write in three statements."""
    import openpyxl
    from django.db import connection
    from psycopg2.extras import execute_values

    from bench.copyload import copy_rows
    from tasks_app.importer.breakdown import parse_target, split_names, text
    from tasks_app.importer.deadlines import parse_deadline
    from tasks_app.models import Department, Indicator, Task, User

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    departments = dict(Department.objects.values_list("name", "id"))
    leaders = dict(User.objects.filter(role="leader").values_list("display_name", "id"))
    tasks = dict(plan.tasks.values_list("code", "id"))
    updates, links, indicators = [], [], []
    for code, _title, lead, co, leader, deadline, names, targets in rows[1:]:
        task_id = tasks[code]
        updates.append(
            (
                task_id,
                departments[lead] if lead else None,
                leaders[leader] if leader else None,
                parse_deadline(deadline, plan.year),
            )
        )
        links += [(task_id, departments[name]) for name in split_names(co)]
        for position, (name, raw) in enumerate(
            zip(text(names).split("\n"), text(targets).split("\n"), strict=True), start=1
        ):
            if not name:
                continue
            target = parse_target(raw)
            indicators.append(
                {
                    "plan_id": plan.pk,
                    "task_id": task_id,
                    "position": position,
                    "name": name,
                    "unit": target["unit"],
                    "comparator": target["comparator"],
                    "target_value": target["value"],
                    "target_value_max": target["value_max"],
                    "source_text": raw,
                    "kind": "",
                }
            )
    next_indicator = Indicator.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for offset, row in enumerate(indicators, start=1):
        row["id"] = next_indicator + 1_000_000 + offset
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {Task._meta.db_table} AS t SET lead_department_id = v.lead, "
            "responsible_leader_id = v.leader, deadline = v.deadline, version = t.version + 1 "
            "FROM (VALUES %s) AS v(id, lead, leader, deadline) WHERE t.id = v.id",
            updates,
            template="(%s, %s::bigint, %s::bigint, %s::date)",
            page_size=len(updates),
        )
        through = Task.co_departments.through
        cursor.cursor.copy_expert(
            f"COPY {through._meta.db_table} (task_id, department_id) FROM STDIN",
            io.StringIO("".join(f"{t}\t{d}\n" for t, d in links)),
        )
    copy_rows(Indicator, indicators)


def _breakdown_row(office, tag: str, *, smoke: bool) -> Row:
    from tasks_app.importer import breakdown

    size = SMALL_ROWS if smoke else BREAKDOWN_ROWS
    repeat = 1 if smoke else 3
    world = _breakdown_world(tag)
    started = time.perf_counter()
    template = _make_plan(tag, "模板", size, world=world)
    small_template = _make_plan(tag, "模板小", SMALL_ROWS, world=world)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    data = breakdown.export_xlsx(template)
    export_seconds = time.perf_counter() - started
    small_data = breakdown.export_xlsx(small_template)

    # Query counts at 200 and `size` rows (counted runs are not timed).
    _, small_queries = _import(
        office, _make_plan(tag, "计数小", SMALL_ROWS), small_data, count_queries=True
    )
    _, queries = _import(office, _make_plan(tag, "计数", size), data, count_queries=True)

    system_times = []
    for n in range(repeat):
        plan = _make_plan(tag, f"导入{n}", size)
        elapsed, _ = _import(office, plan, data)
        system_times.append(elapsed)
    baseline_times = []
    for n in range(repeat + 1):
        plan = _make_plan(tag, f"基线{n}", size)
        elapsed = _timed_rolled_back(lambda plan=plan: _bulk_breakdown(plan, data))
        if n:  # the first is a warm-up
            baseline_times.append(elapsed)
    system = statistics.median(system_times)
    baseline = statistics.median(baseline_times)
    notes = (
        f"{size} rows, {len(data) // 1024} KiB XLSX; import {system:.2f} s median of {repeat} "
        f"(all rows change: lead, co, leader, deadline, 0-2 targets each); "
        f"queries: {small_queries} at {SMALL_ROWS} rows, {queries} at {size} rows "
        "(+1 COPY of the ledger events, not seen by the counter); "
        f"export_xlsx of the register {export_seconds:.2f} s; setup {setup:.1f} s"
    )
    return time_row(
        f"6b. import: {size}-row breakdown XLSX, validate + apply",
        system,
        baseline,
        "s",
        MAX_RATIO,
        notes,
    )
