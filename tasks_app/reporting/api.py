"""REST API under /api/v1/: parse -> one service or selector -> serialize. No business rules here.

Conventions:
- Errors: {"code": stable code, "message": Chinese text, "errors": {field: [{code, message}]}}.
- PATCH needs If-Match with the ETag from GET (428 without, 412 when stale).
- POST .../updates/ honours Idempotency-Key: a retry replays the first response.
- Another department's task answers 404, like a task that does not exist.
"""

import functools
from collections.abc import Callable

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.common import serializers as common_serializers
from tasks_app.common.api import (
    ERRORS,
    PAGE_PARAMETERS,
    PATCH_ERRORS,
    WRITE_ERRORS,
    etag,
    idempotent,
    if_match_version,
    page_of,
    paginated,
    validated,
)
from tasks_app.common.errors import ServiceError
from tasks_app.common.pagination import NoCountCursorPagination
from tasks_app.models import Indicator, Role, StatusUpdate
from tasks_app.plans import selectors as plans_selectors
from tasks_app.plans import serializers as plans_serializers
from tasks_app.plans.api import task_detail_response
from tasks_app.reporting import selectors as reporting_selectors
from tasks_app.reporting import serializers as reporting_serializers
from tasks_app.reporting import services, signoff


class TaskReceiptApi(APIView):
    @extend_schema(
        request=None, responses={200: plans_serializers.TaskDetailSerializer, **WRITE_ERRORS}
    )
    def post(self, request, pk: int):
        task = services.task_receive(
            actor=request.user, task=plans_selectors.task_get(user=request.user, pk=pk)
        )
        return task_detail_response(request, task)


# --- Status updates ---------------------------------------------------------------------------


@functools.cache
def _update_renderer() -> reporting_serializers.StatusUpdateSerializer:
    """One StatusUpdateSerializer per process for the submission's answer.

    StatusUpdateSerializer(update).data deep-copies and binds every declared field, the nested
    serializers' too, on each response: a quarter of a submission's time. The answer only reads
    the fields, so to_representation of a shared instance gives the same output (as the stats
    answers do, tasks_app.stats.api._renderer); tests/reporting hold the two to the same JSON.
    """
    return reporting_serializers.StatusUpdateSerializer()


def _indicator_values(rows) -> dict:
    return {row["indicator"]: row["value"] for row in rows or []}


def _update_response(request, update, status_code=200) -> Response:
    update = reporting_selectors.update_get(user=request.user, pk=update.pk)
    return Response(
        reporting_serializers.StatusUpdateSerializer(update).data,
        status=status_code,
        headers={"ETag": etag(update)},
    )


class TaskUpdatesApi(APIView):
    @extend_schema(
        operation_id="v1_tasks_updates_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(reporting_serializers.StatusUpdateSerializer), **ERRORS},
    )
    def get(self, request, pk: int):
        task = plans_selectors.task_get(user=request.user, pk=pk)
        return paginated(
            self,
            request,
            reporting_selectors.update_list(task=task),
            reporting_serializers.StatusUpdateSerializer,
        )

    @extend_schema(
        request=reporting_serializers.StatusUpdateInSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={201: reporting_serializers.StatusUpdateSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        task = plans_selectors.task_for_write(user=request.user, pk=pk)

        def submit():
            data = validated(reporting_serializers.StatusUpdateInSerializer, request.data)
            values = _indicator_values(data.get("indicator_values"))
            update = services.status_update_submit(
                actor=request.user,
                task=task,
                period=data["period"],
                status=data["status"],
                progress=data["progress"],
                narrative=data["narrative"],
                public_narrative=data["public_narrative"],
                explanation=data["explanation"],
                indicator_values=values,
            )
            update = reporting_selectors.update_just_submitted(update, with_values=bool(values))
            return Response(
                _update_renderer().to_representation(update),
                status=status.HTTP_201_CREATED,
                headers={"ETag": etag(update)},
            )

        return idempotent(request, f"task:{task.pk}:updates", submit)


class UpdateDetailApi(APIView):
    @extend_schema(responses={200: reporting_serializers.StatusUpdateSerializer, **ERRORS})
    def get(self, request, pk: int):
        return _update_response(request, reporting_selectors.update_get(user=request.user, pk=pk))

    @extend_schema(
        request=reporting_serializers.StatusUpdatePatchSerializer,
        parameters=[
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        responses={200: reporting_serializers.StatusUpdateSerializer, **PATCH_ERRORS},
    )
    def patch(self, request, pk: int):
        update = reporting_selectors.update_get(user=request.user, pk=pk)
        data = dict(validated(reporting_serializers.StatusUpdatePatchSerializer, request.data))
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


# POST a decision on a report (the office's review, the head's sign-off): `in_serializer`
# validates the input, `decide` writes it, the answer is the report; the schema is made from
# these. (A comment, not a docstring: the schema would show a docstring as the description.)
class _UpdateDecisionApi(APIView):
    in_serializer: type[serializers.Serializer]
    decide: Callable[..., StatusUpdate]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        extend_schema(
            request=cls.in_serializer,
            responses={200: reporting_serializers.StatusUpdateSerializer, **WRITE_ERRORS},
        )(cls)

    def post(self, request, pk: int):
        update = reporting_selectors.update_get(user=request.user, pk=pk)
        data = validated(self.in_serializer, request.data)
        update = self.decide(actor=request.user, update=update, **data)
        return _update_response(request, update)


class UpdateReviewApi(_UpdateDecisionApi):
    in_serializer = reporting_serializers.ReviewInSerializer
    decide = staticmethod(services.status_update_review)


class UpdateSignOffApi(_UpdateDecisionApi):
    in_serializer = reporting_serializers.SignOffInSerializer
    decide = staticmethod(signoff.status_update_signoff)


def _queue_response(view, request, queue) -> Response:
    """A queue of reports, the longest waiting first, a cursor page at a time (not counted)."""
    paginator = NoCountCursorPagination()
    paginator.ordering = ("submitted_at", "id")
    page = paginator.paginate_queryset(queue, request, view=view)
    return paginator.get_paginated_response(
        reporting_serializers.StatusUpdateSerializer(page, many=True).data
    )


class SignOffQueueApi(APIView):
    @extend_schema(
        operation_id="v1_signoff_queue_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(reporting_serializers.StatusUpdateSerializer), **ERRORS},
    )
    def get(self, request):
        if request.user.role != Role.HEAD:
            raise exceptions.PermissionDenied(_("只有部门负责人可以查看待审核的本部门报送。"))
        return _queue_response(self, request, reporting_selectors.signoff_queue(user=request.user))


class UpdateEvidenceApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": reporting_serializers.EvidenceInSerializer},
        responses={
            201: reporting_serializers.EvidenceSerializer,
            413: common_serializers.ErrorSerializer,
            **WRITE_ERRORS,
        },
    )
    def post(self, request, pk: int):
        update = reporting_selectors.update_get(user=request.user, pk=pk)
        data = validated(reporting_serializers.EvidenceInSerializer, request.data)
        evidence = services.evidence_attach(
            actor=request.user, update=update, uploaded=data["file"]
        )
        return Response(
            reporting_serializers.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED
        )


class ReviewQueueApi(APIView):
    @extend_schema(
        operation_id="v1_review_queue_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(reporting_serializers.StatusUpdateSerializer), **ERRORS},
    )
    def get(self, request):
        if not services.permissions.is_office(request.user):
            raise exceptions.PermissionDenied(_("只有督查室可以查看审核队列。"))
        return _queue_response(self, request, reporting_selectors.review_queue(user=request.user))


# --- Contributions, instructions, change requests ---------------------------------------------


# A task's rows of one kind: GET lists them, POST adds one. A subclass names the task's related
# rows, the service that creates one from the input (`in_serializer`) and the answer's
# `serializer`; the schema is made from these (a comment: a docstring would be the description).
class _TaskRowsApi(APIView):
    rows: str
    serializer: type[serializers.Serializer]
    in_serializer: type[serializers.Serializer]
    create: Callable

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        extend_schema_view(
            get=extend_schema(responses={200: cls.serializer(many=True), **ERRORS}),
            post=extend_schema(
                request=cls.in_serializer, responses={201: cls.serializer, **WRITE_ERRORS}
            ),
        )(cls)

    def get(self, request, pk: int):
        task = plans_selectors.task_get(user=request.user, pk=pk)
        return Response(self.serializer(getattr(task, self.rows).all(), many=True).data)

    def post(self, request, pk: int):
        task = plans_selectors.task_get(user=request.user, pk=pk)
        data = validated(self.in_serializer, request.data)
        row = self.create(actor=request.user, task=task, **data)
        return Response(self.serializer(row).data, status=status.HTTP_201_CREATED)


class TaskContributionsApi(_TaskRowsApi):
    rows = "contributions"
    serializer = reporting_serializers.ContributionSerializer
    in_serializer = reporting_serializers.ContributionInSerializer
    create = staticmethod(services.contribution_submit)


class TaskInstructionsApi(_TaskRowsApi):
    rows = "instructions"
    serializer = reporting_serializers.InstructionSerializer
    in_serializer = reporting_serializers.InstructionInSerializer
    create = staticmethod(services.instruction_create)


class InstructionFeedbackApi(APIView):
    @extend_schema(
        responses={200: reporting_serializers.InstructionFeedbackSerializer(many=True), **ERRORS}
    )
    def get(self, request, pk: int):
        instruction = reporting_selectors.instruction_get(user=request.user, pk=pk)
        return Response(
            reporting_serializers.InstructionFeedbackSerializer(
                reporting_selectors.instruction_feedback_list(instruction=instruction), many=True
            ).data
        )

    @extend_schema(
        request=reporting_serializers.InstructionFeedbackInSerializer,
        responses={201: reporting_serializers.InstructionFeedbackSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        instruction = reporting_selectors.instruction_get(user=request.user, pk=pk)
        data = validated(reporting_serializers.InstructionFeedbackInSerializer, request.data)
        feedback = services.instruction_feedback_create(
            actor=request.user, instruction=instruction, **data
        )
        return Response(
            reporting_serializers.InstructionFeedbackSerializer(feedback).data,
            status=status.HTTP_201_CREATED,
        )


def _change_request_create(*, actor, task, indicator=None, **data):
    found = Indicator.objects.filter(pk=indicator, task=task).first()
    if indicator and found is None:
        raise ServiceError("indicator_required", _("请选择该任务的指标。"), field="indicator")
    return services.change_request_create(actor=actor, task=task, indicator=found, **data)


class TaskChangeRequestsApi(_TaskRowsApi):
    rows = "change_requests"
    serializer = reporting_serializers.ChangeRequestSerializer
    in_serializer = reporting_serializers.ChangeRequestInSerializer
    create = staticmethod(_change_request_create)


class ChangeRequestDecisionApi(APIView):
    @extend_schema(
        request=reporting_serializers.ChangeDecisionInSerializer,
        responses={200: reporting_serializers.ChangeRequestSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        change = reporting_selectors.change_request_get(user=request.user, pk=pk)
        data = validated(reporting_serializers.ChangeDecisionInSerializer, request.data)
        change = services.change_request_decide(actor=request.user, change=change, **data)
        return Response(reporting_serializers.ChangeRequestSerializer(change).data)
