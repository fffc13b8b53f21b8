"""Routes of the audit ledger: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.audit import api as audit_apis
from tasks_app.audit import views as audit

api_urlpatterns: list = [
    path("audit/events/", audit_apis.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit/export/", audit_apis.AuditExportApi.as_view(), name="api-audit-export"),
    path("audit/progress-log/", audit_apis.ProgressLogApi.as_view(), name="api-audit-progress"),
    path("audit/exports/", audit_apis.ExportJobListApi.as_view(), name="api-audit-exports"),
    path(
        "audit/exports/<int:pk>/",
        audit_apis.ExportJobDetailApi.as_view(),
        name="api-audit-export-job",
    ),
    path(
        "audit/exports/<int:pk>/download/",
        audit_apis.ExportJobDownloadApi.as_view(),
        name="api-audit-export-download",
    ),
    path(
        "audit/exports/<int:pk>/manifest/",
        audit_apis.ExportJobManifestApi.as_view(),
        name="api-audit-export-manifest",
    ),
    path("audit/verify/", audit_apis.AuditVerifyApi.as_view(), name="api-audit-verify"),
    path(
        "audit/checkpoints/",
        audit_apis.AuditCheckpointListApi.as_view(),
        name="api-audit-checkpoints",
    ),
]
web_urlpatterns: list = [
    path("audit/", audit.ledger_page, name="audit-ledger"),
    path("audit/events/<int:seq>/", audit.event_page, name="audit-event"),
    path("audit/progress/", audit.progress_page, name="audit-progress"),
    path("audit/exports/", audit.exports_page, name="audit-exports"),
    path(
        "audit/exports/<int:job_id>/download/", audit.export_download, name="audit-export-download"
    ),
    path(
        "audit/exports/<int:job_id>/manifest/", audit.export_manifest, name="audit-export-manifest"
    ),
    path("audit/verify/", audit.verify_page, name="audit-verify"),
]
