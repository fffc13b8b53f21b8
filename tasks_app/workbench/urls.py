"""Routes of the workbench's list tools: web_urlpatterns under /."""

from django.urls import path

from tasks_app.workbench import views

api_urlpatterns: list = []
web_urlpatterns: list = [
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/export/", views.workbench_export, name="workbench-export"),
    path("workbench/receive/", views.bulk_receive, name="workbench-bulk-receive"),
    path("workbench/chase/", views.bulk_chase, name="workbench-bulk-chase"),
    path("workbench/filters/", views.saved_filter_save, name="workbench-filter-save"),
    path(
        "workbench/filters/<int:filter_id>/delete/",
        views.saved_filter_delete,
        name="workbench-filter-delete",
    ),
    path("workbench/review/accept/", views.review_accept_many, name="review-accept-many"),
]
