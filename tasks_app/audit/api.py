"""REST API of the audit ledger under /api/v1/audit/: browse, export, verify. Read only.

Who: auditors, the supervision office and administrators see their government's ledger (its own
hash chain: events, exports, verification, checkpoints; another government's export answers
404); everybody else
gets 403 on every audit endpoint (departments never see the ledger, not even their own part,
because events name other departments' people and objects).

Exports: GET .../export/ (ledger) and .../progress-log/ stream the file when it is small and
answer 202 with a background job when it is larger than AUDIT_EXPORT_SYNC_MAX_ROWS (default
10000) rows; POST .../exports/ always makes a job. Poll .../exports/<id>/, then download the
file and its manifest.
"""

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.audit import export_jobs, exports, ledger, services
from tasks_app.audit.downloads import export_file_response
from tasks_app.audit.serializers import (
    AuditEventSerializer,
    ExportJobInSerializer,
    ExportJobSerializer,
)
from tasks_app.common import permissions
from tasks_app.common.api import ERRORS, PAGE_PARAMETERS, page_of
from tasks_app.common.errors import Conflict, ServiceError
from tasks_app.common.pagination import NoCountCursorPagination
from tasks_app.common.serializers import ErrorSerializer
from tasks_app.models import ExportFormat, ExportJob, ExportKind, ExportState


class CanAudit(drf_permissions.BasePermission):
    message = gettext_lazy("只有审计人员、督查室和系统管理员可以查看审计日志。")
    code = "forbidden"

    def has_permission(self, request, view):
        return permissions.can_audit(request.user)


BreakSerializer = inline_serializer(
    name="AuditBreak",
    allow_null=True,
    fields={
        "seq": serializers.IntegerField(),
        "reason": serializers.ChoiceField(
            choices=["missing", "hash_version", "prev_hash", "hash", "checkpoint", "truncated"]
        ),
        "expected": serializers.CharField(),
        "found": serializers.CharField(),
    },
)


VerificationSerializer = inline_serializer(
    name="AuditVerification",
    fields={
        "government_id": serializers.IntegerField(),
        "government": serializers.CharField(),
        "ok": serializers.BooleanField(),
        "checked": serializers.IntegerField(),
        "first_seq": serializers.IntegerField(allow_null=True),
        "last_seq": serializers.IntegerField(allow_null=True),
        "head_seq": serializers.IntegerField(),
        "head_hash": serializers.CharField(),
        "checkpoints_checked": serializers.IntegerField(),
        "broken": BreakSerializer,
    },
)


CheckpointListSerializer = inline_serializer(
    name="AuditCheckpoint",
    many=True,
    fields={
        "seq": serializers.IntegerField(),
        "hash": serializers.CharField(),
        "created_at": serializers.CharField(),
    },
)


POSITIVE_INT = {"type": "integer", "minimum": 1}


def _filter_parameters(kind: str) -> list[OpenApiParameter]:
    """Ids name an existing object (else 400 invalid_filter); a filter given empty is refused."""
    types = {
        "date_from": OpenApiTypes.DATE,
        "date_to": OpenApiTypes.DATE,
        "action": {"type": "string", "minLength": 1, "maxLength": 80},
    }
    return [
        OpenApiParameter(name, types.get(name, POSITIVE_INT), OpenApiParameter.QUERY)
        for name in exports.FILTERS[kind]
    ]


FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["csv", "xlsx"]
)


FILE_RESPONSES = {
    (200, "text/csv"): OpenApiTypes.BINARY,
    (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
        OpenApiTypes.BINARY
    ),
    202: ExportJobSerializer,
    **ERRORS,
}


# --- Exports ----------------------------------------------------------------------------------


def _attachment(response, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _job_accepted(job: ExportJob) -> Response:
    return Response(
        ExportJobSerializer(job).data,
        status=202,
        headers={"Location": f"/api/v1/audit/exports/{job.pk}/"},
    )


def export_response(request, kind: str) -> HttpResponse:
    query = request.query_params
    export = export_jobs.export_request(
        actor=request.user,
        kind=kind,
        format=exports.parse_choice(
            query.get("format"), ExportFormat, "format", "csv", blank_is_absent=False
        ),
        filters=exports.parse_filters(
            query, kind, government_id=request.user.government_id, blank_is_absent=False
        ),
    )
    return _job_accepted(export.job) if export.background else export_file_response(export)


class FileFormatMixin:
    """Here ?format= names the file to export (csv, xlsx), not one of DRF's renderers."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class AuditExportApi(FileFormatMixin, APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        operation_id="v1_audit_export",
        parameters=[FORMAT_PARAMETER, *_filter_parameters(ExportKind.LEDGER)],
        responses=FILE_RESPONSES,
    )
    def get(self, request):
        return export_response(request, ExportKind.LEDGER)


class ProgressLogApi(FileFormatMixin, APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        operation_id="v1_audit_progress_log",
        parameters=[FORMAT_PARAMETER, *_filter_parameters(ExportKind.PROGRESS)],
        responses=FILE_RESPONSES,
    )
    def get(self, request):
        return export_response(request, ExportKind.PROGRESS)


class ExportJobListApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        operation_id="v1_audit_exports_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(ExportJobSerializer), **ERRORS},
    )
    def get(self, request):
        paginator = NoCountCursorPagination()
        paginator.ordering = ("-id",)
        jobs = _jobs(request.user)
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(ExportJobSerializer(page, many=True).data)

    @extend_schema(request=ExportJobInSerializer, responses={202: ExportJobSerializer, **ERRORS})
    def post(self, request):
        data = ExportJobInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            k: (v.isoformat() if hasattr(v, "isoformat") else str(v))
            for k, v in data.validated_data.items()
        }
        kind, format = values.pop("kind"), values.pop("format")
        filters = exports.parse_filters(values, kind, government_id=request.user.government_id)
        return _job_accepted(
            export_jobs.export_job_start(
                actor=request.user, kind=kind, format=format, filters=filters
            )
        )


def _jobs(user):
    """The export jobs of the governments the user reads."""
    readable = permissions.readable_government_ids(user)
    return ExportJob.objects.filter(government_id__in=readable).select_related(
        "requested_by", "government"
    )


def _job(request, pk: int) -> ExportJob:
    return get_object_or_404(_jobs(request.user), pk=pk)


def _ready(job: ExportJob) -> None:
    if job.state != ExportState.DONE:
        raise Conflict("export_not_ready", _("导出尚未完成,请稍后再试。"))


class ExportJobDetailApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(responses={200: ExportJobSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(ExportJobSerializer(_job(request, pk)).data)


class ExportJobDownloadApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            409: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request, pk: int):
        job = _job(request, pk)
        _ready(job)
        if not job.file:
            raise Conflict("export_not_stored", _("该导出为即时下载,未保存文件;请重新导出。"))
        services.audit_log(
            actor=request.user,
            action="audit.download",
            obj=job,
            after={"file_sha256": job.manifest["file_sha256"]},
        )
        response = FileResponse(job.file.open("rb"), content_type=exports.CONTENT_TYPES[job.format])
        return _attachment(response, export_jobs.file_name(job))


class ExportJobManifestApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT, 409: ErrorSerializer, **ERRORS}
    )
    def get(self, request, pk: int):
        job = _job(request, pk)
        _ready(job)
        response = Response(job.manifest)
        name = export_jobs.file_name(job).rsplit(".", 1)[0] + ".manifest.json"
        return _attachment(response, name)


# --- Browsing, verification, checkpoints -------------------------------------------------------


class AuditEventListApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        operation_id="v1_audit_events_list",
        parameters=[*_filter_parameters(ExportKind.LEDGER), *PAGE_PARAMETERS],
        responses={200: page_of(AuditEventSerializer), **ERRORS},
    )
    def get(self, request):
        filters = exports.parse_filters(
            request.query_params,
            ExportKind.LEDGER,
            government_id=request.user.government_id,
            blank_is_absent=False,
        )
        paginator = NoCountCursorPagination()
        paginator.ordering = ("-seq",)
        events = exports.ledger_events(filters, government_id=request.user.government_id)
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)


def _seq_param(request, name: str) -> int | None:
    if name not in request.query_params:
        return None
    raw = request.query_params[name].strip()
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ServiceError("invalid_seq", _("序号须为正整数。"), field=name)
    return int(raw)


class AuditVerifyApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(
        parameters=[
            OpenApiParameter("from_seq", POSITIVE_INT, OpenApiParameter.QUERY),
            OpenApiParameter("to_seq", POSITIVE_INT, OpenApiParameter.QUERY),
        ],
        responses={200: VerificationSerializer, **ERRORS},
    )
    def get(self, request):
        result = services.ledger_verify(
            actor=request.user,
            from_seq=_seq_param(request, "from_seq"),
            to_seq=_seq_param(request, "to_seq"),
        )
        return Response(result.as_dict())


class AuditCheckpointListApi(APIView):
    permission_classes = [CanAudit]

    @extend_schema(responses={200: CheckpointListSerializer, **ERRORS})
    def get(self, request):
        readable = permissions.readable_government_ids(request.user)
        response = Response(ledger.checkpoints_export(readable))
        return _attachment(response, "gaoxin-audit-checkpoints.json")
