"""The audit ledger: canonical serialization, hashing, chained appends, verification, checkpoints.

Protocol (also implemented in PL/pgSQL by migration 0007 and in tools/verify_export.py):

- An event's ``hash`` is the lowercase hex SHA-256 of the UTF-8 bytes of ``canonical(payload)``,
  where ``payload`` has exactly the keys in HASHED_FIELDS and ``canonical`` is compact JSON
  (separators "," and ":"), keys sorted by code point at every level, non-ASCII written as is.
- ``created_at`` is written "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC; ``actor_id`` a number or null;
  ``before`` and ``after`` as stored. Stored JSON never holds non-integer numbers (they are
  written as strings), so that Python and PostgreSQL print every value the same way.
- Each government has its own chain: ``seq`` counts within the government, ``prev_hash`` is the
  hash of the government's event at ``seq - 1``; the first event's is GENESIS.
- ``payload`` has the keys of HASHED_FIELDS (with ``government_id``) for events of hash_version 2,
  those of HASHED_FIELDS_V1 for the events recorded before there were governments (version 1,
  the default government's chain up to migration 0026). Versions never go back within a chain.
- An event belongs to the government of the object it concerns (a task's, a report's task's, a
  plan's, a department's, a user's), else to its actor's, else (system events) to the default
  government (settings.GAOXIN_GOVERNMENT); services.audit_log decides.
- Appends are serialised on the government's AuditChainHead row: its UPDATE takes the row lock (on
  PostgreSQL; SQLite takes its database write lock), so two writers can never take the same seq,
  and writers of different governments do not wait for each other (on PostgreSQL).
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

from tasks_app.models import AuditChainHead, AuditCheckpoint, AuditEvent, Government
from tasks_app.plans.tenants import default_government_id

GENESIS = "0" * 64
HASHED_FIELDS_V1 = (
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
HASHED_FIELDS = (*HASHED_FIELDS_V1, "government_id")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

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


def hashed_fields(hash_version: int) -> tuple[str, ...]:
    return HASHED_FIELDS if hash_version >= 2 else HASHED_FIELDS_V1


def payload(event: AuditEvent) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in hashed_fields(event.hash_version)}
    values["created_at"] = timestamp(event.created_at)
    return values


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(payload(event)).encode("utf-8")).hexdigest()


# --- Appending --------------------------------------------------------------------------------


def _lock_head(government_id: int) -> tuple[int, str] | None:
    """Take the government's chain-head lock and read its head; None when the row is missing."""
    flag = ", set_config('gaoxin.audited', 'on', true)" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tasks_app_auditchainhead SET seq = seq WHERE government_id = %s "
            f"RETURNING seq, hash{flag}",
            [government_id],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def insert_locking_head(obj: models.Model, government_id: int) -> tuple[int, str] | None:
    """INSERT obj as obj.save(force_insert=True) would and take the chain-head lock of
    government_id's chain in the same statement (PostgreSQL): the head for append(head=...).
    One round trip instead of two for an audited creation, as the chain lock is taken right
    after the INSERT anyway.

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
            "SET seq = seq WHERE government_id = %s RETURNING seq, hash, "
            "set_config('gaoxin.audited', 'on', true)) "
            "SELECT obj.*, head.seq, head.hash FROM obj LEFT JOIN head ON true",
            [*params, government_id],
        )
        *values, seq, digest = cursor.fetchone()
    for field, value in zip(returning, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = connection.alias
    return (seq, digest) if seq is not None else lock_head(government_id)


def _plain_insert(obj: models.Model) -> bool:
    model = type(obj)
    return (
        connection.vendor == "postgresql"
        and type(obj).save is models.Model.save
        and not model._meta.parents
        and obj.pk is None
    )


def _last_event(government_id: int):
    return AuditEvent.objects.filter(government_id=government_id).order_by("-seq")


def _create_head(government_id: int) -> None:
    """(Re)create a government's head from its last event: its first event, or after a flush."""
    seq, digest = _last_event(government_id).values_list("seq", "hash").first() or (0, GENESIS)
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(
            government_id=government_id, defaults={"seq": seq, "hash": digest}
        )


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
    government_id: int | None = None  # None: the default government's chain


def lock_head(government_id: int | None = None) -> tuple[int, str]:
    """Take a government's chain-head lock (held to the end of the transaction): its head's seq
    and hash (the default government's when none is named).

    Creates the head from the government's last event when it is missing. For writers that chain
    events themselves, such as the benchmark's filler, which must then move the head."""
    government_id = government_id or default_government_id()
    head = _lock_head(government_id)
    if head is None:
        _create_head(government_id)
        head = _lock_head(government_id)
    return head


def _chained(
    entry: Entry, seq: int, prev_hash: str, context: RequestContext, government_id: int
) -> AuditEvent:
    event = AuditEvent(
        government_id=government_id,
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
    """Append one event (the fields of Entry) to its government's chain, in the caller's
    transaction. `head` is that chain's head as insert_locking_head() locked it in this
    transaction, if it did."""
    entry = Entry(**fields)
    context = context or current_context()
    government_id = entry.government_id or default_government_id()
    with transaction.atomic(savepoint=False):
        seq, prev_hash = head or lock_head(government_id)
        event = _chained(entry, seq + 1, prev_hash, context, government_id)
        _store(event)
    return event


def append_many(entries: list[Entry], *, context: RequestContext | None = None) -> list[AuditEvent]:
    """Append entries in order under one lock of each government's head: the same events, hashes
    and chains as one append() each, in three statements per government instead of two or three
    per event (on PostgreSQL the rows go in by COPY). For bulk work such as a 2,000-row breakdown
    sheet's 5,000 events. Heads are locked in government id order (no deadlock between batches)."""
    if not entries:
        return []
    context = context or current_context()
    default = None
    by_government: dict[int, list[int]] = {}
    for index, entry in enumerate(entries):
        government_id = entry.government_id or (default := default or default_government_id())
        by_government.setdefault(government_id, []).append(index)
    events: list[AuditEvent | None] = [None] * len(entries)
    with transaction.atomic(savepoint=False):
        for government_id in sorted(by_government):
            seq, prev_hash = lock_head(government_id)
            for index in by_government[government_id]:
                seq += 1
                event = _chained(entries[index], seq, prev_hash, context, government_id)
                prev_hash, events[index] = event.hash, event
        _insert_many(events)
        for government_id, indexes in by_government.items():
            last = events[indexes[-1]]
            AuditChainHead.objects.filter(government_id=government_id).update(
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
        AuditChainHead.objects.filter(government_id=event.government_id).update(
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
            "WHERE government_id = %s) SELECT id FROM event",
            [*values, event.seq, event.hash, event.created_at, event.government_id],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


def head(government_id: int | None = None) -> AuditChainHead:
    """A government's chain head (the default government's when none is named)."""
    government_id = government_id or default_government_id()
    found = AuditChainHead.objects.filter(government_id=government_id).first()
    if found is not None:
        return found
    last = _last_event(government_id).values_list("seq", "hash", "created_at").first()
    seq, digest, at = last or (0, GENESIS, timezone.now())
    return AuditChainHead(government_id=government_id, seq=seq, hash=digest, updated_at=at)


def governments_with_chains() -> list[Government]:
    """Every government that has a chain head or events, by id."""
    events = AuditEvent.objects.filter(government_id=models.OuterRef("pk"))
    heads = AuditChainHead.objects.filter(government_id=models.OuterRef("pk"))
    chains = Government.objects.filter(models.Exists(events) | models.Exists(heads))
    return list(chains.order_by("pk"))


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
    government_id: int
    government: str
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
    government_id: int | None = None  # None (a file kept before governments): the default's


def _walk(
    events: Iterable[AuditEvent], start: int, prev_hash: str, checkpoints: dict[int, list[str]]
) -> Iterator[Break | AuditEvent]:
    """Each event in turn, or the first Break; seq, links, hashes and checkpoints are checked."""
    expected_seq, version = start, 1
    for event in events:
        if event.seq != expected_seq:
            yield Break(expected_seq, "missing", str(expected_seq), str(event.seq))
            return
        if event.hash_version < version:  # a version 2 event cannot become version 1
            yield Break(event.seq, "hash_version", str(version), str(event.hash_version))
            return
        version = event.hash_version
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
    government_id: int | None = None,
    from_seq: int | None = None,
    to_seq: int | None = None,
    checkpoints: Iterable[Checkpoint] | None = None,
) -> Verification:
    """Walk a government's chain (or seq from_seq..to_seq) and report the first broken link; the
    default government's chain when none is named.

    Checkpoints are the government's stored ones plus any given (e.g. kept outside the system):
    the event at a checkpoint's seq must still carry the checkpoint's hash, which catches a
    rewritten chain. A whole-chain check also fails when a checkpoint lies beyond the head: the
    chain was cut back ("truncated"), whatever the head now says.
    """
    government = Government.objects.get(pk=government_id or default_government_id())
    chain_head = head(government.pk)
    start = max(from_seq or 1, 1)
    end = to_seq if to_seq is not None else chain_head.seq
    kept: dict[int, list[str]] = {}
    beyond: list[Checkpoint] = []
    given = [p for p in checkpoints or () if _applies(p, government.pk)]
    for point in [*_stored_checkpoints(government.pk), *given]:
        if start <= point.seq <= end:
            kept.setdefault(point.seq, []).append(point.hash)
        elif point.seq > end and to_seq is None:
            beyond.append(point)
    chain = AuditEvent.objects.filter(government_id=government.pk)
    prev_hash = GENESIS
    if start > 1:
        prev_hash = chain.filter(seq=start - 1).values_list("hash", flat=True).first()
        prev_hash = prev_hash or "(missing)"
    events = chain.filter(seq__gte=start, seq__lte=end).order_by("seq")
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
        government_id=government.pk,
        government=government.name,
        ok=broken is None,
        checked=checked,
        first_seq=first,
        last_seq=last,
        head_seq=chain_head.seq,
        head_hash=chain_head.hash,
        checkpoints_checked=sum(len(v) for v in kept.values()),
        broken=broken,
    )


def verify_all(**options: Any) -> list[Verification]:
    """verify() of every government's chain, by government id."""
    return [verify(government_id=g.pk, **options) for g in governments_with_chains()]


def _applies(point: Checkpoint, government_id: int) -> bool:
    if point.government_id is None:
        return government_id == default_government_id()
    return point.government_id == government_id


def _stored_checkpoints(government_id: int) -> list[Checkpoint]:
    points = AuditCheckpoint.objects.filter(government_id=government_id)
    return [
        Checkpoint(seq, digest, government_id) for seq, digest in points.values_list("seq", "hash")
    ]


# --- Checkpoints ------------------------------------------------------------------------------


def checkpoint_record(
    *, government_id: int | None = None, created_by: str = "system"
) -> AuditCheckpoint | None:
    """Record a government's chain head now (the default government's when none is named);
    None when nothing was appended to its chain since its last checkpoint."""
    government_id = government_id or default_government_id()
    current = head(government_id)
    points = AuditCheckpoint.objects.filter(government_id=government_id)
    latest = points.order_by("-seq", "-id").first()
    if current.seq == 0 or (latest and latest.seq == current.seq):
        return None
    return AuditCheckpoint.objects.create(
        government_id=government_id,
        seq=current.seq,
        hash=current.hash,
        created_at=timezone.now(),
        created_by=created_by,
    )


def checkpoints_record_all(*, created_by: str = "system") -> list[AuditCheckpoint]:
    """A checkpoint of every government's chain that moved since its last one."""
    recorded = [
        checkpoint_record(government_id=g.pk, created_by=created_by)
        for g in governments_with_chains()
    ]
    return [point for point in recorded if point is not None]


def checkpoints_export(government_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The checkpoints (of these governments, else all) as plain data naming their government,
    to keep somewhere the database's owners cannot reach."""
    points = AuditCheckpoint.objects.select_related("government").order_by(
        "government_id", "seq", "id"
    )
    if government_ids is not None:
        points = points.filter(government_id__in=list(government_ids))
    return [
        {
            "government_id": point.government_id,
            "government": point.government.name,
            "seq": point.seq,
            "hash": point.hash,
            "created_at": timestamp(point.created_at),
        }
        for point in points
    ]


def checkpoints_parse(data: Any) -> list[Checkpoint]:
    """Checkpoints from checkpoints_export()'s output; ValueError when the shape is wrong."""
    if not isinstance(data, list):
        raise ValueError("checkpoints must be a list")
    points = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("seq"), int):
            raise ValueError("each checkpoint needs an integer seq and a hash")
        government_id = item.get("government_id")
        if government_id is not None and not isinstance(government_id, int):
            raise ValueError("a checkpoint's government_id must be an integer")
        points.append(Checkpoint(item["seq"], str(item.get("hash", "")), government_id))
    return points
