"""The HTTP answer carrying an export made at once: the API and the pages both send it."""

from django.http import FileResponse, StreamingHttpResponse

from tasks_app.audit.export_jobs import ExportRequest
from tasks_app.models import ExportFormat


def export_file_response(export: ExportRequest) -> StreamingHttpResponse:
    """The export's file as an attachment, naming its job and where its manifest is."""
    job = export.job
    if job.format == ExportFormat.CSV:
        response = StreamingHttpResponse(export.content, content_type=export.content_type)
    else:
        response = FileResponse(export.content, content_type=export.content_type)
    response["X-Export-Id"] = str(job.pk)
    response["Link"] = f'</api/v1/audit/exports/{job.pk}/manifest/>; rel="describedby"'
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    return response
