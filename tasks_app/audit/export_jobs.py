"""Export jobs: asking for an export (now or in the background), writing it, its manifest.

``export_request`` is what the API and the pages call: a small export is made at once and its
content handed back to stream; a larger one (more than AUDIT_EXPORT_SYNC_MAX_ROWS rows) becomes
a background job, enqueued once the job is committed, which the caller reports for polling.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from tasks_app.audit import ledger
from tasks_app.audit.export_copy import copies_ledger, copy_ledger_csv
from tasks_app.audit.exports import (
    CONTENT_TYPES,
    LEDGER_COLUMNS,
    PROGRESS_COLUMNS,
    XLSX_LAYOUT,
    ExportStats,
    ledger_events,
    progress_updates,
)
from tasks_app.common.spreadsheets import csv_chunks, write_xlsx
from tasks_app.models import (
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportState,
    User,
)

# --- Jobs -------------------------------------------------------------------------------------


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
    from tasks_app.audit.services import audit_log

    audit_log(
        actor=actor,
        action="audit.export",
        object_type="export",
        object_repr=f"{kind}.{format}",
        after={"kind": kind, "format": format, "filters": filters, "background": background},
    )
    head = ledger.head(actor.government_id)
    job = ExportJob.objects.create(
        government_id=actor.government_id,
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


def export_rows(job: ExportJob, stats: ExportStats) -> tuple[list[str], Iterator[list[str]]]:
    """The header and rows of job's export as the Python writers (CSV, XLSX) write them;
    stats counts the rows as they are read."""
    if job.kind == ExportKind.LEDGER:
        events = ledger_events(
            job.filters,
            government_id=job.government_id,
            up_to_seq=job.manifest["chain_head"]["seq"],
        )
        return list(LEDGER_COLUMNS), stats.ledger(events.iterator(chunk_size=2000))
    updates = progress_updates(job.filters, government_id=job.government_id, until=job.created_at)
    return list(PROGRESS_COLUMNS), stats.progress(updates.iterator(chunk_size=500))


def _finish(job: ExportJob, stats: ExportStats, digest: str, size: int) -> ExportJob:
    from tasks_app.audit.services import audit_log

    now = timezone.now()
    government = job.government
    job.manifest = {
        "export_id": job.pk,
        "government": {"id": government.pk, "name": government.name, "code": government.code},
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
        "object_repr, before, after, ip, user_agent, request_id, and government_id when "
        "hash_version is 2); see tools/verify_export.py",
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
    stats = ExportStats()
    header, rows = export_rows(job, stats)
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


def write_to_file(job: ExportJob, path: str) -> tuple[ExportStats, str, int]:
    """Write job's export into path; its stats, SHA-256 and size."""
    stats = ExportStats()
    if copies_ledger(job):
        with open(path, "wb") as handle:
            digest, size = copy_ledger_csv(job, handle, stats)
        return stats, digest, size
    if job.format == ExportFormat.CSV:
        with open(path, "wb") as handle:
            for chunk in csv_chunks(*export_rows(job, stats)):
                handle.write(chunk)
    else:
        header, rows = export_rows(job, stats)
        write_xlsx(path, header, rows, title=job.get_kind_display(), **XLSX_LAYOUT[job.kind])
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


# --- Asking for an export -----------------------------------------------------------------------


def sync_max_rows() -> int:
    return int(getattr(settings, "AUDIT_EXPORT_SYNC_MAX_ROWS", 10000))


@dataclass(frozen=True)
class ExportRequest:
    """An export asked for: its job and, when it is made now, the file's content.

    content is the CSV as chunks to stream, or the XLSX as an open file (already unlinked: the
    open handle keeps its data until the response is sent); None for a background job.
    """

    job: ExportJob
    content: Iterator[bytes] | BinaryIO | None

    @property
    def background(self) -> bool:
        return self.content is None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.job.format]

    @property
    def file_name(self) -> str:
        return file_name(self.job)


@transaction.atomic
def export_job_start(*, actor: User, kind: str, format: str, filters: dict) -> ExportJob:
    """A background export: the job now, its run handed to a worker once the job is committed."""
    from tasks_app.audit import tasks

    job = export_start(actor=actor, kind=kind, format=format, filters=filters, background=True)
    transaction.on_commit(lambda: tasks.run_export_job.delay(job.pk))
    return job


def _in_context(chunks: Iterator[bytes], context) -> Iterator[bytes]:
    """Streamed chunks run after the middleware has returned: restore the request's context, so
    that the export's completion event names the request that asked for it."""
    token = ledger.set_context(context)
    try:
        yield from chunks
    finally:
        ledger.reset_context(token)


def _xlsx_now(job: ExportJob) -> BinaryIO:
    path = xlsx_file(job)
    handle = open(path, "rb")  # noqa: SIM115  (the response closes it)
    os.unlink(path)
    return handle


def export_request(*, actor: User, kind: str, format: str, filters: dict) -> ExportRequest:
    """The export now when at most sync_max_rows() rows match; else a background job."""
    government_id = actor.government_id
    rows = (
        ledger_events(filters, government_id=government_id)
        if kind == ExportKind.LEDGER
        else progress_updates(filters, government_id=government_id)
    )
    limit = sync_max_rows()
    if rows[: limit + 1].count() > limit:
        job = export_job_start(actor=actor, kind=kind, format=format, filters=filters)
        return ExportRequest(job=job, content=None)
    job = export_start(actor=actor, kind=kind, format=format, filters=filters, background=False)
    if format == ExportFormat.CSV:
        content = _in_context(csv_stream(job), ledger.current_context())
        return ExportRequest(job=job, content=content)
    return ExportRequest(job=job, content=_xlsx_now(job))
