from django.urls import path

from tasks_app.accounts import api as accounts_api
from tasks_app.audit import urls as urls_audit
from tasks_app.importer import urls as urls_imports
from tasks_app.plans import api as plans_api
from tasks_app.reminders import urls as urls_reminders
from tasks_app.reporting import api as reporting_api
from tasks_app.stats import urls as urls_stats

urlpatterns = [
    path("auth/token/", accounts_api.TokenApi.as_view(), name="api-token"),
    path("auth/token/revoke/", accounts_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("tasks/", plans_api.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/<int:pk>/", plans_api.TaskDetailApi.as_view(), name="api-task"),
    path(
        "tasks/<int:pk>/receipt/", reporting_api.TaskReceiptApi.as_view(), name="api-task-receipt"
    ),
    path(
        "tasks/<int:pk>/updates/", reporting_api.TaskUpdatesApi.as_view(), name="api-task-updates"
    ),
    path(
        "tasks/<int:pk>/contributions/",
        reporting_api.TaskContributionsApi.as_view(),
        name="api-task-contributions",
    ),
    path(
        "tasks/<int:pk>/instructions/",
        reporting_api.TaskInstructionsApi.as_view(),
        name="api-task-instructions",
    ),
    path(
        "tasks/<int:pk>/change-requests/",
        reporting_api.TaskChangeRequestsApi.as_view(),
        name="api-task-change-requests",
    ),
    path("updates/<int:pk>/", reporting_api.UpdateDetailApi.as_view(), name="api-update"),
    path(
        "updates/<int:pk>/review/",
        reporting_api.UpdateReviewApi.as_view(),
        name="api-update-review",
    ),
    path(
        "updates/<int:pk>/evidence/",
        reporting_api.UpdateEvidenceApi.as_view(),
        name="api-update-evidence",
    ),
    path("review-queue/", reporting_api.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(
        "change-requests/<int:pk>/decision/",
        reporting_api.ChangeRequestDecisionApi.as_view(),
        name="api-change-request-decision",
    ),
    *urls_stats.api_urlpatterns,
    *urls_audit.api_urlpatterns,
    *urls_reminders.api_urlpatterns,
    *urls_imports.api_urlpatterns,
]
