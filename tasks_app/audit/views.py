"""Auditor pages (审计): the ledger with filters, progress logs, exports, verification. Read only.

Auditors, the supervision office and administrators only, each of its own government's ledger
(another government's event or export answers 404); everybody else gets 403. Searches,
downloads and verifications are themselves ledger events.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tasks_app.audit import export_jobs, exports, labels, ledger, services
from tasks_app.audit.downloads import export_file_response
from tasks_app.common import permissions
from tasks_app.common.errors import ServiceError
from tasks_app.models import (
    AuditCheckpoint,
    AuditEvent,
    Department,
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportState,
    Plan,
    Section,
)

PAGE_SIZE = 50
PROGRESS_PAGE_SIZE = 200


def auditor_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not permissions.can_audit(request.user):
            raise PermissionDenied(_("只有审计人员、督查室和系统管理员可以查看审计日志。"))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _choices(user) -> dict:
    """The filter bar's lists (the user's governments' plans, departments and sections); the
    action filter offers each prefix (status_update, task ...) and each action with its label."""
    readable = permissions.readable_government_ids(user)
    actions = [
        *(
            (prefix, _("%(object)s(全部相关操作)") % {"object": labels.object_label(prefix)})
            for prefix in labels.ACTION_PREFIXES
        ),
        *((code, labels.action_label(code)) for code in labels.ACTION_LABELS),
    ]
    return {
        "plans": Plan.objects.filter(government_id__in=readable).order_by("-year", "title"),
        "departments": Department.objects.filter(government_id__in=readable).order_by("name"),
        "sections": Section.objects.filter(plan__government_id__in=readable)
        .select_related("plan")
        .order_by("plan", "number"),
        "action_choices": actions,
        "action_codes": {code for code, _label in actions},
    }


def _filters_or_error(request, kind: str) -> tuple[dict, ServiceError | None]:
    try:
        return exports.parse_filters(
            request.GET, kind, government_id=request.user.government_id
        ), None
    except ServiceError as error:
        return {}, error


@auditor_only
def ledger_page(request):
    """The ledger, newest first, filtered; 50 events a page, paged by seq."""
    filters, error = _filters_or_error(request, ExportKind.LEDGER)
    before = request.GET.get("before", "")
    government_id = request.user.government_id
    events = exports.ledger_events(filters, government_id=government_id).order_by("-seq")
    if before.isascii() and before.isdigit():
        events = events.filter(seq__lt=int(before))
    page = list(events[: PAGE_SIZE + 1]) if error is None else []
    if error is None:
        services.audit_log(
            actor=request.user,
            action="audit.search",
            object_type="ledger",
            object_repr="ledger",
            after={"filters": filters, "before": before},
        )
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        **_choices(request.user),
        "events": _labelled(page[:PAGE_SIZE]),
        "filters": filters,
        "error": error,
        "next_before": page[PAGE_SIZE - 1].seq if len(page) > PAGE_SIZE else None,
        "query": query.urlencode(),
        "head": ledger.head(government_id),
    }
    return render(request, "tasks_app/audit/ledger.html", context, status=400 if error else 200)


def _labelled(events: list[AuditEvent]) -> list[AuditEvent]:
    """Each event with its action, role and object type in Chinese and its actor's name."""
    names = exports.ActorNames()
    for event in events:
        event.action_label = labels.action_label(event.action)
        event.role_label = labels.role_label(event.actor_role, event.actor_username)
        event.object_label = labels.object_label(event.object_type)
        event.actor_name = names(event)
    return events


def _changes(event: AuditEvent) -> list[dict]:
    """Before and after, field by field: the field's Chinese name beside its code, and values as
    people read them (a reviewer by name, a status by its label) beside the stored value."""
    before, after = event.before or {}, event.after or {}
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return []
    kind = event.object_type
    return [
        {
            "field": key,
            "label": labels.field_label(kind, key),
            "before": before.get(key),
            "after": after.get(key),
            "before_text": labels.value_text(kind, key, before.get(key)),
            "after_text": labels.value_text(kind, key, after.get(key)),
            "changed": before.get(key) != after.get(key),
        }
        for key in sorted(set(before) | set(after))
    ]


@auditor_only
def event_page(request, seq: int):
    event = get_object_or_404(AuditEvent, government_id=request.user.government_id, seq=seq)
    changes = _changes(event)
    return render(
        request,
        "tasks_app/audit/event.html",
        {
            "event": _labelled([event])[0],
            "changes": changes,
            "raw_before": ledger.canonical(event.before),
            "raw_after": ledger.canonical(event.after),
        },
    )


@auditor_only
def progress_page(request):
    """Status updates with their reviews, by plan, section, department, task and period."""
    filters, error = _filters_or_error(request, ExportKind.PROGRESS)
    updates = exports.progress_updates(filters, government_id=request.user.government_id)
    updates = [] if error else list(updates[: PROGRESS_PAGE_SIZE + 1])
    if error is None and filters:
        services.audit_log(
            actor=request.user,
            action="audit.search",
            object_type="progress",
            object_repr="progress log",
            after={"filters": filters},
        )
    return render(
        request,
        "tasks_app/audit/progress.html",
        {
            **_choices(request.user),
            "updates": updates[:PROGRESS_PAGE_SIZE],
            "truncated": len(updates) > PROGRESS_PAGE_SIZE,
            "filters": filters,
            "error": error,
            "query": request.GET.urlencode(),
        },
        status=400 if error else 200,
    )


@auditor_only
def exports_page(request):
    """Exports with their manifests; GET ?download=1 exports now, POST queues a background job."""
    if request.method == "POST":
        return _queue_export(request)
    if request.GET.get("download"):
        return _download_now(request)
    readable = permissions.readable_government_ids(request.user)
    jobs = ExportJob.objects.filter(government_id__in=readable).select_related("requested_by")[:50]
    return render(
        request,
        "tasks_app/audit/exports.html",
        {
            **_choices(request.user),
            "jobs": jobs,
            "kinds": ExportKind.choices,
            "formats": ExportFormat.choices,
        },
    )


def _queue_export(request) -> HttpResponse:
    try:
        kind = exports.parse_choice(request.POST.get("kind"), ExportKind, "kind", "ledger")
        format = exports.parse_choice(request.POST.get("format"), ExportFormat, "format", "csv")
        filters = exports.parse_filters(
            request.POST, kind, government_id=request.user.government_id
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("audit-exports")
    job = export_jobs.export_job_start(
        actor=request.user, kind=kind, format=format, filters=filters
    )
    messages.success(request, _("已提交后台导出(编号 %(id)s),完成后可在此下载。") % {"id": job.pk})
    return redirect("audit-exports")


def _download_now(request) -> HttpResponse:
    try:
        kind = exports.parse_choice(request.GET.get("kind"), ExportKind, "kind", "ledger")
        export = export_jobs.export_request(
            actor=request.user,
            kind=kind,
            format=exports.parse_choice(request.GET.get("format"), ExportFormat, "format", "csv"),
            filters=exports.parse_filters(
                request.GET, kind, government_id=request.user.government_id
            ),
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("audit-exports")
    if export.background:
        messages.info(
            request,
            _("数据量较大,已转为后台导出(编号 %(id)s),完成后可在此下载。") % {"id": export.job.pk},
        )
        return redirect("audit-exports")
    return export_file_response(export)


def _done_job(request, job_id: int) -> ExportJob:
    readable = permissions.readable_government_ids(request.user)
    job = get_object_or_404(ExportJob, pk=job_id, government_id__in=readable)
    if job.state != ExportState.DONE:
        raise PermissionDenied(_("导出尚未完成。"))
    return job


@auditor_only
def export_download(request, job_id: int):
    job = _done_job(request, job_id)
    if not job.file:
        messages.error(request, _("该导出为即时下载,未保存文件;请重新导出。"))
        return redirect("audit-exports")
    services.audit_log(
        actor=request.user,
        action="audit.download",
        obj=job,
        after={"file_sha256": job.manifest["file_sha256"]},
    )
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=export_jobs.file_name(job),
        content_type=exports.CONTENT_TYPES[job.format],
    )


@auditor_only
def export_manifest(request, job_id: int):
    job = _done_job(request, job_id)
    response = JsonResponse(job.manifest, json_dumps_params={"ensure_ascii": False, "indent": 2})
    name = export_jobs.file_name(job).rsplit(".", 1)[0] + ".manifest.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@auditor_only
def verify_page(request):
    """Walk the government's whole chain now and show the result, the head and the latest
    checkpoint."""
    result = services.ledger_verify(actor=request.user)
    checkpoints = AuditCheckpoint.objects.filter(government_id=result.government_id)
    return render(
        request,
        "tasks_app/audit/verify.html",
        {
            "result": result,
            "checkpoint": checkpoints.first(),
            "checkpoint_count": checkpoints.count(),
        },
        status=200,
    )
