"""The audit ledger: canonical serialization, hashing, chained appends, verification, checkpoints.

Protocol (also implemented in PL/pgSQL by migration 0007 and in tools/verify_export.py):

- An event's ``hash`` is the lowercase hex SHA-256 of the UTF-8 bytes of ``canonical(payload)``,
  where ``payload`` has exactly the keys in HASHED_FIELDS and ``canonical`` is compact JSON
  (separators "," and ":"), keys sorted by code point at every level, non-ASCII written as is.
- ``created_at`` is written "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC; ``actor_id`` a number or null;
  ``before`` and ``after`` as stored. Stored JSON never holds non-integer numbers (they are
  written as strings), so that Python and PostgreSQL print every value the same way.
- ``prev_hash`` is the hash of the event at ``seq - 1``; the first event's is GENESIS.
- Appends are serialised on the single AuditChainHead row: its UPDATE takes the row lock (on
  PostgreSQL; SQLite takes its database write lock), so two writers can never take the same seq.
- On PostgreSQL the append also sets the transaction-local flag ``gaoxin.audited``: the capture
  triggers, which fire at commit, skip transactions whose changes a service has already audited.
"""

import contextvars
import dataclasses
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone

from tasks_app.models import AuditChainHead, AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "prev_hash",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "actor_department",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
)
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
HEAD_ID = 1

# --- Request context: where an event comes from ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class RequestContext:
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


_NO_CONTEXT = RequestContext()
_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "gaoxin_request_context", default=None
)


def current_context() -> RequestContext:
    return _context.get() or _NO_CONTEXT


def set_context(context: RequestContext) -> contextvars.Token:
    return _context.set(context)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


# --- Canonical serialization ------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """value as stored JSON: dict keys as strings, no floats or Decimals (strings instead)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def payload(event: AuditEvent) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in HASHED_FIELDS}
    values["created_at"] = timestamp(event.created_at)
    return values


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(payload(event)).encode("utf-8")).hexdigest()


# --- Appending --------------------------------------------------------------------------------


def _lock_head() -> tuple[int, str] | None:
    """Take the chain-head lock and read the head; None when the head row is missing."""
    flag = ", set_config('gaoxin.audited', 'on', true)" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tasks_app_auditchainhead SET seq = seq WHERE id = %s "
            f"RETURNING seq, hash{flag}",
            [HEAD_ID],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def insert_locking_head(obj: models.Model) -> tuple[int, str] | None:
    """INSERT obj as obj.save(force_insert=True) would and take the chain-head lock in the same
    statement (PostgreSQL): the head for append(head=...). One round trip instead of two for
    an audited creation, as the chain lock is taken right after the INSERT anyway.

    None, with obj not saved, where that would not be the same as save(): another database, a
    model with its own save(), parents or a preset primary key. (Nothing listens for our
    models' saves: tests/common/test_architecture.py holds that.)"""
    model = type(obj)
    if not _plain_insert(obj):
        return None
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    returning = meta.db_returning_fields
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=connection.alias)
    compiler.returning_fields = returning
    [(insert_sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH obj AS ({insert_sql}), head AS (UPDATE tasks_app_auditchainhead "
            "SET seq = seq WHERE id = %s RETURNING seq, hash, "
            "set_config('gaoxin.audited', 'on', true)) "
            "SELECT obj.*, head.seq, head.hash FROM obj LEFT JOIN head ON true",
            [*params, HEAD_ID],
        )
        *values, seq, digest = cursor.fetchone()
    for field, value in zip(returning, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = connection.alias
    return (seq, digest) if seq is not None else lock_head()


def _plain_insert(obj: models.Model) -> bool:
    model = type(obj)
    return (
        connection.vendor == "postgresql"
        and type(obj).save is models.Model.save
        and not model._meta.parents
        and obj.pk is None
    )


def _create_head() -> None:
    """(Re)create the head from the ledger's last event: after a fresh install or a flush."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, digest = last or (0, GENESIS)
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(pk=HEAD_ID, defaults={"seq": seq, "hash": digest})


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the caller says about one event; the chain adds seq, prev_hash, time and hash."""

    actor_id: int | None
    actor_username: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    actor_role: str = ""
    actor_department: str = ""
    before: Any = None
    after: Any = None


def lock_head() -> tuple[int, str]:
    """Take the chain-head lock (held to the end of the transaction): the head's seq and hash.

    Creates the head from the ledger's last event when it is missing. For writers that chain
    events themselves, such as the benchmark's filler, which must then move the head."""
    head = _lock_head()
    if head is None:
        _create_head()
        head = _lock_head()
    return head


def _chained(entry: Entry, seq: int, prev_hash: str, context: RequestContext) -> AuditEvent:
    event = AuditEvent(
        seq=seq,
        prev_hash=prev_hash,
        created_at=timezone.now(),
        actor_id=entry.actor_id,
        actor_username=entry.actor_username[:150],
        actor_role=entry.actor_role[:20],
        actor_department=entry.actor_department[:100],
        action=entry.action[:80],
        object_type=entry.object_type[:50],
        object_id=str(entry.object_id)[:50],
        object_repr=entry.object_repr[:200],
        before=jsonable(entry.before),
        after=jsonable(entry.after),
        ip=context.ip[:45],
        user_agent=context.user_agent[:300],
        request_id=context.request_id[:64],
    )
    event.hash = event_hash(event)
    return event


def append(
    *, context: RequestContext | None = None, head: tuple[int, str] | None = None, **fields: Any
) -> AuditEvent:
    """Append one event (the fields of Entry) to the chain, in the caller's transaction.

    `head` is the head as insert_locking_head() locked it in this transaction, if it did."""
    entry = Entry(**fields)
    context = context or current_context()
    with transaction.atomic(savepoint=False):
        seq, prev_hash = head or lock_head()
        event = _chained(entry, seq + 1, prev_hash, context)
        _store(event)
    return event


def append_many(entries: list[Entry], *, context: RequestContext | None = None) -> list[AuditEvent]:
    """Append entries in order under one lock of the head: the same events, hashes and chain as
    one append() each, in three statements instead of two or three per event (on PostgreSQL the
    rows go in by COPY). For bulk work such as a 2,000-row breakdown sheet's 5,000 events."""
    if not entries:
        return []
    context = context or current_context()
    with transaction.atomic(savepoint=False):
        seq, prev_hash = lock_head()
        events = []
        for entry in entries:
            seq += 1
            event = _chained(entry, seq, prev_hash, context)
            prev_hash = event.hash
            events.append(event)
        _insert_many(events)
        last = events[-1]
        AuditChainHead.objects.filter(pk=HEAD_ID).update(
            seq=last.seq, hash=last.hash, updated_at=last.created_at
        )
    return events


def _insert_many(events: list[AuditEvent]) -> None:
    """bulk_create(events); on PostgreSQL one COPY (Django's INSERT costs a second per 5,000)."""
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events)
        return
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    buffer = io.StringIO()
    for event in events:
        cells = [_copy_text(f, getattr(event, f.attname)) for f in fields]
        buffer.write("\t".join(cells) + "\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {AuditEvent._meta.db_table} ({columns}) FROM STDIN", buffer
        )


def _copy_text(field, value: Any) -> str:
    """A value in COPY's text format (before/after are already jsonable)."""
    if value is None:
        return r"\N"
    if isinstance(field, models.JSONField):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dt.datetime):
        value = value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _store(event: AuditEvent) -> None:
    """Insert the event and move the head to it: on PostgreSQL in one statement (one round trip
    instead of two; the chain lock is held that much shorter)."""
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=HEAD_ID).update(
            seq=event.seq, hash=event.hash, updated_at=event.created_at
        )
        return
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH event AS (INSERT INTO tasks_app_auditevent ({columns}) "
            f"VALUES ({placeholders}) RETURNING id), "
            "head AS (UPDATE tasks_app_auditchainhead SET seq = %s, hash = %s, updated_at = %s "
            "WHERE id = %s) SELECT id FROM event",
            [*values, event.seq, event.hash, event.created_at, HEAD_ID],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


def head() -> AuditChainHead:
    found = AuditChainHead.objects.filter(pk=HEAD_ID).first()
    if found is not None:
        return found
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "created_at").first()
    seq, digest, at = last or (0, GENESIS, timezone.now())
    return AuditChainHead(pk=HEAD_ID, seq=seq, hash=digest, updated_at=at)


# --- Verification -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Break:
    """The first broken link: at seq, `expected` was due and `found` was there."""

    seq: int
    reason: str
    expected: str
    found: str


@dataclasses.dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_hash: str
    checkpoints_checked: int
    broken: Break | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str


def _walk(
    events: Iterable[AuditEvent], start: int, prev_hash: str, checkpoints: dict[int, list[str]]
) -> Iterator[Break | AuditEvent]:
    """Each event in turn, or the first Break; seq, links, hashes and checkpoints are checked."""
    expected_seq = start
    for event in events:
        if event.seq != expected_seq:
            yield Break(expected_seq, "missing", str(expected_seq), str(event.seq))
            return
        if event.prev_hash != prev_hash:
            yield Break(event.seq, "prev_hash", prev_hash, event.prev_hash)
            return
        computed = event_hash(event)
        if computed != event.hash:
            yield Break(event.seq, "hash", computed, event.hash)
            return
        for kept in checkpoints.get(event.seq, ()):
            if kept != event.hash:
                yield Break(event.seq, "checkpoint", kept, event.hash)
                return
        yield event
        prev_hash, expected_seq = event.hash, expected_seq + 1


def verify(
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    checkpoints: Iterable[Checkpoint] | None = None,
) -> Verification:
    """Walk the chain (or seq from_seq..to_seq) and report the first broken link.

    Checkpoints are the stored ones plus any given (e.g. kept outside the system): the event at a
    checkpoint's seq must still carry the checkpoint's hash, which catches a rewritten chain. A
    whole-chain check also fails when a checkpoint lies beyond the head: the chain was cut back
    ("truncated"), whatever the head now says.
    """
    chain_head = head()
    start = max(from_seq or 1, 1)
    end = to_seq if to_seq is not None else chain_head.seq
    kept: dict[int, list[str]] = {}
    beyond: list[Checkpoint] = []
    for point in [*_stored_checkpoints(), *(checkpoints or ())]:
        if start <= point.seq <= end:
            kept.setdefault(point.seq, []).append(point.hash)
        elif point.seq > end and to_seq is None:
            beyond.append(point)
    prev_hash = GENESIS
    if start > 1:
        prev_hash = AuditEvent.objects.filter(seq=start - 1).values_list("hash", flat=True).first()
        prev_hash = prev_hash or "(missing)"
    events = AuditEvent.objects.filter(seq__gte=start, seq__lte=end).order_by("seq")
    checked, first, last, broken = 0, None, None, None
    for item in _walk(events.iterator(chunk_size=2000), start, prev_hash, kept):
        if isinstance(item, Break):
            broken = item
            break
        checked, last = checked + 1, item.seq
        first = first or item.seq
    if broken is None and (last or start - 1) < end:
        broken = Break((last or start - 1) + 1, "missing", str(end), str(last or 0))
    if broken is None and beyond:
        farthest = max(point.seq for point in beyond)
        broken = Break(end + 1, "truncated", f"events up to seq {farthest}", f"head at seq {end}")
    return Verification(
        ok=broken is None,
        checked=checked,
        first_seq=first,
        last_seq=last,
        head_seq=chain_head.seq,
        head_hash=chain_head.hash,
        checkpoints_checked=sum(len(v) for v in kept.values()),
        broken=broken,
    )


def _stored_checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint(seq, digest)
        for seq, digest in AuditCheckpoint.objects.values_list("seq", "hash")
    ]


# --- Checkpoints ------------------------------------------------------------------------------


def checkpoint_record(*, created_by: str = "system") -> AuditCheckpoint | None:
    """Record the chain head now; None when nothing was appended since the last checkpoint."""
    current = head()
    latest = AuditCheckpoint.objects.order_by("-seq", "-id").first()
    if current.seq == 0 or (latest and latest.seq == current.seq):
        return None
    return AuditCheckpoint.objects.create(
        seq=current.seq, hash=current.hash, created_at=timezone.now(), created_by=created_by
    )


def checkpoints_export() -> list[dict[str, Any]]:
    """Every checkpoint as plain data, to keep somewhere the database's owners cannot reach."""
    return [
        {"seq": seq, "hash": digest, "created_at": timestamp(at)}
        for seq, digest, at in AuditCheckpoint.objects.order_by("seq", "id").values_list(
            "seq", "hash", "created_at"
        )
    ]


def checkpoints_parse(data: Any) -> list[Checkpoint]:
    """Checkpoints from checkpoints_export()'s output; ValueError when the shape is wrong."""
    if not isinstance(data, list):
        raise ValueError("checkpoints must be a list")
    points = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("seq"), int):
            raise ValueError("each checkpoint needs an integer seq and a hash")
        points.append(Checkpoint(item["seq"], str(item.get("hash", ""))))
    return points
