import hashlib
import queue
import threading

from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf

from tasks_app.audit import labels
from tasks_app.audit.exports import (
    LEDGER_COLUMNS,
    LEDGER_KEYS,
    ExportStats,
    ledger_events,
)
from tasks_app.common.spreadsheets import DANGEROUS_PREFIXES, csv_chunks
from tasks_app.models import (
    ExportFormat,
    ExportJob,
    ExportKind,
    Role,
)

# --- The ledger CSV by COPY (PostgreSQL) --------------------------------------------------------

_TABLE = '"tasks_app_auditevent"'


# The columns ledger_row() adds for people (not hashed).
READABLE_KEYS = (
    "local_time",
    "action_label",
    "actor_name",
    "actor_role_label",
    "object_type_label",
)

_NEUTRALISED = ", ".join(str(ord(prefix)) for prefix in DANGEROUS_PREFIXES)


def _neutralised(expression: str) -> str:
    """neutralise() in SQL: ascii() is the code point of the first character (0 for '')."""
    return (
        f"CASE WHEN ascii({expression}) IN ({_NEUTRALISED}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def _column(column: str) -> str:
    return f"{_TABLE}.{connection.ops.quote_name(column)}"


def _labelled(column: str, codes, label) -> tuple[str, list[str]]:
    """A CASE giving label(code) for each code the export holds (read from them first), so the
    label is Python's own; no code is left without one."""
    codes = sorted(set(codes))
    if not codes:
        return "''", []
    cases = " ".join("WHEN %s THEN %s" for _code in codes)
    params = [value for code in codes for value in (code, label(code))]
    return f"CASE {_column(column)} {cases} END", params


def _role_label_sql() -> tuple[str, list[str]]:
    """labels.role_label() in SQL: the role's label; else a db: account's; else 系统."""
    cases = " ".join("WHEN %s THEN %s" for _role in Role.values)
    params = [value for role in Role.values for value in (role, labels.role_label(role))]
    sql = (
        f"CASE {_column('actor_role')} {cases} "
        f"ELSE CASE WHEN left({_column('actor_username')}, 3) = 'db:' THEN %s ELSE %s END END"
    )
    return sql, [*params, labels.role_label("", "db:"), labels.role_label("", "")]


def _actor_name() -> Coalesce:
    """ActorNames in SQL: the account's name (User.__str__: display name, else username), else
    the username the event recorded. A LEFT JOIN to the accounts (PostgreSQL memoizes the
    look-up per actor) rather than a sub-select per event."""
    return Coalesce(
        NullIf(F("actor__display_name"), Value("")), F("actor__username"), F("actor_username")
    )


def _readable_cell(column: str, events) -> tuple[str | Coalesce, list[str], bool]:
    """The cell ledger_row() adds for people, as SQL (with its parameters) or an expression,
    and whether it is neutralised."""
    if column == "local_time":  # exports.local_time()
        zone = settings.TIME_ZONE
        sql = f"to_char({_column('created_at')} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
        return sql, [zone], False
    if column == "action_label":
        codes = events.order_by().values_list("action", flat=True).distinct()
        sql, params = _labelled("action", codes, labels.action_label)
    elif column == "object_type_label":
        kinds = events.order_by().values_list("object_type", flat=True).distinct()
        sql, params = _labelled("object_type", kinds, labels.object_label)
    elif column == "actor_role_label":
        sql, params = _role_label_sql()
    else:  # actor_name
        return _actor_name(), [], True
    return sql, params, True


def _copy_cell(column: str) -> tuple[str, bool]:
    """ledger_row()'s cell of column as SQL over the event's row, and whether it is
    neutralised."""
    name = _column(column)
    if column in ("seq", "government_id", "hash_version"):
        return f"{name}::text", False  # a positive integer: nothing to neutralise
    if column == "created_at":  # ledger.timestamp()
        return f"""to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""", False
    if column == "actor_id":
        return f"coalesce({name}::text, '')", True
    if column in ("before", "after"):  # ledger.canonical(), stored on insert (migration 0009)
        return f"{_TABLE}.canonical_{column}", True
    return name, True


def _export_sql(events) -> tuple[str, list]:
    """The export's SELECT: each cell computed once per row in a subquery that is never pulled
    up (OFFSET 0), then neutralised outside it. Neutralising in place names each expression
    three times, and PostgreSQL evaluated the actor's name (a sub-select) and the label CASEs
    twice per row."""
    names = [f"cell_{i}" for i in range(len(LEDGER_KEYS))]
    cells, outer = {}, []
    for name, column in zip(names, LEDGER_KEYS, strict=True):
        if column in READABLE_KEYS:
            sql, params, neutralised = _readable_cell(column, events)
        else:
            (sql, neutralised), params = _copy_cell(column), []
        cells[name] = RawSQL(sql, params) if isinstance(sql, str) else sql
        outer.append(_neutralised(f"cells.{name}") if neutralised else f"cells.{name}")
    inner = events.annotate(**cells).values_list(*names, "seq").query
    inner_sql, params = inner.sql_with_params()
    return (
        f"SELECT {', '.join(outer)} FROM ({inner_sql} OFFSET 0) cells ORDER BY cells.seq",
        list(params),
    )


class _CopyRows:
    """Takes COPY's CSV one row per write() (the server sends one message per row) and writes
    it with csv_chunks()'s CRLF line ends, hashing as it goes.

    PostgreSQL quotes CSV cells as the csv module's QUOTE_MINIMAL does: a cell holding a comma,
    a quote, CR or LF is quoted, its quotes doubled. Its one other rule, quoting a cell equal to
    the NULL string, never applies: no cell is NULL, and NULL is "=", which no neutralised cell
    can be.

    write() runs once per row (1.4 million times for a province's ledger), so it only keeps the
    row; every 4,000 rows they are joined with CRLF ends and handed to a writer thread, which
    hashes and writes them while this thread takes the next rows from the server (hashlib and
    file writes release the GIL). At most four blocks wait, so memory stays flat.
    """

    BLOCK_ROWS = 4000

    def __init__(self, handle, digest):
        self.handle, self.digest, self.size = handle, digest, 0
        self.parts, self.rows, self.first, self.last = [], 0, None, None
        self.blocks: queue.Queue = queue.Queue(maxsize=4)
        self.failure: BaseException | None = None
        self.writer = threading.Thread(target=self._write_blocks, daemon=True)
        self.writer.start()

    def write(self, row: bytes) -> None:
        parts = self.parts
        parts.append(row)
        if len(parts) >= self.BLOCK_ROWS:
            self.flush()

    def flush(self) -> None:
        parts = self.parts
        if not parts:
            return
        if self.first is None:
            self.first = parts[0]
        self.last = parts[-1]
        self.rows += len(parts)
        self.parts = []
        # Each row ends with COPY's "\n"; the file's rows end with "\r\n".
        self.emit(b"".join([row[:-1] + b"\r\n" for row in parts]))

    def emit(self, data: bytes) -> None:
        if self.failure is not None:
            raise self.failure
        self.size += len(data)
        self.blocks.put(data)

    def close(self) -> None:
        """Flush, wait for the writer thread; raises what it raised."""
        self.flush()
        self.blocks.put(None)
        self.writer.join()
        if self.failure is not None:
            raise self.failure

    def _write_blocks(self) -> None:
        while (data := self.blocks.get()) is not None:
            if self.failure is not None:
                continue  # keep draining, so that the reader never blocks on a full queue
            try:
                self.digest.update(data)
                self.handle.write(data)
            except BaseException as error:  # noqa: BLE001 - re-raised in the reading thread
                self.failure = error


def _seq_of(row: bytes) -> int:
    return int(row[: row.index(b",")])


def copy_ledger_csv(job: ExportJob, handle, stats: ExportStats) -> tuple[str, int]:
    """Write job's ledger CSV into handle with COPY; its SHA-256 and size. PostgreSQL only.

    Byte for byte what csv_chunks(LEDGER_COLUMNS, rows) writes for the same events in Python.
    """
    events = ledger_events(
        job.filters, government_id=job.government_id, up_to_seq=job.manifest["chain_head"]["seq"]
    )
    sql, params = _export_sql(events)
    target = _CopyRows(handle, hashlib.sha256())
    try:
        target.emit(b"".join(csv_chunks(LEDGER_COLUMNS, [])))
        with connection.cursor() as cursor:
            query = cursor.mogrify(sql, params).decode("utf-8")
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '=')", target)
    finally:
        target.close()
    stats.rows = target.rows
    if target.rows:
        stats.first_seq, stats.last_seq = _seq_of(target.first), _seq_of(target.last)
    return target.digest.hexdigest(), target.size


def copies_ledger(job: ExportJob) -> bool:
    return (
        connection.vendor == "postgresql"
        and job.kind == ExportKind.LEDGER
        and job.format == ExportFormat.CSV
    )
