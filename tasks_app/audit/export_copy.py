import hashlib

from django.db import connection
from django.db.models.expressions import RawSQL

from tasks_app.audit.exports import (
    LEDGER_COLUMNS,
    ExportStats,
    ledger_events,
)
from tasks_app.common.spreadsheets import DANGEROUS_PREFIXES, csv_chunks
from tasks_app.models import (
    ExportFormat,
    ExportJob,
    ExportKind,
)

# --- The ledger CSV by COPY (PostgreSQL) --------------------------------------------------------

_TABLE = '"tasks_app_auditevent"'


_NEUTRALISED = ", ".join(str(ord(prefix)) for prefix in DANGEROUS_PREFIXES)


def _neutralised(expression: str) -> str:
    """neutralise() in SQL: ascii() is the code point of the first character (0 for '')."""
    return (
        f"CASE WHEN ascii({expression}) IN ({_NEUTRALISED}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def _copy_cell(column: str) -> str:
    """ledger_row()'s cell of column, neutralised, as SQL over the event's row."""
    name = f"{_TABLE}.{connection.ops.quote_name(column)}"
    if column == "seq":
        return f"{name}::text"  # a positive integer: nothing to neutralise
    if column == "created_at":  # ledger.timestamp()
        return f"""to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    if column == "actor_id":
        return _neutralised(f"coalesce({name}::text, '')")
    if column in ("before", "after"):  # ledger.canonical(), stored on insert (migration 0009)
        return _neutralised(f"{_TABLE}.canonical_{column}")
    return _neutralised(name)


class _CopyRows:
    """Takes COPY's CSV one row per write() (the server sends one message per row) and writes
    it with csv_chunks()'s CRLF line ends, hashing as it goes.

    PostgreSQL quotes CSV cells as the csv module's QUOTE_MINIMAL does: a cell holding a comma,
    a quote, CR or LF is quoted, its quotes doubled. Its one other rule, quoting a cell equal to
    the NULL string, never applies: no cell is NULL, and NULL is "=", which no neutralised cell
    can be.
    """

    def __init__(self, handle, digest):
        self.handle, self.digest, self.size = handle, digest, 0
        self.parts, self.rows, self.first, self.last = [], 0, None, None

    def write(self, row: bytes) -> None:
        self.parts.append(row[:-1])  # without its "\n"
        self.rows += 1
        if self.first is None:
            self.first = row
        if len(self.parts) >= 2000:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        self.last = self.parts[-1]
        self.parts.append(b"")
        self.emit(b"\r\n".join(self.parts))
        self.parts = []

    def emit(self, data: bytes) -> None:
        self.digest.update(data)
        self.handle.write(data)
        self.size += len(data)


def _seq_of(row: bytes) -> int:
    return int(row[: row.index(b",")])


def copy_ledger_csv(job: ExportJob, handle, stats: ExportStats) -> tuple[str, int]:
    """Write job's ledger CSV into handle with COPY; its SHA-256 and size. PostgreSQL only.

    Byte for byte what csv_chunks(LEDGER_COLUMNS, rows) writes for the same events in Python.
    """
    events = ledger_events(job.filters, up_to_seq=job.manifest["chain_head"]["seq"])
    names = [f"cell_{i}" for i in range(len(LEDGER_COLUMNS))]
    cells = zip(names, LEDGER_COLUMNS, strict=True)
    events = events.annotate(**{name: RawSQL(_copy_cell(column), ()) for name, column in cells})
    sql, params = events.values_list(*names).query.sql_with_params()
    target = _CopyRows(handle, hashlib.sha256())
    target.emit(b"".join(csv_chunks(LEDGER_COLUMNS, [])))
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode("utf-8")
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '=')", target)
    target.flush()
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
