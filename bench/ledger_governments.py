"""7. Governments on one ledger: eight writers in eight governments against eight in one.

Each government has its own hash chain (tasks_app.audit.ledger): an append locks only its
government's head row, so the writers of different governments never queue on one lock, where
the writers of one government (one chain) still do.

7a. Report submission: services.status_update_submit as the API calls it (each report its own
    transaction, its ledger event chained), 8 writer threads each on its own connection. The
    system: writer i reports for government i's tasks, so each appends to its own chain. The
    baseline: the same 8 writers and as many reports, all for one government's tasks (one chain).
    Isolation should cost nothing: ratio (reports/s, 8 governments / 1 government) >= ~1.
7b. Ledger append rate: ledger.append of one event per transaction, 8 writer threads. The
    system: each writer appends to its own government's chain; the baseline: all 8 to one chain.
    Both sides in turns (A B A B ...) after a warm-up pair; every chain touched is verified after.
"""

import datetime as dt
import statistics
import threading
import time

from django.db import connections, transaction

from bench.harness import Row, throughput_row
from bench.ledger_append import submit

WRITERS = 8
YEAR = 2023  # periods no other benchmark reports (generate.py fills 2025, ledger_append 2024)


def _governments() -> list:
    """The nine governments with the most tasks: eight writers' own, and one for the baseline."""
    from django.db.models import Count

    from tasks_app.models import Government

    chosen = Government.objects.annotate(n=Count("tasks")).filter(n__gt=0).order_by("-n", "pk")
    chosen = list(chosen[: WRITERS + 1])
    if len(chosen) < WRITERS + 1:
        raise RuntimeError(f"needs {WRITERS + 1} governments with tasks, found {len(chosen)}")
    return chosen


def _reports(government, count: int) -> list[tuple]:
    """count (actor, task, period) triples of the government: free (task, period) pairs in YEAR,
    each reported by a member of the task's lead department."""
    from tasks_app.models import StatusUpdate, Task, User

    actors = {
        u.department_id: u
        for u in User.objects.filter(role="staff", government=government).select_related(
            "department"
        )
    }
    tasks = list(
        Task.objects.filter(government=government, lead_department_id__in=list(actors))
        .select_related("lead_department")
        .order_by("id")
    )
    taken = set(
        StatusUpdate.objects.filter(task__government=government, period__year=YEAR).values_list(
            "task_id", "period"
        )
    )
    work = []
    for month in range(1, 13):
        period = dt.date(YEAR, month, 1)
        for task in tasks:
            if (task.pk, period) not in taken:
                work.append((actors[task.lead_department_id], task, period))
            if len(work) == count:
                return work
    raise RuntimeError(f"{government}: only {len(work)} free (task, period) pairs")


def _append(government_id: int):
    def append(_number) -> None:
        from tasks_app.audit import ledger

        with transaction.atomic():
            ledger.append(
                government_id=government_id,
                actor_id=None,
                actor_username="bench",
                action="bench.append",
                object_type="ledger",
                object_id="",
                object_repr="bench",
                after={"writer": government_id},
            )

    return append


def _rate(jobs: list[tuple]) -> float:
    """Items per second with one thread per (function, items), each on its own connection."""
    errors = []

    def run(function, items):
        try:
            for item in items:
                function(item)
        except Exception as error:  # noqa: BLE001 - reported below, the figure would be wrong
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} writers failed: {errors[0]!r}")
    return sum(len(items) for _function, items in jobs) / elapsed


def _submission_row(governments, per_writer: int, rounds: int) -> Row:
    own = [_reports(g, per_writer * rounds) for g in governments[:WRITERS]]
    shared = _reports(governments[WRITERS], per_writer * WRITERS * rounds)
    pairs = []
    for number in range(rounds):
        window = slice(number * per_writer, (number + 1) * per_writer)
        system = _rate([(submit, work[window]) for work in own])
        block = shared[number * per_writer * WRITERS : (number + 1) * per_writer * WRITERS]
        baseline = _rate([(submit, block[i::WRITERS]) for i in range(WRITERS)])
        if number:
            pairs.append({"system": system, "baseline": baseline})
    return throughput_row(
        "7a. report submission: reports/s, 8 writers in 8 governments vs 8 in one government",
        statistics.median(p["system"] for p in pairs),
        statistics.median(p["baseline"] for p in pairs),
        "reports/s",
        0.9,  # isolation costs nothing measurable
        f"{per_writer * WRITERS} reports per run through services.status_update_submit, "
        f"{len(pairs)} runs each side in turns after a warm-up pair; each government has its "
        "own ledger chain, one government's writers share one",
        runs=pairs,
    )


def _append_row(governments, per_writer: int, rounds: int) -> Row:
    one = governments[WRITERS].pk
    pairs = []
    for number in range(rounds):
        own = [(_append(g.pk), range(per_writer)) for g in governments[:WRITERS]]
        system = _rate(own)
        baseline = _rate([(_append(one), range(per_writer)) for _writer in range(WRITERS)])
        if number:
            pairs.append({"system": system, "baseline": baseline})
    return throughput_row(
        "7b. ledger append: events/s, 8 writers on 8 government chains vs 8 on one chain",
        statistics.median(p["system"] for p in pairs),
        statistics.median(p["baseline"] for p in pairs),
        "events/s",
        1.0,  # per-government chains scale with writers where one chain does not
        f"{per_writer * WRITERS} ledger.append calls per run, one event per transaction, "
        f"{len(pairs)} runs each side in turns after a warm-up pair",
        runs=pairs,
    )


def run(database_url: str, *, smoke: bool) -> list[Row]:
    from tasks_app.audit import ledger

    governments = _governments()
    firsts = {g.pk: ledger.head(g.pk).seq + 1 for g in governments}
    rounds = (2 if smoke else 5) + 1
    rows = [
        _submission_row(governments, 3 if smoke else 15, rounds),
        _append_row(governments, 10 if smoke else 100, rounds),
    ]
    checked = 0
    for government in governments:
        result = ledger.verify(government_id=government.pk, from_seq=firsts[government.pk])
        if not result.ok:
            raise RuntimeError(f"{government}'s chain broke under the benchmark: {result.broken}")
        checked += result.checked
    for row in rows:
        row.notes += f"; {len(governments)} chains verified ({checked} events) after"
    return rows
