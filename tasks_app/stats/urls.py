"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.stats import api as stats_apis
from tasks_app.stats import views as dashboard

api_urlpatterns: list = [
    path("stats/plans/", stats_apis.ProvinceStatsApi.as_view(), name="api-stats-plans"),
    path("stats/plans/<int:pk>/", stats_apis.PlanStatsApi.as_view(), name="api-stats-plan"),
    path(
        "stats/plans/<int:pk>/exceptions/",
        stats_apis.PlanExceptionsApi.as_view(),
        name="api-stats-exceptions",
    ),
    path(
        "stats/plans/<int:pk>/indicators/",
        stats_apis.PlanIndicatorsApi.as_view(),
        name="api-stats-indicators",
    ),
    path(
        "stats/plans/<int:pk>/ranking/",
        stats_apis.PlanRankingApi.as_view(),
        name="api-stats-ranking",
    ),
    path("stats/plans/<int:pk>/trend/", stats_apis.PlanTrendApi.as_view(), name="api-stats-trend"),
    path("plans/<int:pk>/summary/", stats_apis.PlanSummaryApi.as_view(), name="api-plan-summary"),
]
web_urlpatterns: list = [
    path("dashboard/", dashboard.dashboard_home, name="dashboard"),
    path("dashboard/plans/<int:plan_id>/", dashboard.plan_dashboard, name="dashboard-plan"),
    path("dashboard/plans/<int:plan_id>/tasks/", dashboard.task_drilldown, name="dashboard-tasks"),
    path(
        "dashboard/plans/<int:plan_id>/exceptions/",
        dashboard.exception_list,
        name="dashboard-exceptions",
    ),
    path(
        "dashboard/plans/<int:plan_id>/export.xlsx",
        dashboard.dashboard_export,
        name="dashboard-export",
    ),
    path("dashboard/plans/<int:plan_id>/print/", dashboard.dashboard_print, name="dashboard-print"),
]
