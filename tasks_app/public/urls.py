"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.public import api as public_api
from tasks_app.public import views as public

api_urlpatterns: list = [
    path(
        "plans/<int:pk>/public-snapshots/",
        public_api.PublicSnapshotListApi.as_view(),
        name="api-public-snapshots",
    ),
]
web_urlpatterns: list = [
    path("public/", public.index, name="public"),
    path("public/snapshots.json", public.snapshots_json, name="public-snapshots-json"),
    path("public/checkpoints.json", public.checkpoints_json, name="public-checkpoints"),
    path("public/plans/<int:plan_id>/", public.plan_page, name="public-plan"),
    path(
        "public/plans/<int:plan_id>/snapshots/<int:seq>/",
        public.snapshot_page,
        name="public-snapshot",
    ),
    path(
        "public/plans/<int:plan_id>/snapshots/<int:seq>.json",
        public.snapshot_json,
        name="public-snapshot-json",
    ),
    # Before each government had its own chain a snapshot was named by its seq alone.
    path("public/snapshots/<int:seq>/", public.snapshot_page_by_seq),
    path("public/snapshots/<int:seq>.json", public.snapshot_json_by_seq),
    path("public/manage/", public.manage, name="public-manage"),
    path("public/manage/<int:plan_id>/publish/", public.publish, name="public-publish"),
]
