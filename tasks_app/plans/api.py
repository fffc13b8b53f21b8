from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.common import clock, permissions
from tasks_app.common.api import (
    ERRORS,
    PAGE_PARAMETERS,
    PATCH_ERRORS,
    etag,
    if_match_version,
    page_of,
    paginated,
    validated,
    validated_query,
)
from tasks_app.plans import selectors, services
from tasks_app.plans import selectors as plans_selectors
from tasks_app.plans import serializers as s

# --- Tasks ------------------------------------------------------------------------------------


def task_detail_response(request, task, status_code=200) -> Response:
    task = selectors.task_get(user=request.user, pk=task.pk)
    state = plans_selectors.task_schedule(task)
    task.schedule = {
        "as_of": clock.today(),
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
        filters = validated_query(s.TaskFilterSerializer, request.query_params)
        tasks = selectors.task_list(user=request.user, filters=filters)
        return paginated(self, request, tasks, s.TaskListSerializer)


class TaskDetailApi(APIView):
    @extend_schema(responses={200: s.TaskDetailSerializer, **ERRORS})
    def get(self, request, pk: int):
        return task_detail_response(request, selectors.task_get(user=request.user, pk=pk))

    @extend_schema(
        request=s.TaskPatchSerializer,
        parameters=[
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        responses={200: s.TaskDetailSerializer, **PATCH_ERRORS},
    )
    def patch(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = validated(
            s.TaskPatchSerializer, request.data, context={"government_id": task.government_id}
        )
        version = if_match_version(request, task)
        task = services.task_update(actor=request.user, task=task, expected_version=version, **data)
        return task_detail_response(request, task)


class PlanRulesApi(APIView):
    @extend_schema(
        summary="A plan's 减负 rules (红黑榜, evidence for 已完成)",
        responses={200: s.PlanRulesSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
        return Response(s.PlanRulesSerializer(plan).data)

    @extend_schema(
        summary="Office: turn a plan's rules on (with a reason, shown to departments) or off",
        request=s.PlanRulesSerializer,
        responses={200: s.PlanRulesSerializer, **ERRORS},
    )
    def put(self, request, pk: int):
        plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
        data = validated(s.PlanRulesSerializer, request.data)
        plan = services.plan_rules_set(actor=request.user, plan=plan, **data)
        return Response(s.PlanRulesSerializer(plan).data)
