"""Who may call which API endpoint: every role x every endpoint x own / another department's task.

The world (plan, departments, personas, two assigned tasks each with a report and a change request)
is built once for the module inside a transaction that is rolled back at the end; every test runs
in a savepoint inside it, so a write in one test is never seen by the next (Django's
`setUpTestData` pattern). Loading the plan takes seconds, and the matrix has ~300 cells.

Task A is led by the 经济发展局 (co-department: 科技创新和产业发展局). Task B is led by the
社会事务局 with no co-department: for every department persona it is another department's task.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from rest_framework.test import APIClient

from tasks_app.models import ChangeRequest, Role, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.plans.plan_data import read_plan_file
from tasks_app.reporting import services as reporting_services

PASSWORD = "pw-matrix-123456"
PERSONAS = ("staff", "head", "co", "unrelated", "supervisor", "leader", "auditor", "admin")
DEPARTMENT_PERSONAS = ("staff", "head", "co", "unrelated")
SEE_ALL_PERSONAS = ("supervisor", "leader", "auditor", "admin")

REPORT = {
    "period": "2020-04",
    "status": "on_schedule",
    "progress": 40,
    "narrative": "完成选址,开展前期工作。",
    "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
}
PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


@dataclass
class World:
    users: dict
    tasks: dict  # "ours" -> task A, "theirs" -> task B
    updates: dict
    changes: dict
    social: object
    instructions: dict


def _assigned_task(plan, code, *, lead, co, author, office) -> tuple[Task, StatusUpdate]:
    task = plans_services.task_assign(
        actor=office,
        task=plan.tasks.get(code=code),
        lead_department=lead,
        co_departments=co,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    update = reporting_services.status_update_submit(
        actor=author,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="三月进展。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    return task, update


SEED_CODES = ("3.3.09", "1.2.04")  # task A (with a target), task B


def personas(*, government=None, prefix: str = "m") -> tuple[dict, dict]:
    """The matrix's personas of one government and its departments: (users, departments).
    staff/head: 经济发展局; co: 科技创新和产业发展局; unrelated: 财政局; social: 社会事务局."""
    names = {"econ": "经济发展局", "tech": "科技创新和产业发展局", "social": "社会事务局"}
    names["finance"] = "财政局"
    departments = {
        key: plans_services.department_create(actor=None, name=name, government=government)
        for key, name in names.items()
    }
    roles = {
        "staff": (Role.STAFF, "econ"),
        "head": (Role.HEAD, "econ"),
        "co": (Role.STAFF, "tech"),
        "unrelated": (Role.STAFF, "finance"),
        "social": (Role.STAFF, "social"),
        "supervisor": (Role.SUPERVISOR, None),
        "leader": (Role.LEADER, None),
        "auditor": (Role.AUDITOR, None),
        "admin": (Role.ADMIN, None),
    }
    users = {
        name: plans_services.user_create(
            actor=None,
            username=f"{prefix}-{name}",
            password=PASSWORD,
            role=role,
            department=departments[key] if key else None,
            government=government,
        )
        for name, (role, key) in roles.items()
    }
    return users, departments


def build_world(
    *, plan=None, government=None, prefix: str = "m", codes: tuple[str, str] = SEED_CODES
) -> World:
    """The matrix's world in one government (default: the seed plan in the default government):
    task A led by its 经济发展局 (co: 科技创新和产业发展局), task B by its 社会事务局.
    tests/reporting/test_api_permissions_governments.py builds one per government."""
    if plan is None:
        plan, _ = plans_services.plan_load(actor=None, data=read_plan_file(), government=government)
    users, departments = personas(government=government, prefix=prefix)
    econ, tech, social = departments["econ"], departments["tech"], departments["social"]
    social_clerk = users.pop("social")
    office = users["supervisor"]
    task_a, update_a = _assigned_task(
        plan, codes[0], lead=econ, co=[tech], author=users["staff"], office=office
    )
    task_b, update_b = _assigned_task(
        plan, codes[1], lead=social, co=[], author=social_clerk, office=office
    )
    plans_services.plan_publish(actor=office, plan=plan)
    changes = {
        side: reporting_services.change_request_create(
            actor=author,
            task=task,
            field=ChangeRequest.Field.TARGET_VALUE,
            new_value="2000",
            reason="口径调整。",
            indicator=task.indicators.first(),
        )
        for side, task, author in (
            ("ours", task_a, users["staff"]),
            ("theirs", task_b, social_clerk),
        )
    }
    instructions = {
        side: reporting_services.instruction_create(
            actor=users["leader"], task=task, text="请加快推进。"
        )
        for side, task in (("ours", task_a), ("theirs", task_b))
    }
    return World(
        users=users,
        tasks={"ours": task_a, "theirs": task_b},
        updates={"ours": update_a, "theirs": update_b},
        changes=changes,
        social=social,
        instructions=instructions,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_throttles_and_media(settings, tmp_path):
    cache.clear()  # the login throttle counts in the cache
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _etag(obj) -> str:
    obj = type(obj).objects.get(pk=obj.pk)
    return f'"{obj._meta.model_name}-{obj.pk}-v{obj.version}"'


def call(world: World, persona: str | None, endpoint: str, side: str = "ours"):
    """Make the endpoint's request with a valid body, so only permission decides the answer."""
    user = world.users.get(persona)
    client = client_for(user)
    task, update, change = world.tasks[side], world.updates[side], world.changes[side]
    t, u, c = f"/api/v1/tasks/{task.pk}/", f"/api/v1/updates/{update.pk}/", change.pk
    i = f"/api/v1/instructions/{world.instructions[side].pk}/"
    requests = {
        "POST auth/token/": lambda: client.post(
            "/api/v1/auth/token/",
            {"username": (user or world.users["staff"]).username, "password": PASSWORD},
            format="json",
        ),
        "POST auth/token/revoke/": lambda: client.post("/api/v1/auth/token/revoke/"),
        "GET tasks/": lambda: client.get("/api/v1/tasks/"),
        "GET review-queue/": lambda: client.get("/api/v1/review-queue/"),
        "GET tasks/{id}/": lambda: client.get(t),
        "PATCH tasks/{id}/": lambda: client.patch(
            t, {"title": "新的任务名称"}, format="json", HTTP_IF_MATCH=_etag(task)
        ),
        "POST tasks/{id}/receipt/": lambda: client.post(f"{t}receipt/"),
        "GET tasks/{id}/updates/": lambda: client.get(f"{t}updates/"),
        "POST tasks/{id}/updates/": lambda: client.post(f"{t}updates/", REPORT, format="json"),
        "GET tasks/{id}/contributions/": lambda: client.get(f"{t}contributions/"),
        "POST tasks/{id}/contributions/": lambda: client.post(
            f"{t}contributions/",
            {"period": "2020-03", "narrative": "配合完成测算。"},
            format="json",
        ),
        "GET tasks/{id}/instructions/": lambda: client.get(f"{t}instructions/"),
        "POST tasks/{id}/instructions/": lambda: client.post(
            f"{t}instructions/", {"text": "请加快进度。"}, format="json"
        ),
        "GET tasks/{id}/change-requests/": lambda: client.get(f"{t}change-requests/"),
        "POST tasks/{id}/change-requests/": lambda: client.post(
            f"{t}change-requests/",
            {"field": "deadline", "new_value": "2021-06-30", "reason": "受疫情影响。"},
            format="json",
        ),
        "GET updates/{id}/": lambda: client.get(u),
        "PATCH updates/{id}/": lambda: client.patch(
            u, {"progress": 35}, format="json", HTTP_IF_MATCH=_etag(update)
        ),
        "POST updates/{id}/review/": lambda: client.post(
            f"{u}review/", {"decision": "accepted"}, format="json"
        ),
        "POST updates/{id}/evidence/": lambda: client.post(
            f"{u}evidence/", {"file": _pdf()}, format="multipart"
        ),
        "POST change-requests/{id}/decision/": lambda: client.post(
            f"/api/v1/change-requests/{c}/decision/", {"approve": True}, format="json"
        ),
        "GET signoff-queue/": lambda: client.get("/api/v1/signoff-queue/"),
        "POST updates/{id}/signoff/": lambda: client.post(
            f"{u}signoff/", {"decision": "approved"}, format="json"
        ),
        "GET instructions/{id}/feedback/": lambda: client.get(f"{i}feedback/"),
        "POST instructions/{id}/feedback/": lambda: client.post(
            f"{i}feedback/", {"text": "已召开专题会部署落实。"}, format="json"
        ),
    }
    return requests[endpoint]()


def _pdf():
    return SimpleUploadedFile("验收报告.pdf", PDF, content_type="application/pdf")


# fmt: off
# The expected answer for each persona on the lead department's task (task A), or on no task.
# staff/head: 经济发展局 (leads A); co: 科技创新和产业发展局 (co-leads A); unrelated: 财政局.
#                                           staff head  co   unrel  sup  leader audit admin
GLOBAL_ENDPOINTS = {
    "POST auth/token/":                     (200,  200, 200, 200,  200,  200,  200,  200),
    "POST auth/token/revoke/":              (204,  204, 204, 204,  204,  204,  204,  204),
    "GET tasks/":                           (200,  200, 200, 200,  200,  200,  200,  200),
    "GET review-queue/":                    (403,  403, 403, 403,  200,  403,  403,  200),
    "GET signoff-queue/":                   (403,  200, 403, 403,  403,  403,  403,  403),
}
OBJECT_ENDPOINTS = {
    "GET tasks/{id}/":                      (200,  200, 200, 404,  200,  200,  200,  200),
    "PATCH tasks/{id}/":                    (403,  403, 403, 404,  200,  403,  403,  200),
    "POST tasks/{id}/receipt/":             (200,  200, 403, 404,  403,  403,  403,  403),
    "GET tasks/{id}/updates/":              (200,  200, 200, 404,  200,  200,  200,  200),
    "POST tasks/{id}/updates/":             (201,  201, 403, 404,  403,  403,  403,  403),
    "GET tasks/{id}/contributions/":        (200,  200, 200, 404,  200,  200,  200,  200),
    "POST tasks/{id}/contributions/":       (403,  403, 201, 404,  403,  403,  403,  403),
    "GET tasks/{id}/instructions/":         (200,  200, 200, 404,  200,  200,  200,  200),
    "POST tasks/{id}/instructions/":        (403,  403, 403, 404,  403,  201,  403,  403),
    "GET tasks/{id}/change-requests/":      (200,  200, 200, 404,  200,  200,  200,  200),
    # The office decides change requests, so it must not file them: no approving its own.
    "POST tasks/{id}/change-requests/":     (201,  201, 403, 404,  403,  403,  403,  403),
    "GET updates/{id}/":                    (200,  200, 200, 404,  200,  200,  200,  200),
    "PATCH updates/{id}/":                  (200,  200, 403, 404,  403,  403,  403,  403),
    "POST updates/{id}/review/":            (403,  403, 403, 404,  200,  403,  403,  200),
    "POST updates/{id}/evidence/":          (201,  201, 403, 404,  403,  403,  403,  403),
    "POST change-requests/{id}/decision/":  (403,  403, 403, 404,  200,  403,  403,  200),
    # The plan has no sign-off: the head may sign off, but the report is not waiting (409).
    "POST updates/{id}/signoff/":           (403,  409, 403, 404,  403,  403,  403,  403),
    "GET instructions/{id}/feedback/":      (200,  200, 200, 404,  200,  200,  200,  200),
    "POST instructions/{id}/feedback/":     (201,  201, 403, 404,  403,  403,  403,  403),
}
# fmt: on
ALL_ENDPOINTS = {**GLOBAL_ENDPOINTS, **OBJECT_ENDPOINTS}


def _cells(table: dict) -> list:
    return [
        pytest.param(
            persona, endpoint, expected[PERSONAS.index(persona)], id=f"{persona}-{endpoint}"
        )
        for endpoint, expected in table.items()
        for persona in PERSONAS
    ]


def test_the_table_covers_every_reporting_route_in_api_urls():
    """Every route of the reporting API; each feature module tests its own routes' permissions."""
    from tasks_app import api_urls
    from tasks_app.audit import urls as urls_audit
    from tasks_app.importer import urls as urls_imports
    from tasks_app.public import urls as urls_public
    from tasks_app.reminders import urls as urls_reminders
    from tasks_app.stats import urls as urls_stats

    features = {
        str(p.pattern)
        for module in (urls_audit, urls_imports, urls_public, urls_reminders, urls_stats)
        for p in module.api_urlpatterns
    }
    routes = {
        str(p.pattern).replace("<int:pk>", "{id}")
        for p in api_urls.urlpatterns
        if str(p.pattern) not in features
    }
    # The plan's 减负 rules: office only, tested in tests/plans/test_plan_rules.py.
    tested_elsewhere = {"plans/{id}/rules/"}
    assert {endpoint.split(" ", 1)[1] for endpoint in ALL_ENDPOINTS} == routes - tested_elsewhere


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "endpoint", "expected"), _cells(ALL_ENDPOINTS))
def test_each_role_gets_the_expected_status_on_the_lead_departments_task(
    world, persona, endpoint, expected
):
    response = call(world, persona, endpoint, "ours")
    assert response.status_code == expected, response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "endpoint"),
    [pytest.param(p, e, id=f"{p}-{e}") for e in OBJECT_ENDPOINTS for p in DEPARTMENT_PERSONAS],
)
def test_another_departments_task_update_and_change_request_answer_404_to_department_users(
    world, persona, endpoint
):
    response = call(world, persona, endpoint, "theirs")
    assert response.status_code == 404, response.content.decode()
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "endpoint", "expected"),
    [
        pytest.param(p, e, expected[PERSONAS.index(p)], id=f"{p}-{e}")
        for e, expected in OBJECT_ENDPOINTS.items()
        for p in SEE_ALL_PERSONAS
    ],
)
def test_the_office_leaders_and_auditors_get_the_same_answer_on_any_departments_task(
    world, persona, endpoint, expected
):
    response = call(world, persona, endpoint, "theirs")
    assert response.status_code == expected, response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(ALL_ENDPOINTS))
def test_an_anonymous_caller_gets_401_everywhere_except_the_token_endpoint(world, endpoint):
    response = call(world, None, endpoint, "ours")
    expected = 200 if endpoint == "POST auth/token/" else 401
    assert response.status_code == expected, response.content.decode()
    if expected == 401:
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_wrong_password_gets_400_not_a_token(world):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "m-staff", "password": "wrong"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")


@pytest.mark.django_db
def test_a_forbidden_write_changes_nothing(world):
    task = world.tasks["ours"]
    before = Task.objects.values("title", "version").get(pk=task.pk)
    assert call(world, "auditor", "PATCH tasks/{id}/").status_code == 403
    assert call(world, "co", "POST tasks/{id}/updates/").status_code == 403
    assert Task.objects.values("title", "version").get(pk=task.pk) == before
    assert not StatusUpdate.objects.filter(task=task, period=dt.date(2020, 4, 1)).exists()


def _listed_ids(user, query: str = "") -> set[int]:
    ids, url = set(), f"/api/v1/tasks/?page_size=200{query}"
    while url:
        body = client_for(user).get(url).json()
        ids |= {row["id"] for row in body["results"]}
        url = body["next"]
    return ids


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "visible"),
    [("staff", {"ours"}), ("head", {"ours"}), ("co", {"ours"}), ("unrelated", set())],
)
def test_the_task_list_never_includes_other_departments_tasks(world, persona, visible):
    expected = {world.tasks[side].pk for side in visible}
    assert _listed_ids(world.users[persona]) == expected


@pytest.mark.django_db
def test_filtering_the_task_list_by_another_department_reveals_nothing(world):
    query = f"&department={world.social.pk}"
    assert _listed_ids(world.users["staff"], query) == set()
    assert _listed_ids(world.users["supervisor"], query) == {world.tasks["theirs"].pk}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", SEE_ALL_PERSONAS)
def test_the_office_leaders_and_auditors_list_every_task(world, persona):
    assert _listed_ids(world.users[persona]) == set(Task.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_review_queue_shows_the_office_every_departments_submitted_updates(world):
    body = client_for(world.users["supervisor"]).get("/api/v1/review-queue/").json()
    assert {row["id"] for row in body["results"]} == {u.pk for u in world.updates.values()}
