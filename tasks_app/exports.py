"""Ledger and progress-log exports: rows -> CSV / XLSX, streamed, each with a manifest.

CSV is UTF-8 with a BOM (Excel opens Chinese correctly). A cell starting with = + - @ (or a tab,
a carriage return or a quote) is written with a leading "'" so that no spreadsheet runs it as a
formula; tools/verify_export.py removes that one quote again before checking hashes.

Memory stays flat: rows come from a server-side cursor in chunks, CSV leaves in small chunks,
XLSX goes through openpyxl's write-only workbook into a temporary file. On PostgreSQL a ledger
CSV written to a file (the background job) is produced by COPY instead of row by row in Python:
the same bytes (tests/test_ledger_export_copy.py), several times faster.

Every export is an ExportJob: started (an "audit.export" event, then the chain head is read, so
the export's own event is inside what it can cover), written, finished (manifest saved and an
"audit.export.completed" event naming the file's SHA-256).
"""

import contextlib
import csv
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.files import File
from django.db import connection, transaction
from django.db.models import CharField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import ledger
from tasks_app.errors import ServiceError
from tasks_app.models import (
    AuditEvent,
    Department,
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportState,
    Indicator,
    Milestone,
    Plan,
    Review,
    Section,
    StatusUpdate,
    Task,
    User,
)

BOM = "\ufeff"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
CHUNK_ROWS = 500
LEDGER_COLUMNS = (
    "seq",
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
    "prev_hash",
    "hash",
)
PROGRESS_COLUMNS = (
    "计划",
    "方面",
    "任务编号",
    "任务",
    "牵头单位",
    "报送期",
    "状态",
    "进度(%)",
    "进展情况",
    "填报人",
    "报送次数",
    "最近报送时间",
    "审核状态",
    "审核记录",
)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# --- Filters ----------------------------------------------------------------------------------

FILTERS = {
    ExportKind.LEDGER: ("plan", "department", "task", "action", "date_from", "date_to"),
    ExportKind.PROGRESS: ("plan", "department", "section", "task", "date_from", "date_to"),
}
_MODELS = {"plan": Plan, "department": Department, "section": Section, "task": Task}


def _invalid(name: str, message) -> ServiceError:
    return ServiceError("invalid_filter", message, field=name)


def _parse_one(name: str, raw: str) -> Any:
    if name in _MODELS:
        if not raw.isdigit() or not _MODELS[name].objects.filter(pk=int(raw)).exists():
            raise _invalid(name, _("筛选条件“%(name)s”指向的对象不存在。") % {"name": name})
        return int(raw)
    if name in ("date_from", "date_to"):
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise _invalid(name, _("日期格式应为 YYYY-MM-DD。")) from None
    if len(raw) > 80:
        raise _invalid(name, _("操作名称过长。"))
    return raw


def parse_filters(query: QueryDict | dict, kind: str) -> dict[str, Any]:
    """The export filters present in query, validated; ServiceError (400) on a bad value."""
    filters = {}
    for name in FILTERS[kind]:
        raw = str(query.get(name) or "").strip()
        if raw:
            filters[name] = _parse_one(name, raw)
    if filters.get("date_from", "") > filters.get("date_to", "9999"):
        raise _invalid("date_to", _("结束日期不能早于开始日期。"))
    return filters


def parse_choice(value: str | None, choices, name: str, default: str) -> str:
    value = (value or default).strip()
    if value not in choices.values:
        raise ServiceError(
            "invalid_" + name, _("不支持的取值:%(value)s") % {"value": value[:20]}, field=name
        )
    return value


def _local_day_bounds(filters: dict) -> Q:
    q = Q()
    tz = timezone.get_current_timezone()
    if "date_from" in filters:
        start = dt.datetime.combine(dt.date.fromisoformat(filters["date_from"]), dt.time(), tz)
        q &= Q(created_at__gte=start)
    if "date_to" in filters:
        end = dt.datetime.combine(dt.date.fromisoformat(filters["date_to"]), dt.time(), tz)
        q &= Q(created_at__lt=end + dt.timedelta(days=1))
    return q


def _ids(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(sid=Cast("id", CharField())).values("sid")


def _objects_of(tasks: QuerySet[Task]) -> Q:
    """Events about these tasks or anything hanging from them."""
    updates = StatusUpdate.objects.filter(task__in=tasks)
    return (
        Q(object_type="task", object_id__in=_ids(tasks))
        | Q(object_type="statusupdate", object_id__in=_ids(updates))
        | Q(object_type="review", object_id__in=_ids(Review.objects.filter(update__in=updates)))
        | Q(object_type="indicator", object_id__in=_ids(Indicator.objects.filter(task__in=tasks)))
        | Q(object_type="milestone", object_id__in=_ids(Milestone.objects.filter(task__in=tasks)))
    )


def ledger_events(filters: dict, *, up_to_seq: int | None = None) -> QuerySet[AuditEvent]:
    """Ledger events matching the filters, in chain order."""
    events = AuditEvent.objects.filter(_local_day_bounds(filters))
    if up_to_seq is not None:
        events = events.filter(seq__lte=up_to_seq)
    if "action" in filters:
        events = events.filter(action__startswith=filters["action"])
    if "task" in filters:
        events = events.filter(_objects_of(Task.objects.filter(pk=filters["task"])))
    if "plan" in filters:
        plan_id = filters["plan"]
        events = events.filter(
            _objects_of(Task.objects.filter(plan_id=plan_id))
            | Q(object_type="plan", object_id=str(plan_id))
        )
    if "department" in filters:
        department = Department.objects.get(pk=filters["department"])
        events = events.filter(
            _objects_of(Task.objects.filter(lead_department=department))
            | Q(actor_department=department.name)
        )
    return events.order_by("seq")


def progress_updates(filters: dict, *, until: dt.datetime | None = None) -> QuerySet:
    """Status updates with their reviews, for the progress log."""
    updates = StatusUpdate.objects.select_related(
        "task__plan", "task__section", "task__lead_department", "author"
    ).prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer").order_by("id"))
    )
    if until is not None:
        updates = updates.filter(created_at__lte=until)
    lookups = {
        "plan": "task__plan_id",
        "section": "task__section_id",
        "department": "task__lead_department_id",
        "task": "task_id",
    }
    for name, lookup in lookups.items():
        if name in filters:
            updates = updates.filter(**{lookup: filters[name]})
    if "date_from" in filters:
        updates = updates.filter(period__gte=filters["date_from"])
    if "date_to" in filters:
        updates = updates.filter(period__lte=filters["date_to"])
    return updates.order_by("task__plan_id", "task__position", "task_id", "period", "id")


# --- Rows -------------------------------------------------------------------------------------


def ledger_row(event: AuditEvent) -> list[str]:
    """An event as CSV cells: exactly what its hash covers, so a file can be checked offline."""
    values = ledger.payload(event)
    values["hash"] = event.hash
    row = []
    for column in LEDGER_COLUMNS:
        value = values[column]
        if column in ("before", "after"):
            row.append(ledger.canonical(value))
        elif value is None:
            row.append("")
        else:
            row.append(str(value))
    return row


def _review_text(review: Review) -> str:
    return _("第%(n)s次报送:%(decision)s(%(reviewer)s,%(at)s)%(reason)s") % {
        "n": review.revision,
        "decision": review.get_decision_display(),
        "reviewer": review.reviewer,
        "at": timezone.localtime(review.created_at).strftime("%Y-%m-%d %H:%M"),
        "reason": f":{review.reason}" if review.reason else "",
    }


def progress_row(update: StatusUpdate) -> list[str]:
    task = update.task
    return [
        task.plan.title,
        str(task.section or ""),
        task.code,
        task.title,
        str(task.lead_department or ""),
        update.period.strftime("%Y-%m"),
        update.get_status_display(),
        str(update.progress),
        update.narrative,
        str(update.author),
        str(update.revision),
        timezone.localtime(update.submitted_at).strftime("%Y-%m-%d %H:%M"),
        update.get_review_state_display(),
        ";".join(_review_text(review) for review in update.reviews.all()),
    ]


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(DANGEROUS_PREFIXES) else cell


# --- Writers ----------------------------------------------------------------------------------


class _Parts(list):
    def write(self, text: str) -> None:
        self.append(text)


def csv_chunks(header: Iterable[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """header and rows as CSV bytes (BOM first), a few hundred rows per chunk."""
    parts = _Parts()
    writer = csv.writer(parts, lineterminator="\r\n")
    parts.write(BOM)
    writer.writerow(list(header))
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % CHUNK_ROWS == 0:
            yield "".join(parts).encode("utf-8")
            parts.clear()
    yield "".join(parts).encode("utf-8")


def write_xlsx(path: str, header: Iterable[str], rows: Iterable[list[str]], title: str) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([neutralise(cell) for cell in row])
    workbook.save(path)


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


def copy_ledger_csv(job: ExportJob, handle, stats: "_Stats") -> tuple[str, int]:
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


def _copies_ledger(job: ExportJob) -> bool:
    return (
        connection.vendor == "postgresql"
        and job.kind == ExportKind.LEDGER
        and job.format == ExportFormat.CSV
    )


# --- Jobs -------------------------------------------------------------------------------------


class _Stats:
    """Counts rows and remembers the first and last ledger seq as they stream past."""

    def __init__(self):
        self.rows, self.first_seq, self.last_seq = 0, None, None

    def ledger(self, events: Iterable[AuditEvent]) -> Iterator[list[str]]:
        for event in events:
            self.rows += 1
            self.first_seq = self.first_seq or event.seq
            self.last_seq = event.seq
            yield ledger_row(event)

    def progress(self, updates: Iterable[StatusUpdate]) -> Iterator[list[str]]:
        for update in updates:
            self.rows += 1
            yield progress_row(update)


def _actor_fields(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "role": user.role,
        "department": user.department.name if user.department_id else "",
    }


def file_name(job: ExportJob) -> str:
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M%S")
    return f"gaoxin-{job.kind}-{stamp}-{job.pk}.{job.format}"


@transaction.atomic
def export_start(
    *, actor: User, kind: str, format: str, filters: dict, background: bool
) -> ExportJob:
    """Record the export (an audited event) and freeze the chain head it is taken against."""
    from tasks_app.services import audit_log

    audit_log(
        actor=actor,
        action="audit.export",
        object_type="export",
        object_repr=f"{kind}.{format}",
        after={"kind": kind, "format": format, "filters": filters, "background": background},
    )
    head = ledger.head()
    job = ExportJob.objects.create(
        kind=kind,
        format=format,
        filters=filters,
        requested_by=actor,
        background=background,
        state=ExportState.PENDING if background else ExportState.RUNNING,
        created_at=timezone.now(),
        manifest={
            "chain_head": {
                "seq": head.seq,
                "hash": head.hash,
                "at": ledger.timestamp(head.updated_at),
            }
        },
    )
    return job


def _rows(job: ExportJob, stats: _Stats) -> tuple[list[str], Iterator[list[str]]]:
    if job.kind == ExportKind.LEDGER:
        events = ledger_events(job.filters, up_to_seq=job.manifest["chain_head"]["seq"])
        return list(LEDGER_COLUMNS), stats.ledger(events.iterator(chunk_size=2000))
    updates = progress_updates(job.filters, until=job.created_at)
    return list(PROGRESS_COLUMNS), stats.progress(updates.iterator(chunk_size=500))


def _finish(job: ExportJob, stats: _Stats, digest: str, size: int) -> ExportJob:
    from tasks_app.services import audit_log

    now = timezone.now()
    job.manifest = {
        "export_id": job.pk,
        "kind": job.kind,
        "format": job.format,
        "filters": job.filters,
        "row_count": stats.rows,
        "first_seq": stats.first_seq,
        "last_seq": stats.last_seq,
        "chain_head": job.manifest["chain_head"],
        "file_name": file_name(job),
        "file_bytes": size,
        "file_sha256": digest,
        "exported_by": _actor_fields(job.requested_by),
        "exported_at": ledger.timestamp(job.created_at),
        "finished_at": ledger.timestamp(now),
        "columns": list(LEDGER_COLUMNS if job.kind == ExportKind.LEDGER else PROGRESS_COLUMNS),
        "hash_protocol": "sha256(canonical JSON of seq, prev_hash, created_at, actor_id, "
        "actor_username, actor_role, actor_department, action, object_type, object_id, "
        "object_repr, before, after, ip, user_agent, request_id); see tools/verify_export.py",
    }
    with transaction.atomic():
        job.state, job.finished_at = ExportState.DONE, now
        job.save(update_fields=["manifest", "state", "finished_at", "file"])
        audit_log(
            actor=job.requested_by,
            action="audit.export.completed",
            obj=job,
            after={
                "file_sha256": digest,
                "row_count": stats.rows,
                "first_seq": stats.first_seq,
                "last_seq": stats.last_seq,
            },
        )
    return job


def csv_stream(job: ExportJob) -> Iterator[bytes]:
    """The CSV of job, chunk by chunk; the manifest is saved after the last chunk."""
    stats = _Stats()
    header, rows = _rows(job, stats)
    digest, size = hashlib.sha256(), 0
    for chunk in csv_chunks(header, rows):
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    _finish(job, stats, digest.hexdigest(), size)


def _file_digest(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest(), os.path.getsize(path)


def write_to_file(job: ExportJob, path: str) -> tuple[_Stats, str, int]:
    """Write job's export into path; its stats, SHA-256 and size."""
    stats = _Stats()
    if _copies_ledger(job):
        with open(path, "wb") as handle:
            digest, size = copy_ledger_csv(job, handle, stats)
        return stats, digest, size
    if job.format == ExportFormat.CSV:
        with open(path, "wb") as handle:
            for chunk in csv_chunks(*_rows(job, stats)):
                handle.write(chunk)
    else:
        header, rows = _rows(job, stats)
        write_xlsx(path, header, rows, title=job.get_kind_display())
    digest, size = _file_digest(path)
    return stats, digest, size


def xlsx_file(job: ExportJob) -> str:
    """A synchronous XLSX export: written to a temporary file (the caller deletes it)."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    stats, digest, size = write_to_file(job, path)
    _finish(job, stats, digest, size)
    return path


class _WrittenFile(File):
    """A finished file on disk: a file-system storage moves it into place instead of copying
    it (a rename when both are on one file system: seconds saved on a million-row ledger)."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _scratch_dir(job: ExportJob) -> str | None:
    """Where to write the file before storing it: beside the stored exports when the storage is
    on the file system (so storing it is a rename), else the system's temporary folder."""
    try:
        folder = job.file.storage.path("audit_exports")
    except NotImplementedError:
        return None
    os.makedirs(folder, exist_ok=True)
    return folder


def export_job_run(*, job_id: int) -> ExportJob:
    """The background runner: claim a pending job, write its file to storage, save the manifest."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.PENDING).update(
        state=ExportState.RUNNING
    )
    job = ExportJob.objects.select_related("requested_by__department").get(pk=job_id)
    if not claimed:
        return job
    handle, path = tempfile.mkstemp(
        prefix=".partial-", suffix="." + job.format, dir=_scratch_dir(job)
    )
    os.close(handle)
    try:
        stats, digest, size = write_to_file(job, path)
        with open(path, "rb") as source:
            job.file.save(file_name(job), _WrittenFile(source), save=False)
        return _finish(job, stats, digest, size)
    except Exception as exc:  # recorded on the job for the auditor; the worker logs it too
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):  # moved into storage
            os.unlink(path)
