"""Notifications and manual chasing (催办) under /api/v1/: parse -> service/selector -> serialize.

- GET  notifications/                 the caller's in-app notifications, newest first (?unread=true)
- GET  notifications/unread-count/    {"unread": n}
- POST notifications/read/            {"ids": [...]} marks those read; without ids, all of them
- POST tasks/<id>/chase/              the office chases one task, with a note (rate-limited: 429)
- POST departments/<id>/chase/        the office chases every open task of a department
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.common import serializers as s
from tasks_app.common.api import (
    ERRORS,
    PAGE_PARAMETERS,
    WRITE_ERRORS,
    page_of,
    validated,
    validated_query,
)
from tasks_app.common.pagination import NoCountCursorPagination
from tasks_app.common.parsers import BoundedJSONParser
from tasks_app.common.serializers import IdField
from tasks_app.models import ManualChase, Notification
from tasks_app.plans import selectors
from tasks_app.reminders import chasing, inbox, services


class NotificationSerializer(serializers.ModelSerializer):
    task_code = serializers.CharField(source="task.code", default=None, read_only=True)
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "task",
            "task_code",
            "created_at",
            "read_at",
            "is_read",
        ]

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkReadInSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(),
        required=False,
        max_length=500,
    )


class MarkReadOutSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class ChaseInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, validators=[s.reject_html])


class ChaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ManualChase
        fields = ["id", "task", "department", "note", "chased_by", "created_at"]


class NotificationListApi(APIView):
    @extend_schema(
        operation_id="v1_notifications_list",
        parameters=[NotificationFilterSerializer, *PAGE_PARAMETERS],
        responses={200: page_of(NotificationSerializer), **ERRORS},
    )
    def get(self, request):
        filters = validated_query(NotificationFilterSerializer, request.query_params)
        notifications = inbox.notification_list(user=request.user, unread=filters["unread"])
        paginator = NoCountCursorPagination()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(notifications, request, view=self)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationUnreadCountApi(APIView):
    @extend_schema(responses={200: UnreadCountSerializer, **ERRORS})
    def get(self, request):
        return Response({"unread": inbox.notification_unread_count(user=request.user)})


class NotificationMarkReadApi(APIView):
    parser_classes = [
        BoundedJSONParser
    ]  # a form with thousands of ids would trip Django's field limit

    @extend_schema(request=MarkReadInSerializer, responses={200: MarkReadOutSerializer, **ERRORS})
    def post(self, request):
        data = validated(MarkReadInSerializer, request.data)
        marked = services.notification_mark_read(
            actor=request.user, notification_ids=data.get("ids")
        )
        return Response({"marked": marked})


CHASE_ERRORS = {**WRITE_ERRORS, 429: s.ErrorSerializer}


class TaskChaseApi(APIView):
    @extend_schema(request=ChaseInSerializer, responses={201: ChaseSerializer, **CHASE_ERRORS})
    def post(self, request, pk: int):
        task = selectors.task_get(user=request.user, pk=pk)
        data = validated(ChaseInSerializer, request.data)
        chase = chasing.chase_task(actor=request.user, task=task, note=data["note"])
        return Response(ChaseSerializer(chase).data, status=status.HTTP_201_CREATED)


class DepartmentChaseApi(APIView):
    @extend_schema(request=ChaseInSerializer, responses={201: ChaseSerializer, **CHASE_ERRORS})
    def post(self, request, pk: int):
        department = get_object_or_404(inbox.chaseable_departments(user=request.user), pk=pk)
        data = validated(ChaseInSerializer, request.data)
        chase = chasing.chase_department(
            actor=request.user, department=department, note=data["note"]
        )
        return Response(ChaseSerializer(chase).data, status=status.HTTP_201_CREATED)
