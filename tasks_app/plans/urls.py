"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.plans import api as plans_api
from tasks_app.plans import views as plans_views

api_urlpatterns: list = [
    path("tasks/", plans_api.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/<int:pk>/", plans_api.TaskDetailApi.as_view(), name="api-task"),
    path("plans/<int:pk>/rules/", plans_api.PlanRulesApi.as_view(), name="api-plan-rules"),
]
web_urlpatterns: list = [
    path("", plans_views.home, name="home"),
    path("plans/<int:plan_id>/", plans_views.plan_detail, name="plan-detail"),
]
