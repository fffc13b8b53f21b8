"""List endpoints cost a fixed number of queries however many rows a page holds, and no COUNT."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tasks_app.models import AuditEvent, Role, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def leader(db):
    return plans_services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def queries(client, url: str) -> tuple[int, list[str]]:
    """The number of queries a GET makes, and their SQL, after checking it answered 200."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()
    return len(captured), [q["sql"] for q in captured.captured_queries]


def periods(count: int) -> list[dt.date]:
    """count distinct past months, ending with 2020-12."""
    months = [(2020 * 12 + 11) - n for n in range(count)]
    return [dt.date(m // 12, m % 12 + 1, 1) for m in months]


def assign(tasks, *, lead, co, leader, office) -> list[Task]:
    return [
        plans_services.task_assign(
            actor=office,
            task=task,
            lead_department=lead,
            co_departments=co,
            responsible_leader=leader,
            start_date=dt.date(2020, 1, 21),
            deadline=dt.date(2020, 12, 31),
        )
        for task in tasks
    ]


def economic_bureaus_task(plan, economic_bureau, office, leader) -> Task:
    """Task 3.3.09, assigned to the economic bureau."""
    [task] = assign(
        plan.tasks.filter(code="3.3.09"), lead=economic_bureau, co=[], leader=leader, office=office
    )
    return task


def clerk_with_token() -> APIClient:
    """The clerk's API client, with a token issued by the login endpoint, as a program has it."""
    client = APIClient()
    issued = client.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": "pw-clerk-123456"}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    return client


def report(task, period, *, clerk, office, returned: bool) -> StatusUpdate:
    """A report with an indicator value and evidence; returned by the office when asked."""
    indicator = task.indicators.first()
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=period,
        status="on_schedule",
        progress=30,
        narrative="进展。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
        indicator_values={indicator.pk: 5} if indicator else None,
    )
    reporting_services.evidence_attach(
        actor=clerk, update=update, uploaded=SimpleUploadedFile("材料.pdf", PDF, "application/pdf")
    )
    if returned:
        reporting_services.status_update_review(
            actor=office, update=update, decision="returned", reason="请补充数据。"
        )
    return update


def test_the_task_list_makes_the_same_queries_for_one_task_and_fifty(
    plan, economic_bureau, tech_bureau, clerk, supervisor, leader
):
    tasks = list(plan.tasks.order_by("pk")[:50])
    options = {"lead": economic_bureau, "co": [tech_bureau], "leader": leader, "office": supervisor}
    assign(tasks[:1], **options)
    client = api(clerk)
    client.get("/api/v1/tasks/")  # warm caches (content types, calendar)
    one, _ = queries(client, "/api/v1/tasks/")

    assign(tasks[1:], **options)
    fifty, sql = queries(client, "/api/v1/tasks/")
    assert len(client.get("/api/v1/tasks/").json()["results"]) == 50
    assert fifty == one, "\n".join(sql)


def test_the_task_list_never_counts_the_table(plan, supervisor):
    _count, sql = queries(api(supervisor), "/api/v1/tasks/?page_size=200")
    assert not [q for q in sql if "COUNT(" in q.upper()], sql
    _count, sql = queries(api(supervisor), "/api/v1/tasks/?overdue=false&status=not_started")
    assert not [q for q in sql if "COUNT(" in q.upper()], sql


def test_a_tasks_update_list_makes_the_same_queries_for_one_update_and_fifty(
    plan, economic_bureau, clerk, supervisor, leader
):
    task = economic_bureaus_task(plan, economic_bureau, supervisor, leader)
    months = periods(50)
    report(task, months[0], clerk=clerk, office=supervisor, returned=True)
    client, url = api(clerk), f"/api/v1/tasks/{task.pk}/updates/"
    client.get(url)
    one, _ = queries(client, url)

    for n, month in enumerate(months[1:]):
        report(task, month, clerk=clerk, office=supervisor, returned=n % 2 == 0)
    fifty, sql = queries(client, url)
    assert len(client.get(url).json()["results"]) == 50
    assert fifty == one, "\n".join(sql)


def test_the_review_queue_makes_the_same_queries_for_one_update_and_fifty(
    plan, economic_bureau, clerk, supervisor, leader
):
    tasks = assign(
        plan.tasks.order_by("pk")[:5], lead=economic_bureau, co=[], leader=leader, office=supervisor
    )
    slots = [(task, month) for task in tasks for month in periods(10)]
    report(*slots[0], clerk=clerk, office=supervisor, returned=False)
    client = api(supervisor)
    client.get("/api/v1/review-queue/")
    one, _ = queries(client, "/api/v1/review-queue/")

    for task, month in slots[1:]:
        report(task, month, clerk=clerk, office=supervisor, returned=False)
    fifty, sql = queries(client, "/api/v1/review-queue/")
    assert len(client.get("/api/v1/review-queue/").json()["results"]) == 50
    assert fifty == one, "\n".join(sql)


def submit(client, task, period: dt.date, indicator_values=None):
    """POST a report and return its status, body and the SQL it ran."""
    body = {
        "period": f"{period:%Y-%m}",
        "status": "on_schedule",
        "progress": 40,
        "narrative": "推进。",
        "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
    }
    if indicator_values:
        body["indicator_values"] = indicator_values
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/tasks/{task.pk}/updates/", body, format="json")
    return response, [q["sql"] for q in captured.captured_queries]


HISTORY_TABLES = (
    "tasks_app_review",
    "tasks_app_evidence",
    "tasks_app_contribution",
    "tasks_app_instruction",
    "tasks_app_changerequest",
    "tasks_app_milestone",
)


def test_a_clerk_submitting_a_report_pays_nothing_for_the_tasks_history(
    plan, economic_bureau, clerk, supervisor, leader
):
    fresh, busy = assign(
        plan.tasks.filter(code__in=["3.3.09", "3.3.10"]).order_by("code"),
        lead=economic_bureau,
        co=[],
        leader=leader,
        office=supervisor,
    )
    months = periods(31)
    for n, month in enumerate(months[1:]):
        report(busy, month, clerk=clerk, office=supervisor, returned=n % 3 == 0)
    client = clerk_with_token()

    first, first_sql = submit(client, fresh, months[0])
    second, second_sql = submit(client, busy, months[0])

    assert first.status_code == second.status_code == 201, second.content.decode()
    assert len(first_sql) == len(second_sql), "\n".join(second_sql)
    read_history = [q for q in second_sql if any(f'"{t}"' in q for t in HISTORY_TABLES)]
    assert read_history == [], "\n".join(read_history)
    looked_up = [q for q in second_sql if q.startswith("SELECT") and "tasks_app_statusupdate" in q]
    assert looked_up == [], "the unique constraint is the duplicate check:\n" + "\n".join(looked_up)
    body = second.json()
    assert body["reviews"] == [] and body["evidence"] == []
    assert body["author"]["username"] == "clerk" and body["period"] == f"{months[0]:%Y-%m}"


def test_a_clerks_report_reads_the_clerks_department_once_with_the_task(
    plan, economic_bureau, clerk, supervisor, leader
):
    task = economic_bureaus_task(plan, economic_bureau, supervisor, leader)
    client = clerk_with_token()

    response, sql = submit(client, task, periods(1)[0])

    assert response.status_code == 201, response.content.decode()
    department_alone = [q for q in sql if q.startswith('SELECT "tasks_app_department"')]
    assert department_alone == [], "\n".join(department_alone)
    event = AuditEvent.objects.get(action="status_update.submit", object_id=response.json()["id"])
    assert event.actor_department == economic_bureau.name


def test_a_submitted_reports_answer_carries_its_indicator_values(
    plan, economic_bureau, clerk, supervisor, leader
):
    [task] = assign(
        plan.tasks.filter(indicators__isnull=False).order_by("pk")[:1],
        lead=economic_bureau,
        co=[],
        leader=leader,
        office=supervisor,
    )
    indicator = task.indicators.first()

    response, _sql = submit(
        api(clerk), task, periods(1)[0], [{"indicator": indicator.pk, "value": "12.5"}]
    )

    assert response.status_code == 201, response.content.decode()
    [value] = response.json()["indicator_values"]
    assert value["indicator"] == indicator.pk and float(value["value"]) == 12.5
