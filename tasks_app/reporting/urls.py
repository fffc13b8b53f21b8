"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.reporting import api as reporting_api
from tasks_app.reporting import desk_views
from tasks_app.reporting import views as reporting_views

api_urlpatterns: list = [
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
    path(
        "updates/<int:pk>/signoff/",
        reporting_api.UpdateSignOffApi.as_view(),
        name="api-update-signoff",
    ),
    path("signoff-queue/", reporting_api.SignOffQueueApi.as_view(), name="api-signoff-queue"),
    path(
        "instructions/<int:pk>/feedback/",
        reporting_api.InstructionFeedbackApi.as_view(),
        name="api-instruction-feedback",
    ),
    path("review-queue/", reporting_api.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(
        "change-requests/<int:pk>/decision/",
        reporting_api.ChangeRequestDecisionApi.as_view(),
        name="api-change-request-decision",
    ),
]
web_urlpatterns: list = [
    path("workbench/", reporting_views.workbench, name="workbench"),
    path("workbench/tasks/<int:task_id>/", reporting_views.task_page, name="workbench-task"),
    path(
        "workbench/tasks/<int:task_id>/receive/",
        reporting_views.task_receive,
        name="workbench-task-receive",
    ),
    path(
        "workbench/tasks/<int:task_id>/report/",
        reporting_views.task_report,
        name="workbench-task-report",
    ),
    path(
        "workbench/tasks/<int:task_id>/contribute/",
        reporting_views.task_contribute,
        name="workbench-task-contribute",
    ),
    path(
        "workbench/tasks/<int:task_id>/instruct/",
        reporting_views.task_instruct,
        name="workbench-task-instruct",
    ),
    path(
        "workbench/updates/<int:update_id>/correct/",
        reporting_views.update_correct,
        name="workbench-update-correct",
    ),
    path(
        "workbench/evidence/<int:evidence_id>/",
        reporting_views.evidence_download,
        name="workbench-evidence",
    ),
    path(
        "workbench/updates/<int:update_id>/signoff/",
        desk_views.update_signoff,
        name="workbench-update-signoff",
    ),
    path("workbench/signoff/", desk_views.signoff_queue, name="signoff-queue"),
    path(
        "workbench/instructions/<int:instruction_id>/feedback/",
        desk_views.instruction_feedback,
        name="workbench-instruction-feedback",
    ),
    path(
        "workbench/tasks/<int:task_id>/change-requests/",
        desk_views.change_request_create,
        name="workbench-change-request",
    ),
    path(
        "workbench/change-requests/<int:change_id>/decide/",
        desk_views.change_request_decide,
        name="workbench-change-decide",
    ),
    path("workbench/review/", reporting_views.review_queue, name="review-queue"),
    path("workbench/review/<int:update_id>/", reporting_views.review_decide, name="review-decide"),
]
