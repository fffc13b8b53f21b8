"""Views for tests/common/test_row_level_security.py: code that forgets the government filter.

Each answers what the raw ORM returns, with no selector in between: only row-level security
stands between the caller and another government's rows.
"""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from tasks_app.models import Department, Plan, StatusUpdate, Task


def _unscoped() -> dict:
    return {
        "plans": sorted(set(Plan.objects.values_list("government_id", flat=True))),
        "tasks": sorted(set(Task.objects.values_list("government_id", flat=True))),
        "departments": sorted(set(Department.objects.values_list("government_id", flat=True))),
        "updates": sorted(set(StatusUpdate.objects.values_list("task__government_id", flat=True))),
        "update_count": StatusUpdate.objects.count(),
    }


def unscoped_page(request):
    return JsonResponse(_unscoped())


@api_view(["GET"])
def unscoped_api(request):
    return Response(_unscoped())


urlpatterns = [
    path("unscoped/", unscoped_page),
    path("api/unscoped/", unscoped_api),
    path("", include("gaoxin.urls")),
]
