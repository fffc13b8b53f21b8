"""REST API under /api/v1/: parse -> one service or selector -> serialize. No business rules here.

Conventions:
- Errors: {"code": stable code, "message": Chinese text, "errors": {field: [{code, message}]}}.
- PATCH needs If-Match with the ETag from GET (428 without, 412 when stale).
- POST .../updates/ honours Idempotency-Key: a retry replays the first response.
- Another department's task answers 404, like a task that does not exist.
"""

import functools
import hashlib
import json
import re

from django.contrib.auth import authenticate
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework import serializers as drf_serializers
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from tasks_app import selectors, services
from tasks_app import serializers as s
from tasks_app.errors import (
    Conflict,
    LockedOut,
    PreconditionFailed,
    PreconditionRequired,
    ServiceError,
)
from tasks_app.models import IdempotencyRecord, Indicator
from tasks_app.pagination import NoCountCursorPagination

# --- Errors -----------------------------------------------------------------------------------


def _flatten(details, prefix=""):
    """DRF's nested error details as {"field.sub.0": [{code, message}]}."""
    flat = {}
    if isinstance(details, dict) and set(details) == {"message", "code"}:
        return {prefix or "non_field_errors": [details]}
    if isinstance(details, dict):
        for key, value in details.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(details, list):
        if all(isinstance(d, dict) and set(d) == {"message", "code"} for d in details):
            flat[prefix or "non_field_errors"] = details
        else:
            for index, value in enumerate(details):
                if value:
                    flat.update(_flatten(value, f"{prefix}.{index}"))
    return flat


def error_body(code: str, message, errors: dict | None = None) -> dict:
    body = {"code": code, "message": str(message)}
    if errors:
        body["errors"] = {
            k: [{"code": e["code"], "message": str(e["message"])} for e in v]
            for k, v in errors.items()
        }
    return body


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        errors = {exc.field: [{"code": exc.code, "message": exc.message}]} if exc.field else None
        return Response(error_body(exc.code, exc.message, errors), status=exc.status)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", _("未找到该对象。")), status=404)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "invalid", _("提交的数据有误,请检查后重试。"), _flatten(exc.get_full_details())
        )
    else:
        detail = exc.get_full_details()
        if isinstance(detail, dict) and "code" in detail:
            response.data = error_body(detail["code"], detail["message"])
        else:
            response.data = error_body(getattr(exc, "default_code", "error"), str(exc))
    return response


ERRORS = {code: s.ErrorSerializer for code in (400, 401, 403, 404)}
WRITE_ERRORS = {**ERRORS, 409: s.ErrorSerializer}
PATCH_ERRORS = {**WRITE_ERRORS, 412: s.ErrorSerializer, 428: s.ErrorSerializer}


@functools.cache
def page_of(serializer_class):
    """The schema of a cursor page of serializer_class rows."""
    return inline_serializer(
        name=f"Paginated{serializer_class.__name__.removesuffix('Serializer')}List",
        fields={
            "next": drf_serializers.URLField(allow_null=True),
            "previous": drf_serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY),
]


def paginated(view: APIView, request, queryset, serializer_class):
    paginator = NoCountCursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Concurrency: ETags and idempotency --------------------------------------------------------

_ETAG = re.compile(r'^(?:W/)?"(?P<kind>[a-z_]+)-(?P<pk>\d+)-v(?P<version>\d+)"$')


def etag(obj) -> str:
    return f'"{obj._meta.model_name}-{obj.pk}-v{obj.version}"'


def if_match_version(request, obj) -> int:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    match = _ETAG.match(header.strip())
    if not match or match["kind"] != obj._meta.model_name or int(match["pk"]) != obj.pk:
        raise PreconditionFailed()
    return int(match["version"])


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise ServiceError(
            "idempotency_key_reused", _("同一 Idempotency-Key 不能用于不同的请求内容。")
        )
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


def idempotent(request, scope: str, handler) -> Response:
    """Run handler once per (user, Idempotency-Key); retries get the first response back."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return handler()
    if len(key) > 100:
        raise ServiceError("invalid_idempotency_key", _("Idempotency-Key 不能超过100个字符。"))
    digest = hashlib.sha256(
        json.dumps(
            {"scope": scope, "data": request.data}, sort_keys=True, cls=DjangoJSONEncoder
        ).encode()
    ).hexdigest()
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record:
        return _replay(record, digest)
    try:
        with transaction.atomic():
            response = handler()
            body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                scope=scope,
                request_hash=digest,
                response_status=response.status_code,
                response_body=body,
            )
            return response
    except (IntegrityError, Conflict):
        record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if record is None:
            raise
        return _replay(record, digest)


# --- Authentication ---------------------------------------------------------------------------


class TokenApi(APIView):
    """Scripts exchange a username and password for a token (revoked by POST .../revoke/)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=s.TokenInSerializer,
        responses={200: s.TokenOutSerializer, 400: s.ErrorSerializer, 429: s.ErrorSerializer},
    )
    def post(self, request):
        data = validated(s.TokenInSerializer, request.data)
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise ServiceError("invalid_credentials", _("用户名或密码不正确。"))
        services.login_record(username=user.username, user=user, success=True)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None, **ERRORS})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Tasks ------------------------------------------------------------------------------------


def _task_detail_response(request, task, status_code=200) -> Response:
    task = selectors.task_get(user=request.user, pk=task.pk)
    state = services.task_schedule(task)
    task.schedule = {
        "as_of": services.local_today(),
        **state.__dict__,
        "self_reported_status": task.status,
    }
    return Response(
        s.TaskDetailSerializer(task).data, status=status_code, headers={"ETag": etag(task)}
    )


class TaskListApi(APIView):
    @extend_schema(
        operation_id="v1_tasks_list",
        parameters=[s.TaskFilterSerializer, *PAGE_PARAMETERS],
        responses={200: page_of(s.TaskListSerializer), **ERRORS},
    )
    def get(self, request):
        filters = validated(s.TaskFilterSerializer, request.query_params)
        tasks = selectors.task_list(user=request.user, filters=filters)
        return paginated(self, request, tasks, s.TaskListSerializer)


class TaskDetailApi(APIView):
    @extend_schema(responses={200: s.TaskDetailSerializer, **ERRORS})
    def get(self, request, pk: int):
        return _task_detail_response(request, selectors.task_get(user=request.user, pk=pk))

    @extend_schema(
        request=s.TaskPatchSerializer,
        parameters=[
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        responses={200: s.TaskDetailSerializer, **PATCH_ERRORS},
    )
    def patch(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = validated(s.TaskPatchSerializer, request.data)
        version = if_match_version(request, task)
        task = services.task_update(actor=request.user, task=task, expected_version=version, **data)
        return _task_detail_response(request, task)


class TaskReceiptApi(APIView):
    @extend_schema(request=None, responses={200: s.TaskDetailSerializer, **WRITE_ERRORS})
    def post(self, request, pk: int):
        task = services.task_receive(
            actor=request.user, task=selectors.task_get(user=request.user, pk=pk)
        )
        return _task_detail_response(request, task)


# --- Status updates ---------------------------------------------------------------------------


def _indicator_values(rows) -> dict:
    return {row["indicator"]: row["value"] for row in rows or []}


def _update_response(request, update, status_code=200) -> Response:
    update = selectors.update_get(user=request.user, pk=update.pk)
    return Response(
        s.StatusUpdateSerializer(update).data, status=status_code, headers={"ETag": etag(update)}
    )


class TaskUpdatesApi(APIView):
    @extend_schema(
        operation_id="v1_tasks_updates_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(s.StatusUpdateSerializer), **ERRORS},
    )
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        return paginated(self, request, selectors.update_list(task=task), s.StatusUpdateSerializer)

    @extend_schema(
        request=s.StatusUpdateInSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={201: s.StatusUpdateSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        task = selectors.task_for_write(user=request.user, pk=pk)

        def submit():
            data = validated(s.StatusUpdateInSerializer, request.data)
            values = _indicator_values(data.get("indicator_values"))
            update = services.status_update_submit(
                actor=request.user,
                task=task,
                period=data["period"],
                status=data["status"],
                progress=data["progress"],
                narrative=data["narrative"],
                indicator_values=values,
            )
            update = selectors.update_just_submitted(update, with_values=bool(values))
            return Response(
                s.StatusUpdateSerializer(update).data,
                status=status.HTTP_201_CREATED,
                headers={"ETag": etag(update)},
            )

        return idempotent(request, f"task:{task.pk}:updates", submit)


class UpdateDetailApi(APIView):
    @extend_schema(responses={200: s.StatusUpdateSerializer, **ERRORS})
    def get(self, request, pk: int):
        return _update_response(request, selectors.update_get(user=request.user, pk=pk))

    @extend_schema(
        request=s.StatusUpdatePatchSerializer,
        parameters=[
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        responses={200: s.StatusUpdateSerializer, **PATCH_ERRORS},
    )
    def patch(self, request, pk: int):
        update = selectors.update_get(user=request.user, pk=pk)
        data = dict(validated(s.StatusUpdatePatchSerializer, request.data))
        values = _indicator_values(data.pop("indicator_values", None))
        version = if_match_version(request, update)
        update = services.status_update_correct(
            actor=request.user,
            update=update,
            expected_version=version,
            indicator_values=values,
            **data,
        )
        return _update_response(request, update)


class UpdateReviewApi(APIView):
    @extend_schema(
        request=s.ReviewInSerializer, responses={200: s.StatusUpdateSerializer, **WRITE_ERRORS}
    )
    def post(self, request, pk: int):
        update = selectors.update_get(user=request.user, pk=pk)
        data = validated(s.ReviewInSerializer, request.data)
        update = services.status_update_review(actor=request.user, update=update, **data)
        return _update_response(request, update)


class UpdateEvidenceApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.EvidenceInSerializer},
        responses={201: s.EvidenceSerializer, 413: s.ErrorSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        update = selectors.update_get(user=request.user, pk=pk)
        data = validated(s.EvidenceInSerializer, request.data)
        evidence = services.evidence_attach(
            actor=request.user, update=update, uploaded=data["file"]
        )
        return Response(s.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class ReviewQueueApi(APIView):
    @extend_schema(
        operation_id="v1_review_queue_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(s.StatusUpdateSerializer), **ERRORS},
    )
    def get(self, request):
        if not services.permissions.is_office(request.user):
            raise exceptions.PermissionDenied(_("只有督查室可以查看审核队列。"))
        queue = selectors.review_queue(user=request.user)
        paginator = NoCountCursorPagination()
        paginator.ordering = ("submitted_at", "id")
        page = paginator.paginate_queryset(queue, request, view=self)
        return paginator.get_paginated_response(s.StatusUpdateSerializer(page, many=True).data)


# --- Contributions, instructions, change requests ---------------------------------------------


class TaskContributionsApi(APIView):
    @extend_schema(responses={200: s.ContributionSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        return Response(s.ContributionSerializer(task.contributions.all(), many=True).data)

    @extend_schema(
        request=s.ContributionInSerializer,
        responses={201: s.ContributionSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = validated(s.ContributionInSerializer, request.data)
        contribution = services.contribution_submit(actor=request.user, task=task, **data)
        return Response(s.ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)


class TaskInstructionsApi(APIView):
    @extend_schema(responses={200: s.InstructionSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        return Response(s.InstructionSerializer(task.instructions.all(), many=True).data)

    @extend_schema(
        request=s.InstructionInSerializer, responses={201: s.InstructionSerializer, **WRITE_ERRORS}
    )
    def post(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = validated(s.InstructionInSerializer, request.data)
        instruction = services.instruction_create(actor=request.user, task=task, **data)
        return Response(s.InstructionSerializer(instruction).data, status=status.HTTP_201_CREATED)


class TaskChangeRequestsApi(APIView):
    @extend_schema(responses={200: s.ChangeRequestSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        return Response(s.ChangeRequestSerializer(task.change_requests.all(), many=True).data)

    @extend_schema(
        request=s.ChangeRequestInSerializer,
        responses={201: s.ChangeRequestSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = dict(validated(s.ChangeRequestInSerializer, request.data))
        indicator_id = data.pop("indicator", None)
        indicator = Indicator.objects.filter(pk=indicator_id, task=task).first()
        if indicator_id and indicator is None:
            raise ServiceError("indicator_required", _("请选择该任务的指标。"), field="indicator")
        change = services.change_request_create(
            actor=request.user, task=task, indicator=indicator, **data
        )
        return Response(s.ChangeRequestSerializer(change).data, status=status.HTTP_201_CREATED)


class ChangeRequestDecisionApi(APIView):
    @extend_schema(
        request=s.ChangeDecisionInSerializer,
        responses={200: s.ChangeRequestSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        change = selectors.change_request_get(user=request.user, pk=pk)
        data = validated(s.ChangeDecisionInSerializer, request.data)
        change = services.change_request_decide(actor=request.user, change=change, **data)
        return Response(s.ChangeRequestSerializer(change).data)


def json_404(request, exception=None):
    """Unmatched URLs under /api/ answer in the API's error format; pages get Django's 404."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("未找到该对象。")), status=404)
    return page_not_found(request, exception)
