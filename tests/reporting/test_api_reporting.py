"""Departments report through the REST API; the office reviews; concurrency and retries are safe."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tasks_app.models import AuditEvent, Notification, Role, StatusUpdate, Task
from tasks_app.plans import services

pytestmark = pytest.mark.django_db

REPORT = {
    "period": "2020-03",
    "status": "on_schedule",
    "progress": 30,
    "narrative": "已完成选址,正在开展前期工作。",
    "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
}


@pytest.fixture
def task(plan, economic_bureau, tech_bureau, supervisor):
    task = plan.tasks.get(code="3.3.09")  # the 5G base stations
    return services.task_assign(
        actor=supervisor,
        task=task,
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_clerk_submits_a_report_and_the_office_accepts_it(task, clerk, supervisor):
    response = api(clerk).post(f"/api/v1/tasks/{task.pk}/updates/", REPORT, format="json")
    assert response.status_code == 201, response.json()
    update = response.json()
    assert (update["period"], update["review_state"], update["status_label"]) == (
        "2020-03",
        "submitted",
        "序时推进",
    )
    task.refresh_from_db()
    assert task.progress == 0  # not the state of record until accepted

    response = api(supervisor).post(
        f"/api/v1/updates/{update['id']}/review/", {"decision": "accepted"}, format="json"
    )
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert (task.status, task.progress) == ("on_schedule", 30)


def test_a_returned_update_is_corrected_and_resubmitted(task, clerk, supervisor):
    update = api(clerk).post(f"/api/v1/tasks/{task.pk}/updates/", REPORT, format="json").json()
    returned = api(supervisor).post(
        f"/api/v1/updates/{update['id']}/review/",
        {"decision": "returned", "reason": "请补充基站数量"},
        format="json",
    )
    assert returned.json()["review_state"] == "returned"
    etag = returned["ETag"]

    corrected = api(clerk).patch(
        f"/api/v1/updates/{update['id']}/",
        {"narrative": "已建成120个基站。"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert corrected.status_code == 200, corrected.json()
    body = corrected.json()
    assert (body["review_state"], body["revision"]) == ("submitted", 2)
    assert body["reviews"][0]["reason"] == "请补充基站数量"


def test_patch_needs_a_current_etag(task, clerk, supervisor):
    update = api(clerk).post(f"/api/v1/tasks/{task.pk}/updates/", REPORT, format="json").json()
    url = f"/api/v1/updates/{update['id']}/"
    missing = api(clerk).patch(url, {"progress": 40}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
    fresh = api(clerk).get(url)["ETag"]
    assert (
        api(clerk).patch(url, {"progress": 40}, format="json", HTTP_IF_MATCH=fresh).status_code
        == 200
    )
    stale = api(clerk).patch(url, {"progress": 50}, format="json", HTTP_IF_MATCH=fresh)
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    assert StatusUpdate.objects.get(pk=update["id"]).progress == 40


def test_a_retry_with_the_same_idempotency_key_writes_nothing_more(task, clerk):
    url = f"/api/v1/tasks/{task.pk}/updates/"
    first = api(clerk).post(url, REPORT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api(clerk).post(url, REPORT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert StatusUpdate.objects.filter(task=task).count() == 1
    other_body = api(clerk).post(
        url, {**REPORT, "progress": 90}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (other_body.status_code, other_body.json()["code"]) == (400, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"progress": 150}, "progress", "max_value"),
        ({"progress": "lots"}, "progress", "invalid"),
        ({"status": "finished"}, "status", "invalid_choice"),
        ({"period": "2099-01"}, "period", "period_in_future"),
        ({"period": "March"}, "period", "invalid"),
        ({"narrative": "x" * 5001}, "narrative", "max_length"),
        ({"narrative": "<script>alert(1)</script>"}, "narrative", "html_not_allowed"),
        ({"status": "done", "progress": 80}, "progress", "done_needs_100"),
    ],
)
def test_bad_input_gets_a_field_error_and_writes_nothing(task, clerk, body, field, code):
    events = AuditEvent.objects.count()
    response = api(clerk).post(
        f"/api/v1/tasks/{task.pk}/updates/", {**REPORT, **body}, format="json"
    )
    assert response.status_code == 400, response.json()
    error = response.json()["errors"][field][0]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])  # a Chinese message
    assert StatusUpdate.objects.count() == 0 and AuditEvent.objects.count() == events


def test_another_departments_task_answers_404(task, db):
    outsider_dept = services.department_create(actor=None, name="社会事务局")
    outsider = services.user_create(
        actor=None,
        username="other",
        password="pw-other-1234",
        role=Role.STAFF,
        department=outsider_dept,
    )
    assert api(outsider).get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert (
        api(outsider).post(f"/api/v1/tasks/{task.pk}/updates/", REPORT, format="json").status_code
        == 404
    )
    listed = api(outsider).get("/api/v1/tasks/").json()["results"]
    assert task.pk not in [t["id"] for t in listed]


def test_the_task_detail_reports_schedule_state_and_disagreement(task, clerk, supervisor):
    update = api(clerk).post(f"/api/v1/tasks/{task.pk}/updates/", REPORT, format="json").json()
    api(supervisor).post(
        f"/api/v1/updates/{update['id']}/review/", {"decision": "accepted"}, format="json"
    )
    detail = api(clerk).get(f"/api/v1/tasks/{task.pk}/").json()
    schedule = detail["schedule"]
    assert schedule["overdue"] is True and schedule["light"] == "red"
    assert schedule["self_reported_status"] == "on_schedule"
    assert schedule["disagreement"] == "reported_on_schedule_but_behind"


def test_a_published_deadline_changes_only_through_an_approved_request(task, clerk, supervisor):
    services.plan_publish(actor=supervisor, plan=task.plan)
    etag = api(supervisor).get(f"/api/v1/tasks/{task.pk}/")["ETag"]
    direct = api(supervisor).patch(
        f"/api/v1/tasks/{task.pk}/", {"deadline": "2021-06-30"}, format="json", HTTP_IF_MATCH=etag
    )
    assert (direct.status_code, direct.json()["code"]) == (409, "change_request_required")

    change = api(clerk).post(
        f"/api/v1/tasks/{task.pk}/change-requests/",
        {"field": "deadline", "new_value": "2021-06-30", "reason": "受疫情影响"},
        format="json",
    )
    assert change.status_code == 201, change.json()
    decided = api(supervisor).post(
        f"/api/v1/change-requests/{change.json()['id']}/decision/", {"approve": True}, format="json"
    )
    assert decided.json()["state"] == "approved"
    task = Task.objects.get(pk=task.pk)
    assert (task.deadline, task.original_deadline) == (dt.date(2021, 6, 30), dt.date(2020, 12, 31))


def test_a_script_gets_a_token_and_can_revoke_it(clerk):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": "pw-clerk-123456"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/tasks/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert client.get("/api/v1/tasks/").status_code == 401
    assert AuditEvent.objects.filter(action="auth.login", object_repr="clerk").exists()


def test_a_clerk_reporting_a_period_twice_is_told_so_and_nothing_more_is_written(
    plan, economic_bureau, clerk, supervisor
):
    task = services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="3.3.09"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    client = APIClient()
    client.force_authenticate(clerk)
    url = f"/api/v1/tasks/{task.pk}/updates/"
    body = {
        "period": "2020-04",
        "status": "on_schedule",
        "progress": 40,
        "narrative": "四月。",
        "explanation": "滞后说明。",
    }
    assert client.post(url, body, format="json").status_code == 201
    counts = [model.objects.count() for model in (StatusUpdate, AuditEvent, Notification)]

    again = client.post(url, {**body, "progress": 45}, format="json")

    assert (again.status_code, again.json()["code"]) == (409, "duplicate_period")
    assert again.json()["message"] == "该任务本期已报送,请修改已有报送。"
    assert [model.objects.count() for model in (StatusUpdate, AuditEvent, Notification)] == counts
    assert StatusUpdate.objects.get(task=task).progress == 40
