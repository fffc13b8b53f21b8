"""The auditor's pages (审计): ledger search, an event's before and after, exports, verification."""

import datetime as dt

import pytest

from tasks_app.models import AuditEvent, ExportJob, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None,
        username="shenji",
        password="pw-audit-123456",
        role=Role.AUDITOR,
        display_name="审计局张审计",
    )


@pytest.fixture
def assigned(plan, supervisor, clerk, economic_bureau):
    task = plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.order_by("position").first(),
        lead_department=economic_bureau,
        deadline=dt.date(2020, 12, 31),
    )
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=40,
        narrative="完成选址。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请附佐证"
    )
    return task


def test_an_auditor_searches_the_ledger_and_the_search_is_recorded(client, auditor, assigned):
    client.force_login(auditor)
    page = client.get("/audit/", {"action": "task.assign"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "审计日志" in html and "task.assign" in html and "链头" in html
    assert "status_update.submit" not in html
    search = AuditEvent.objects.get(action="audit.search")
    assert search.actor_id == auditor.pk
    assert search.after["filters"] == {"action": "task.assign"}


def test_an_event_page_shows_before_and_after(client, auditor, assigned):
    client.force_login(auditor)
    event = AuditEvent.objects.get(action="task.assign")
    html = client.get(f"/audit/events/{event.seq}/").content.decode()
    assert "变更前后" in html and "lead_department" in html and "2020-12-31" in html
    assert event.hash in html


def test_a_bad_filter_on_the_page_answers_400_in_chinese(client, auditor, assigned):
    client.force_login(auditor)
    page = client.get("/audit/", {"date_from": "2020-99-01"})
    assert page.status_code == 400
    assert "日期格式应为" in page.content.decode()
    assert not AuditEvent.objects.filter(action="audit.search").exists()


def test_the_progress_page_lists_reports_with_their_reviews(client, auditor, assigned):
    client.force_login(auditor)
    html = client.get("/audit/progress/", {"task": assigned.pk}).content.decode()
    assert "完成选址" in html and "已退回" in html and "请附佐证" in html


def test_the_exports_page_queues_an_export_and_lists_its_manifest(
    client, auditor, assigned, monkeypatch
):
    monkeypatch.setattr("tasks_app.audit.tasks.run_export_job.delay", lambda job_id: None)
    client.force_login(auditor)
    response = client.post(
        "/audit/exports/", {"kind": "ledger", "format": "csv", "action": "status_update"}
    )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    from tasks_app.audit import export_jobs as exports

    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    html = client.get("/audit/exports/").content.decode()
    assert job.manifest["file_sha256"] in html and "下载清单" in html
    file = client.get(f"/audit/exports/{job.pk}/download/")
    assert file.status_code == 200
    manifest = client.get(f"/audit/exports/{job.pk}/manifest/").json()
    assert manifest["row_count"] == job.manifest["row_count"]
    now = client.get("/audit/exports/", {"download": "1", "kind": "progress", "format": "csv"})
    assert now.status_code == 200 and now["Content-Type"].startswith("text/csv")


def test_the_verification_page_shows_the_result_and_latest_checkpoint(client, auditor, assigned):
    from tasks_app.audit import ledger

    checkpoint = ledger.checkpoint_record()
    client.force_login(auditor)
    html = client.get("/audit/verify/").content.decode()
    assert "校验通过" in html and checkpoint.hash in html


def test_departments_and_leaders_cannot_open_the_audit_pages(client, clerk, assigned):
    leader = plans_services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )
    for user in (clerk, leader):
        client.force_login(user)
        for url in (
            "/audit/",
            "/audit/progress/",
            "/audit/exports/",
            "/audit/verify/",
            f"/audit/events/{AuditEvent.objects.first().seq}/",
        ):
            assert client.get(url).status_code == 403, (user, url)
        assert "审计</a>" not in client.get("/workbench/").content.decode()


def test_the_nav_shows_audit_to_auditors_and_the_office(client, auditor, supervisor):
    for user in (auditor, supervisor):
        client.force_login(user)
        assert 'href="/audit/">审计</a>' in client.get("/").content.decode()
