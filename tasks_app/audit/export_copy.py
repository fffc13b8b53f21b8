import hashlib
import os
import queue
import tempfile
import threading

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf

from tasks_app.audit import labels
from tasks_app.audit.exports import (
    LEDGER_COLUMNS,
    LEDGER_KEYS,
    ExportStats,
    ledger_events,
)
from tasks_app.common.spreadsheets import DANGEROUS_PREFIXES, csv_chunks, neutralise
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

SPOOL_READ = 1 << 23
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
    params = [value for code in codes for value in (code, neutralise(label(code)))]
    return f"CASE {_column(column)} {cases} END", params


def _role_label_sql() -> tuple[str, list[str]]:
    """labels.role_label() in SQL: the role's label; else a db: account's; else 系统."""
    cases = " ".join("WHEN %s THEN %s" for _role in Role.values)
    params = [
        value for role in Role.values for value in (role, neutralise(labels.role_label(role)))
    ]
    sql = (
        f"CASE {_column('actor_role')} {cases} "
        f"ELSE CASE WHEN left({_column('actor_username')}, 3) = 'db:' THEN %s ELSE %s END END"
    )
    return sql, [
        *params,
        neutralise(labels.role_label("", "db:")),
        neutralise(labels.role_label("", "")),
    ]


def _actor_name() -> Coalesce:
    """ActorNames in SQL: the account's name (User.__str__: display name, else username), else
    the username the event recorded. A LEFT JOIN to the accounts (PostgreSQL memoizes the
    look-up per actor) rather than a sub-select per event."""
    return Coalesce(
        NullIf(F("actor__display_name"), Value("")), F("actor__username"), F("actor_username")
    )


def _codes(column: str) -> list[str]:
    """Every value of column in the ledger (all chains: a superset of any export's), read by
    skipping through the column's index, a probe per distinct value, where SELECT DISTINCT over
    a province's chain scanned 1.4 million rows (half a second per column)."""
    name = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE codes(code) AS (
                  (SELECT {name} FROM {_TABLE} ORDER BY {name} LIMIT 1)
                  UNION ALL
                  SELECT (SELECT {name} FROM {_TABLE} WHERE {name} > codes.code
                           ORDER BY {name} LIMIT 1)
                    FROM codes WHERE codes.code IS NOT NULL
                )
                SELECT code FROM codes WHERE code IS NOT NULL"""
        )
        return [row[0] for row in cursor.fetchall()]


# How a cell is neutralised: not at all (it cannot start with a formula character); only in the
# rows the ledger flags (formula_risk, migration 0031); or in every row.
NEVER, FLAGGED, ALWAYS = "never", "flagged", "always"


def _readable_cell(column: str) -> tuple[str | Coalesce, list[str], str]:
    """The cell ledger_row() adds for people, as SQL (with its parameters) or an expression,
    and how it is neutralised. The labels are neutralised in Python, once per label."""
    if column == "local_time":  # exports.local_time()
        zone = settings.TIME_ZONE
        sql = f"to_char({_column('created_at')} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
        return sql, [zone], NEVER
    if column == "action_label":
        sql, params = _labelled("action", _codes("action"), labels.action_label)
    elif column == "object_type_label":
        sql, params = _labelled("object_type", _codes("object_type"), labels.object_label)
    elif column == "actor_role_label":
        sql, params = _role_label_sql()
    else:  # actor_name: the account's current name, not stored in the event
        return _actor_name(), [], ALWAYS
    return sql, params, NEVER


def stored_cell(column: str) -> tuple[str, str]:
    """ledger_row()'s cell of column as SQL over the event's row, and how it is neutralised:
    the stored cells in the rows the ledger flags (formula_risk covers every one of them)."""
    name = _column(column)
    if column in ("seq", "government_id", "hash_version"):
        return name, NEVER  # a positive integer, printed by COPY as str() prints it
    if column == "created_at":  # ledger.timestamp()
        return f"""to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""", NEVER
    if column == "actor_id":
        return f"coalesce({name}::text, '')", FLAGGED
    if column in ("before", "after"):  # ledger.canonical(), stored on insert (migration 0009)
        return f"{_TABLE}.canonical_{column}", FLAGGED
    return name, FLAGGED


def _export_sql(events, part=None) -> tuple[str, list]:
    """The export's SELECT: each cell computed once per row in a subquery that is never pulled
    up (OFFSET 0), then neutralised outside it. Neutralising in place names each expression
    three times, and PostgreSQL evaluated the actor's name (a sub-select) and the label CASEs
    twice per row. part: a Q narrowing the rows to one stream's share."""
    names = [f"cell_{i}" for i in range(len(LEDGER_KEYS))]
    cells = {"risk": RawSQL(f"{_TABLE}.formula_risk", [])}
    outer = []
    for name, column in zip(names, LEDGER_KEYS, strict=True):
        if column in READABLE_KEYS:
            sql, params, how = _readable_cell(column)
        else:
            (sql, how), params = stored_cell(column), []
        cells[name] = RawSQL(sql, params) if isinstance(sql, str) else sql
        cell = f"cells.{name}"
        if how == ALWAYS:
            cell = _neutralised(cell)
        elif how == FLAGGED:  # a flag test: ascii() on every cell of every row cost more
            cell = f"CASE WHEN cells.risk THEN {_neutralised(cell)} ELSE {cell} END"
        outer.append(cell)
    rows = events.filter(part) if part is not None else events
    inner = rows.annotate(**cells).values_list(*names, "risk", "seq").query
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

    def __init__(self, handle, digest, *, start_writer: bool = True):
        self.handle, self.digest, self.size = handle, digest, 0
        self.parts, self.rows, self.first, self.last = [], 0, None, None
        self.blocks: queue.Queue = queue.Queue(maxsize=4)
        self.failure: BaseException | None = None
        self.writer = threading.Thread(target=self._write_blocks, daemon=True)
        if start_writer:
            self.start_writer()

    def start_writer(self) -> None:
        self.writer.start()

    def count(self, other: "_CopyRows") -> None:
        """Rows another stream wrote, appended after these (their bytes emitted already)."""
        if other.rows:
            self.first = self.first if self.first is not None else other.first
            self.last = other.last
            self.rows += other.rows

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
        # Each row ends with COPY's "\n"; the file's rows end with "\r\n". When no cell of the
        # block holds a line break (almost always), every "\n" ends a row: one replace().
        block = b"".join(parts)
        if block.count(b"\n") == len(parts):
            self.emit(block.replace(b"\n", b"\r\n"))
        else:
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

    def drain(self) -> None:
        """Wait until every block emitted so far is hashed and written; raises what failed."""
        self.flush()
        self.blocks.join()
        if self.failure is not None:
            raise self.failure

    def _write_blocks(self) -> None:
        while (data := self.blocks.get()) is not None:
            try:
                if self.failure is None:  # else keep draining: the reader never blocks
                    self.digest.update(data)
                    self.handle.write(data)
            except BaseException as error:  # noqa: BLE001 - re-raised in the reading thread
                self.failure = error
            finally:
                self.blocks.task_done()


def _seq_of(row: bytes) -> int:
    return int(row[: row.index(b",")])


def _copy(sql: str, params: list, target: "_CopyRows") -> None:
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode("utf-8")
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '=')", target)


def stream_split(up_to_seq: int) -> int | None:
    """The seq ending the first of two streams, or None for one stream.

    Two streams for a chain long enough to be worth a second server process, and only outside
    a transaction: the second stream reads on its own connection, which sees committed events
    only. Events up to the manifest's head are committed and never change (the ledger is
    append-only), so the two streams together are exactly the rows one COPY would give.
    """
    if up_to_seq < settings.AUDIT_EXPORT_PARALLEL_MIN_ROWS or connection.in_atomic_block:
        return None
    return up_to_seq // 2


class _NoDigest:
    def update(self, data: bytes) -> None:
        pass


class SecondStream(threading.Thread):
    """The later half of the ledger, COPYed on the thread's own connection into a spool file
    (not hashed: the file's hash runs in order, after the first half)."""

    def __init__(self, sql: str, params: list, spool):
        super().__init__(daemon=True)
        self.sql, self.params, self.spool = sql, params, spool
        self.rows = _CopyRows(spool, _NoDigest(), start_writer=False)
        self.failure: BaseException | None = None

    def run(self) -> None:
        from django.db import connection as own

        try:
            self.rows.start_writer()
            _copy(self.sql, self.params, self.rows)
        except BaseException as error:  # noqa: BLE001 - re-raised by the caller
            self.failure = error
        finally:
            try:
                self.rows.close()
            except BaseException as error:  # noqa: BLE001 - re-raised by the caller
                self.failure = self.failure or error
            own.close()


def copy_ledger_csv(job: ExportJob, handle, stats: ExportStats) -> tuple[str, int]:
    """Write job's ledger CSV into handle with COPY; its SHA-256 and size. PostgreSQL only.

    Byte for byte what csv_chunks(LEDGER_COLUMNS, rows) writes for the same events in Python.
    A long chain is read by two COPY streams at once, on two server processes (the per-row
    work is the server's: labels, local time, neutralised cells): the first half is written
    and hashed as it arrives, the second is spooled to a file beside the export and appended
    and hashed after it.
    """
    up_to = job.manifest["chain_head"]["seq"]
    events = ledger_events(job.filters, government_id=job.government_id, up_to_seq=up_to)
    split = stream_split(up_to)
    target = _CopyRows(handle, hashlib.sha256())
    try:
        target.emit(b"".join(csv_chunks(LEDGER_COLUMNS, [])))
        if split is None:
            _copy(*_export_sql(events), target)
        else:
            _copy_in_two(events, split, target, getattr(handle, "name", None))
    finally:
        target.close()
    stats.rows = target.rows
    if target.rows:
        stats.first_seq, stats.last_seq = _seq_of(target.first), _seq_of(target.last)
    return target.digest.hexdigest(), target.size


def _copy_in_two(events, split: int, target: "_CopyRows", path: str | None) -> None:
    folder = os.path.dirname(path) if isinstance(path, str) else None
    with tempfile.TemporaryFile(prefix=".spool-", dir=folder) as spool:
        second = SecondStream(*_export_sql(events, Q(seq__gt=split)), spool)
        second.start()
        try:
            _copy(*_export_sql(events, Q(seq__lte=split)), target)
        finally:
            second.join()
        if second.failure is not None:
            raise second.failure
        target.drain()
        spool.flush()
        _append(spool, target)
        target.count(second.rows)


def _hash_file(fd: int, size: int, digest) -> None:
    """Feed the first size bytes of the file to digest through one reused 8 MB buffer (a map of
    the whole file would count its 400 MB in the process's peak memory)."""
    buffer = memoryview(bytearray(SPOOL_READ))
    offset = 0
    while offset < size:
        read = os.preadv(fd, [buffer], offset)
        if not read:
            raise OSError(f"the spooled export ended at {offset} of {size} bytes")
        digest.update(buffer[:read])
        offset += read


def _append(spool, target: "_CopyRows") -> None:
    """Append the spooled second half to the export and hash it: the bytes are copied inside
    the kernel while a thread hashes them from the page cache (hashlib releases the GIL), instead
    of passing 400 MB through Python twice."""
    size = os.fstat(spool.fileno()).st_size
    if not size:
        return
    handle = target.handle
    handle.flush()
    hasher = threading.Thread(target=_hash_file, args=(spool.fileno(), size, target.digest))
    hasher.start()
    try:
        copied = 0
        while copied < size:
            sent = os.sendfile(handle.fileno(), spool.fileno(), copied, size - copied)
            if not sent:
                raise OSError(f"the spooled export ended at {copied} of {size} bytes")
            copied += sent
    finally:
        hasher.join()
    handle.seek(0, os.SEEK_END)  # the buffered writer's position, after the kernel's writes
    target.size += size


def copies_ledger(job: ExportJob) -> bool:
    return (
        connection.vendor == "postgresql"
        and job.kind == ExportKind.LEDGER
        and job.format == ExportFormat.CSV
    )
