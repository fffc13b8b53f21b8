"""A report and its evidence files are one submission: written together, or not at all."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app.common.errors import ServiceError
from tasks_app.models import AuditEvent, Evidence, Notification, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services

pytestmark = pytest.mark.django_db

MARCH = dt.date(2020, 3, 1)


@pytest.fixture
def our_task(plan, economic_bureau, supervisor) -> Task:
    """A task of the 经济发展局; the office (supervisor) reviews its reports."""
    return plans_services.task_assign(
        actor=None,
        task=plan.tasks.get(code="1.2.05"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


def pdf(name: str = "签约材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 minimal\n%%EOF\n", content_type="application/pdf")


def fake_pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("材料.pdf", b"not a pdf at all", content_type="application/pdf")


def submit(task: Task, clerk, evidence=()) -> StatusUpdate:
    return services.status_update_submit(
        actor=clerk,
        task=task,
        period=MARCH,
        status="on_schedule",
        progress=30,
        narrative="完成项目签约两个。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
        evidence=evidence,
    )


def stored_files(settings) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_clerk_submits_a_report_with_two_evidence_files_in_one_call(clerk, our_task, settings):
    update = submit(our_task, clerk, evidence=[pdf(), pdf("照片说明.pdf")])
    assert sorted(update.evidence.values_list("original_name", flat=True)) == [
        "照片说明.pdf",
        "签约材料.pdf",
    ]
    assert AuditEvent.objects.filter(action="evidence.attach").count() == 2
    assert len(stored_files(settings)) == 2
    assert Notification.objects.filter(kind="review").count() == 1


def test_a_refused_file_leaves_no_report_no_stored_file_and_tells_nobody(clerk, our_task, settings):
    with pytest.raises(ServiceError) as refused:
        submit(our_task, clerk, evidence=[pdf(), fake_pdf()])
    assert (refused.value.code, refused.value.field) == ("file_content_mismatch", "file")
    assert not StatusUpdate.objects.exists() and not Evidence.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="status_update").exists()
    assert not Notification.objects.exists()
    assert stored_files(settings) == []


def test_a_correction_with_a_refused_file_leaves_the_returned_report_as_it_was(
    clerk, supervisor, our_task
):
    update = submit(our_task, clerk)
    services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="缺少签约金额"
    )
    update.refresh_from_db()
    with pytest.raises(ServiceError):
        services.status_update_correct(
            actor=clerk,
            update=update,
            expected_version=update.version,
            evidence=[fake_pdf()],
            progress=35,
        )
    update.refresh_from_db()
    assert (update.review_state, update.revision, update.progress) == ("returned", 1, 30)
    assert Notification.objects.filter(kind="review").count() == 1


def test_a_correction_adds_its_evidence_and_goes_back_to_review(clerk, supervisor, our_task):
    update = submit(our_task, clerk)
    services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请附佐证"
    )
    update.refresh_from_db()
    services.status_update_correct(
        actor=clerk, update=update, expected_version=update.version, evidence=[pdf()]
    )
    update.refresh_from_db()
    assert (update.review_state, update.revision, update.evidence.count()) == ("submitted", 2, 1)


def test_the_report_form_with_a_refused_file_writes_nothing_and_tells_nobody(
    client, clerk, our_task, settings
):
    client.force_login(clerk)
    response = client.post(
        reverse("workbench-task-report", args=[our_task.pk]),
        {
            "report-period": "2020-03",
            "report-status": "on_schedule",
            "report-progress": "30",
            "report-narrative": "完成项目签约两个。",
            "report-explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
            "report-evidence": fake_pdf(),
        },
    )
    assert response.status_code == 400 and "文件内容与扩展名不符" in response.content.decode()
    assert not StatusUpdate.objects.exists() and not Notification.objects.exists()
    assert stored_files(settings) == []
