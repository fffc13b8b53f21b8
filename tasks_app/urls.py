from django.urls import path

from tasks_app.audit import urls as urls_audit
from tasks_app.importer import urls as urls_imports
from tasks_app.plans import views as plans_views
from tasks_app.reminders import urls as urls_reminders
from tasks_app.reporting import views as reporting_views
from tasks_app.stats import urls as urls_stats

urlpatterns = [
    path("", plans_views.home, name="home"),
    path("plans/<int:plan_id>/", plans_views.plan_detail, name="plan-detail"),
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
    path("workbench/review/", reporting_views.review_queue, name="review-queue"),
    path("workbench/review/<int:update_id>/", reporting_views.review_decide, name="review-decide"),
    *urls_stats.web_urlpatterns,
    *urls_audit.web_urlpatterns,
    *urls_reminders.web_urlpatterns,
    *urls_imports.web_urlpatterns,
]
