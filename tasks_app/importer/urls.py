"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.importer import views as imports

api_urlpatterns: list = []
web_urlpatterns: list = [
    path("imports/", imports.index, name="imports"),
    path("imports/report/", imports.report_upload, name="imports-report"),
    path("imports/drafts/<int:draft_id>/", imports.draft_detail, name="imports-draft"),
    path("imports/drafts/<int:draft_id>/edit/", imports.draft_edit, name="imports-edit"),
    path("imports/drafts/<int:draft_id>/publish/", imports.draft_publish, name="imports-publish"),
    path("imports/breakdown/", imports.breakdown_upload, name="imports-breakdown"),
    path("imports/plans/<int:plan_id>/breakdown/", imports.breakdown_export, name="imports-export"),
    path("imports/aliases/", imports.alias_create, name="imports-alias"),
]
