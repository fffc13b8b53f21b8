"""Asking for an export: one service decides "now" or "in the background" for the API and pages.

The ledger of a loaded plan holds hundreds of events; AUDIT_EXPORT_SYNC_MAX_ROWS is lowered to
make it "large".
"""

import pytest

from tasks_app.audit import export_jobs
from tasks_app.models import AuditEvent, ExportJob, Role
from tasks_app.plans import services as plans_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(plan):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


@pytest.fixture
def started(monkeypatch) -> list[int]:
    """Job ids handed to a worker (instead of the broker)."""
    handed: list[int] = []
    monkeypatch.setattr("tasks_app.audit.tasks.run_export_job.delay", handed.append)
    return handed


def test_a_small_export_is_made_at_once_and_its_file_handed_back_to_stream(auditor):
    export = export_jobs.export_request(
        actor=auditor, kind="ledger", format="csv", filters={"action": "plan"}
    )
    assert not export.background and export.file_name.endswith(".csv")
    body = b"".join(export.content)
    export.job.refresh_from_db()
    assert export.job.state == "done" and body.startswith("\ufeff".encode())
    assert export.job.manifest["row_count"] == len(body.decode("utf-8-sig").splitlines()) - 1


def test_a_large_export_becomes_a_job_handed_to_a_worker_only_after_commit(
    auditor, settings, started, django_capture_on_commit_callbacks
):
    settings.AUDIT_EXPORT_SYNC_MAX_ROWS = 5
    with django_capture_on_commit_callbacks(execute=True):
        export = export_jobs.export_request(actor=auditor, kind="ledger", format="xlsx", filters={})
        assert export.background and export.content is None
        assert (export.job.state, export.job.background) == ("pending", True)
        assert started == []
    assert started == [export.job.pk]
    assert AuditEvent.objects.filter(action="audit.export", actor_id=auditor.pk).count() == 1


def test_the_exports_page_turns_a_large_download_into_a_background_job(
    auditor, client, settings, started
):
    settings.AUDIT_EXPORT_SYNC_MAX_ROWS = 5
    client.force_login(auditor)
    response = client.get("/audit/exports/", {"download": "1", "kind": "ledger", "format": "csv"})
    assert response.status_code == 302
    assert ExportJob.objects.get().background is True
