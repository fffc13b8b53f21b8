"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.reminders import api as reminder_apis
from tasks_app.reminders import views as reminder_views

api_urlpatterns: list = [
    path("notifications/", reminder_apis.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "notifications/unread-count/",
        reminder_apis.NotificationUnreadCountApi.as_view(),
        name="api-notifications-unread-count",
    ),
    path(
        "notifications/read/",
        reminder_apis.NotificationMarkReadApi.as_view(),
        name="api-notifications-read",
    ),
    path("tasks/<int:pk>/chase/", reminder_apis.TaskChaseApi.as_view(), name="api-task-chase"),
    path(
        "departments/<int:pk>/chase/",
        reminder_apis.DepartmentChaseApi.as_view(),
        name="api-department-chase",
    ),
]
web_urlpatterns: list = [
    path("notifications/", reminder_views.notifications, name="notifications"),
    path("notifications/read/", reminder_views.notifications_read, name="notifications-read"),
    path(
        "workbench/tasks/<int:task_id>/chase/",
        reminder_views.task_chase,
        name="workbench-task-chase",
    ),
    path(
        "notifications/chase-department/", reminder_views.department_chase, name="department-chase"
    ),
]
