from django.urls import path

from tasks_app import apis, urls_audit, urls_imports, urls_reminders, urls_stats

urlpatterns = [
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("auth/token/revoke/", apis.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("tasks/", apis.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/<int:pk>/", apis.TaskDetailApi.as_view(), name="api-task"),
    path("tasks/<int:pk>/receipt/", apis.TaskReceiptApi.as_view(), name="api-task-receipt"),
    path("tasks/<int:pk>/updates/", apis.TaskUpdatesApi.as_view(), name="api-task-updates"),
    path(
        "tasks/<int:pk>/contributions/",
        apis.TaskContributionsApi.as_view(),
        name="api-task-contributions",
    ),
    path(
        "tasks/<int:pk>/instructions/",
        apis.TaskInstructionsApi.as_view(),
        name="api-task-instructions",
    ),
    path(
        "tasks/<int:pk>/change-requests/",
        apis.TaskChangeRequestsApi.as_view(),
        name="api-task-change-requests",
    ),
    path("updates/<int:pk>/", apis.UpdateDetailApi.as_view(), name="api-update"),
    path("updates/<int:pk>/review/", apis.UpdateReviewApi.as_view(), name="api-update-review"),
    path(
        "updates/<int:pk>/evidence/", apis.UpdateEvidenceApi.as_view(), name="api-update-evidence"
    ),
    path("review-queue/", apis.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(
        "change-requests/<int:pk>/decision/",
        apis.ChangeRequestDecisionApi.as_view(),
        name="api-change-request-decision",
    ),
    *urls_stats.api_urlpatterns,
    *urls_audit.api_urlpatterns,
    *urls_reminders.api_urlpatterns,
    *urls_imports.api_urlpatterns,
]
