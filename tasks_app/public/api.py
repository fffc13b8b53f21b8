"""The office publishes a plan's progress to the public; signed-in users list the snapshots."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.common import permissions
from tasks_app.common.api import ERRORS, validated
from tasks_app.models import PublicSnapshot
from tasks_app.public import services
from tasks_app.public.serializers import PublicSnapshotInSerializer, PublicSnapshotSerializer


class PublicSnapshotListApi(APIView):
    @extend_schema(
        summary="The plan's published progress snapshots, newest first",
        responses={200: PublicSnapshotSerializer(many=True), **ERRORS},
    )
    def get(self, request, pk: int):
        plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
        snapshots = PublicSnapshot.objects.filter(plan=plan).defer("content")
        return Response(PublicSnapshotSerializer(snapshots, many=True).data)

    @extend_schema(
        summary="Office: publish a frozen snapshot of the plan's progress to /public/",
        request=PublicSnapshotInSerializer,
        responses={201: PublicSnapshotSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
        data = validated(PublicSnapshotInSerializer, request.data)
        snapshot = services.public_snapshot_publish(
            actor=request.user, plan=plan, title=data["title"]
        )
        return Response(PublicSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)
