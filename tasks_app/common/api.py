import functools
import hashlib
import json
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import exceptions
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from tasks_app.common import serializers as s
from tasks_app.common.errors import (
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    ServiceError,
)
from tasks_app.common.pagination import MAX_PAGE_SIZE, NoCountCursorPagination
from tasks_app.models import IdempotencyRecord

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
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        OpenApiParameter.QUERY,
    ),
]


def paginated(view: APIView, request, queryset, serializer_class):
    paginator = NoCountCursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validated_query(serializer_class, query) -> dict:
    """Query parameters as the schema types them: a parameter given empty (?plan=) is a value,
    not an absent one, and must be valid (DRF reads a QueryDict like an HTML form otherwise).
    Each parameter takes one value: ?section=1&section=2 is refused, not read as its last."""
    repeated = sorted(name for name, values in query.lists() if len(values) > 1)
    if repeated:
        raise exceptions.ValidationError(
            {name: [_("该参数只能给出一个值。")] for name in repeated}, code="invalid"
        )
    return validated(serializer_class, query.dict())


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
