"""Logins are rate-limited and locked out; attachments are checked; contributions reach the lead."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tasks_app.models import AuditEvent, Evidence, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def api(user=None) -> APIClient:
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


@pytest.fixture
def task(plan, economic_bureau, tech_bureau, supervisor):
    return plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="4.1.06"),
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 9, 30),
    )


@pytest.fixture
def update(task, clerk):
    return reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 9, 1),
        status="done",
        progress=100,
        narrative="3所幼儿园已开园,新增810个学位。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )


def upload(user, update, name, content):
    return api(user).post(
        f"/api/v1/updates/{update.pk}/evidence/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_five_wrong_passwords_lock_the_account_out(clerk):
    client = api()
    for _ in range(4):
        wrong = client.post(
            "/api/v1/auth/token/", {"username": "clerk", "password": "nope"}, format="json"
        )
        assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")
    fifth = client.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": "nope"}, format="json"
    )
    assert (fifth.status_code, fifth.json()["code"]) == (429, "locked_out")
    locked = client.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": "pw-clerk-123456"}, format="json"
    )
    assert locked.status_code == 429
    assert "锁定" in locked.json()["message"]
    assert AuditEvent.objects.filter(action="auth.login_failed", object_repr="clerk").count() >= 5


def test_a_pdf_is_stored_under_a_generated_name(update, clerk):
    response = upload(clerk, update, "验收报告.pdf", PDF)
    assert response.status_code == 201, response.json()
    evidence = Evidence.objects.get()
    assert evidence.original_name == "验收报告.pdf"
    assert "验收报告" not in evidence.file.name and evidence.file.name.endswith(".pdf")
    assert evidence.size == len(PDF)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("report.exe", b"MZ\x90\x00binary", "file_type_not_allowed"),
        ("disguised.pdf", b"MZ\x90\x00binary", "file_content_mismatch"),
        ("photo.png", PDF, "file_content_mismatch"),
        ("huge.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "file_too_large"),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_is_stored(update, clerk, name, content, code):
    response = upload(clerk, update, name, content)
    assert response.status_code == 400
    assert response.json()["errors"]["file"][0]["code"] == code
    assert not Evidence.objects.exists()


def test_done_is_accepted_only_with_evidence(update, clerk, supervisor):
    review = api(supervisor).post(
        f"/api/v1/updates/{update.pk}/review/", {"decision": "accepted"}, format="json"
    )
    assert (review.status_code, review.json()["code"]) == (400, "evidence_required")
    upload(clerk, update, "验收.pdf", PDF)
    review = api(supervisor).post(
        f"/api/v1/updates/{update.pk}/review/", {"decision": "accepted"}, format="json"
    )
    assert review.status_code == 200
    update.task.refresh_from_db()
    assert (update.task.status, update.task.light) == ("done", "green")


def test_a_return_needs_a_reason(update, supervisor):
    response = api(supervisor).post(
        f"/api/v1/updates/{update.pk}/review/", {"decision": "returned"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "reason_required")


def test_the_lead_department_sees_co_department_contributions_and_leader_instructions(
    task, clerk, tech_bureau, db
):
    co_clerk = plans_services.user_create(
        actor=None,
        username="tech",
        password="pw-tech-123456",
        role=Role.STAFF,
        department=tech_bureau,
    )
    leader = plans_services.user_create(
        actor=None,
        username="boss",
        password="pw-boss-123456",
        role=Role.LEADER,
        display_name="张区长",
    )
    made = api(co_clerk).post(
        f"/api/v1/tasks/{task.pk}/contributions/",
        {"period": "2020-06", "narrative": "已完成师资招聘。"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    said = api(leader).post(
        f"/api/v1/tasks/{task.pk}/instructions/", {"text": "务必9月开园。"}, format="json"
    )
    assert said.status_code == 201
    detail = api(clerk).get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["contributions"][0]["narrative"] == "已完成师资招聘。"
    assert detail["instructions"][0]["text"] == "务必9月开园。"
    assert detail["instructions"][0]["leader"]["name"] == "张区长"


def test_a_task_patch_with_a_deadline_before_its_start_is_refused(task, supervisor):
    etag = api(supervisor).get(f"/api/v1/tasks/{task.pk}/")["ETag"]
    response = api(supervisor).patch(
        f"/api/v1/tasks/{task.pk}/", {"deadline": "2019-12-31"}, format="json", HTTP_IF_MATCH=etag
    )
    assert (response.status_code, response.json()["errors"]["deadline"][0]["code"]) == (
        400,
        "deadline_before_start",
    )


def test_receipt_records_the_time_once(task, clerk):
    first = api(clerk).post(f"/api/v1/tasks/{task.pk}/receipt/").json()["received_at"]
    second = api(clerk).post(f"/api/v1/tasks/{task.pk}/receipt/").json()["received_at"]
    assert first and first == second
    assert AuditEvent.objects.filter(action="task.receive").count() == 1


def test_malformed_json_is_a_clear_400(task, clerk):
    response = api(clerk).post(
        f"/api/v1/tasks/{task.pk}/updates/", data=io.BytesIO(b"{"), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_token_requests_are_rate_limited_per_address(settings, db):
    client = api()
    answers = [
        client.post(
            "/api/v1/auth/token/", {"username": f"u{i}", "password": "x"}, format="json"
        ).status_code
        for i in range(31)
    ]
    assert answers[:30] == [400] * 30
    assert answers[30] == 429
