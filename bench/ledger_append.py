"""5. Ledger append cost: status updates per second with the hash chain against without.

The system is services.status_update_submit as the API calls it, each update in its own
transaction, its ledger event chained (tasks_app.audit.ledger: head-row lock, SHA-256 over the
canonical payload, head moved). The baseline is the same service with the same event written
unchained: no head lock, no hash, the row inserted into a table shaped exactly like the ledger
(same columns and indexes, no triggers). Measured with one writer and with 8 concurrent writers
(threads, one connection each), where the chain's single head row serialises appends.
"""

import contextlib
import datetime as dt
import threading
import time

from django.db import connection, connections
from django.utils import timezone

from bench.harness import Row, throughput_row

UNCHAINED_TABLE = "bench_unchained_event"


def _work(count: int, offset_year: int) -> list[tuple]:
    """count (actor, task, period) triples, each a new (task, period) for its lead department."""
    from tasks_app.models import StatusUpdate, Task, User

    actors = {
        u.department_id: u for u in User.objects.filter(role="staff").select_related("department")
    }
    tasks = list(Task.objects.select_related("lead_department").order_by("id"))
    taken = set(
        StatusUpdate.objects.filter(period__year=offset_year).values_list("task_id", "period")
    )
    work = []
    for month in range(1, 13):
        for task in tasks:
            if (task.pk, dt.date(offset_year, month, 1)) in taken:
                continue
            work.append((actors[task.lead_department_id], task, dt.date(offset_year, month, 1)))
            if len(work) == count:
                return work
    return work


def submit(item) -> None:
    """One report through the service the API calls (also bench.ledger_governments' unit)."""
    from tasks_app.reporting import services

    actor, task, period = item
    services.status_update_submit(
        actor=actor,
        task=task,
        period=period,
        status="on_schedule",
        progress=40,
        narrative="按计划推进。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )


def _unchained_append(**fields):
    """The same event row as ledger.append writes, minus the chain (lock, hash, head)."""
    from tasks_app.audit import ledger
    from tasks_app.models import AuditEvent

    context = fields.pop("context", None) or ledger.current_context()
    fields.pop("head", None)  # the chain's head, which an unchained row has none of
    event = AuditEvent(
        seq=0,
        prev_hash="",
        hash="",
        created_at=timezone.now(),
        before=ledger.jsonable(fields.pop("before", None)),
        after=ledger.jsonable(fields.pop("after", None)),
        ip=context.ip,
        user_agent=context.user_agent,
        request_id=context.request_id,
        **fields,
    )
    columns = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {UNCHAINED_TABLE} ({', '.join(f.column for f in columns)}) "
            f"SELECT {', '.join(['%s'] * len(columns))} "
            # Like ledger.append, mark the transaction audited so the capture triggers skip it.
            "FROM (SELECT set_config('gaoxin.audited', 'on', true)) AS audited",
            [f.get_db_prep_save(getattr(event, f.attname), connection) for f in columns],
        )
    return event


@contextlib.contextmanager
def _unchained():
    from tasks_app.audit import ledger

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {UNCHAINED_TABLE} (LIKE tasks_app_auditevent "
            "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING INDEXES)"
        )
        for key in ("seq_key", "government_id_seq_key"):  # the chain's unique seq, per government
            cursor.execute(
                f"ALTER TABLE {UNCHAINED_TABLE} DROP CONSTRAINT IF EXISTS {UNCHAINED_TABLE}_{key}"
            )
    # Unique seq is the chain's; without a chain every row has seq 0.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%UNIQUE%%'"
            " AND indexdef LIKE '%%(seq)%%'",
            [UNCHAINED_TABLE],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    original = ledger.append
    ledger.append = _unchained_append
    try:
        yield
    finally:
        ledger.append = original


def _rate(work: list, writers: int) -> float:
    """Updates per second with `writers` threads sharing the work, each on its own connection."""
    if writers == 1:
        started = time.perf_counter()
        for item in work:
            submit(item)
        return len(work) / (time.perf_counter() - started)
    chunks = [work[i::writers] for i in range(writers)]
    errors = []

    def run(chunk):
        try:
            for item in chunk:
                submit(item)
        except Exception as error:  # noqa: BLE001 - reported below, the figure would be wrong
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} writers failed: {errors[0]!r}")
    return len(work) / elapsed


def run(database_url: str, *, smoke: bool) -> list[Row]:
    """Chained and unchained in turns (a warm-up pair, then five pairs, each run recorded), with
    one writer and with eight."""
    import statistics

    from tasks_app.audit import ledger
    from tasks_app.models import AuditEvent

    per_run = 30 if smoke else 300
    runs = 2 if smoke else 5
    rounds = runs + 1
    work = _work(per_run * rounds * 4, 2024)
    if len(work) < per_run * rounds * 4:
        raise RuntimeError(f"only {len(work)} free (task, period) pairs")
    batches = iter([work[i : i + per_run] for i in range(0, len(work), per_run)])
    from bench.http_submit import chain_heads

    firsts = chain_heads([task.pk for _actor, task, _period in work])
    before = AuditEvent.objects.count()
    chained_runs = 0
    rows = []
    for writers in (1, 8):
        pairs = []
        for number in range(rounds):
            chained = _rate(next(batches), writers)
            chained_runs += 1
            with _unchained():
                unchained = _rate(next(batches), writers)
            if number:
                pairs.append({"system": chained, "baseline": unchained})
        note = (
            f"{per_run} updates per run, {len(pairs)} runs each side in turns after a warm-up "
            "pair; the unchained side writes the same event into a table of the ledger's shape "
            "(same columns, generated columns and indexes, no triggers)"
        )
        rows.append(
            throughput_row(
                f"5{'ab'[writers > 1]}. ledger append: status updates/s chained vs unchained, "
                f"{writers} writer{'s' if writers > 1 else ''}",
                statistics.median(p["system"] for p in pairs),
                statistics.median(p["baseline"] for p in pairs),
                "updates/s",
                None,
                note,
                runs=pairs,
            )
        )
    written = AuditEvent.objects.count() - before
    if written != chained_runs * per_run:
        expected = chained_runs * per_run
        raise RuntimeError(f"chained runs wrote {written} events, expected {expected}")
    checked = 0
    for government_id, first_seq in firsts.items():
        verification = ledger.verify(government_id=government_id, from_seq=first_seq)
        if not verification.ok:
            raise RuntimeError(f"a chain broke under the benchmark: {verification.broken}")
        checked += verification.checked
    for row in rows:
        row.notes += f"; chains verified ({checked} events) after"
    return rows
