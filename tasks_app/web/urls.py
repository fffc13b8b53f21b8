from django.urls import path

from tasks_app import urls_audit, urls_imports, urls_reminders, urls_stats
from tasks_app.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan-detail"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/tasks/<int:task_id>/", views.task_page, name="workbench-task"),
    path(
        "workbench/tasks/<int:task_id>/receive/", views.task_receive, name="workbench-task-receive"
    ),
    path("workbench/tasks/<int:task_id>/report/", views.task_report, name="workbench-task-report"),
    path(
        "workbench/tasks/<int:task_id>/contribute/",
        views.task_contribute,
        name="workbench-task-contribute",
    ),
    path(
        "workbench/tasks/<int:task_id>/instruct/",
        views.task_instruct,
        name="workbench-task-instruct",
    ),
    path(
        "workbench/updates/<int:update_id>/correct/",
        views.update_correct,
        name="workbench-update-correct",
    ),
    path(
        "workbench/evidence/<int:evidence_id>/", views.evidence_download, name="workbench-evidence"
    ),
    path("workbench/review/", views.review_queue, name="review-queue"),
    path("workbench/review/<int:update_id>/", views.review_decide, name="review-decide"),
    *urls_stats.web_urlpatterns,
    *urls_audit.web_urlpatterns,
    *urls_reminders.web_urlpatterns,
    *urls_imports.web_urlpatterns,
]
