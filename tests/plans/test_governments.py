"""Two governments on one installation, and the city above both (roll-up, read-only).

珠海高新区 runs the seed plan (load_plan --government 珠海高新区); 龙岗区 the plan imported from its
2020 work report (import_report ... --government 龙岗区 --publish --allow-incomplete). Each has an
office, a leader, an auditor and the 经济发展局's staff and head, and one task led by its 经济发展局
that its office has chased (催办), so that the bureau's head has a notification. The city 珠海市 is
above both and has an office and a leader of its own.

The world is built once for the module inside a rolled-back transaction (loading both plans takes
seconds); each test runs in a savepoint inside it.
"""

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from tasks_app.models import Government, ManualChase, Plan, Task
from tasks_app.plans import services as plans_services
from tasks_app.plans.tenants import GovernmentLevel, government_named
from tasks_app.reminders import chasing
from tests.reporting.test_api_permissions import personas

LONGGANG_REPORT = Path(__file__).resolve().parents[1] / "data" / "sz-longgang-2020.txt"
PEOPLE = ("supervisor", "leader", "auditor", "staff")
REFUSAL = "上级政府只能查看下级政府的数据,不能代为办理。"


@dataclass
class Register:
    government: Government
    plan: Plan
    task: Task  # led by the government's 经济发展局, chased by its office
    users: dict


@dataclass
class Installation:
    zone: Register  # 珠海高新区
    district: Register  # 龙岗区
    city: Government  # 珠海市, above both
    city_users: dict


def _register(name: str, code: str, prefix: str) -> Register:
    government = Government.objects.get(name=name)
    plan = Plan.objects.get(government=government, year=2020)
    plans_services.plan_publish(actor=None, plan=plan)
    users, departments = personas(government=government, prefix=prefix)
    task = plans_services.task_assign(
        actor=users["supervisor"],
        task=plan.tasks.get(code=code),
        lead_department=departments["econ"],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    chasing.chase_task(actor=users["supervisor"], task=task, note="请按时报送进展。")
    return Register(government=government, plan=plan, task=task, users=users)


def _build() -> Installation:
    quiet = {"stdout": io.StringIO()}
    call_command("load_plan", "--government", "珠海高新区", **quiet)
    call_command(
        "import_report",
        str(LONGGANG_REPORT),
        "--year=2020",
        "--government=龙岗区",
        "--publish",
        "--allow-incomplete",
        **quiet,
    )
    zone = _register("珠海高新区", "3.3.09", "gx")
    district = _register("龙岗区", "1.3.01", "lg")
    city = government_named("珠海市", level=GovernmentLevel.CITY)
    Government.objects.filter(pk__in=[zone.government.pk, district.government.pk]).update(
        parent=city
    )
    city_users, _departments = personas(government=city, prefix="zh")
    return Installation(zone=zone, district=district, city=city, city_users=city_users)


@pytest.fixture(scope="module")
def installation(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pages(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _all(client, url: str) -> list[dict]:
    rows = []
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


SIDES = [("zone", "district"), ("district", "zone")]


# --- Each government sees only its own ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), SIDES)
@pytest.mark.parametrize("persona", PEOPLE)
def test_each_governments_people_list_only_their_own_tasks(installation, own, other, persona):
    own, other = getattr(installation, own), getattr(installation, other)
    listed = {row["id"] for row in _all(api(own.users[persona]), "/api/v1/tasks/?page_size=200")}
    assert own.task.pk in listed
    assert listed <= set(
        Task.objects.filter(government=own.government).values_list("pk", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), SIDES)
@pytest.mark.parametrize("persona", PEOPLE)
def test_another_governments_plan_and_task_answer_404_on_every_page_and_route(
    installation, own, other, persona
):
    user = getattr(installation, own).users[persona]
    other = getattr(installation, other)
    plan, task = other.plan.pk, other.task.pk
    for url in (f"/api/v1/tasks/{task}/", f"/api/v1/stats/plans/{plan}/"):
        assert api(user).get(url).status_code == 404, url
    for url in (f"/plans/{plan}/", f"/workbench/tasks/{task}/", f"/dashboard/plans/{plan}/"):
        assert pages(user).get(url).status_code == 404, url


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), SIDES)
def test_the_bureaus_head_is_notified_of_their_own_governments_chase_only(installation, own, other):
    own, other = getattr(installation, own), getattr(installation, other)
    rows = _all(api(own.users["head"]), "/api/v1/notifications/")
    assert {(row["kind"], row["task"]) for row in rows} == {("chase", own.task.pk)}
    assert other.task.pk not in {row["task"] for row in rows}


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), SIDES)
@pytest.mark.parametrize("persona", ("supervisor", "leader", "auditor"))
def test_the_overview_and_the_dashboard_list_a_districts_own_plans(
    installation, own, other, persona
):
    own, other = getattr(installation, own), getattr(installation, other)
    user = own.users[persona]
    body = api(user).get("/api/v1/stats/plans/?as_of=2020-06-30").json()
    assert [row["id"] for row in body["results"]] == [own.plan.pk]
    assert [g["name"] for g in body["governments"]] == [own.government.name]
    home = pages(user).get("/dashboard/")  # one plan: the dashboard opens it
    assert home.status_code == 302 and home.url == f"/dashboard/plans/{own.plan.pk}/"


@pytest.mark.django_db
def test_a_districts_office_cannot_chase_another_districts_task(installation):
    response = api(installation.zone.users["supervisor"]).post(
        f"/api/v1/tasks/{installation.district.task.pk}/chase/", {"note": "请报送。"}, format="json"
    )
    assert response.status_code == 404


# --- The city above both: reads, never acts -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ("supervisor", "leader", "auditor"))
def test_the_citys_overview_lists_each_district_with_its_numbers(installation, persona):
    body = api(installation.city_users[persona]).get("/api/v1/stats/plans/?as_of=2020-06-30")
    body = body.json()
    plans = {row["id"]: row for row in body["results"]}
    zone, district = installation.zone, installation.district
    assert set(plans) == {zone.plan.pk, district.plan.pk}
    assert plans[district.plan.pk]["government"] == "龙岗区"
    assert plans[district.plan.pk]["government_level"] == "district"
    by_name = {g["name"]: g for g in body["governments"]}
    assert [g["name"] for g in body["governments"]] == ["珠海市", "珠海高新区", "龙岗区"]
    assert by_name["珠海市"]["plans"] == 0 and by_name["珠海市"]["total"] == 0
    for register in (zone, district):
        row, sums = plans[register.plan.pk], by_name[register.government.name]
        assert sums["parent_id"] == installation.city.pk and sums["plans"] == 1
        for key in ("total", "done", "overdue", "by_status", "by_light", "completion_rate"):
            assert sums[key] == row[key], key


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ("supervisor", "leader"))
def test_the_citys_dashboard_lists_both_districts_plans_and_opens_them(installation, persona):
    client = pages(installation.city_users[persona])
    home = client.get("/dashboard/").content.decode()
    for register in (installation.zone, installation.district):
        assert f'id="government-{register.government.pk}"' in home
        assert f"/dashboard/plans/{register.plan.pk}/" in home
        assert client.get(f"/dashboard/plans/{register.plan.pk}/").status_code == 200
        assert client.get(f"/dashboard/plans/{register.plan.pk}/tasks/").status_code == 200


CHASE_FORM, INSTRUCTION_FORM = "chase-form", 'name="instruction-text"'


@pytest.mark.django_db
def test_a_districts_own_office_and_leader_find_their_actions_on_its_task_page(installation):
    task = installation.district.task
    office = pages(installation.district.users["supervisor"]).get(f"/workbench/tasks/{task.pk}/")
    leader = pages(installation.district.users["leader"]).get(f"/workbench/tasks/{task.pk}/")
    assert CHASE_FORM in office.content.decode()
    assert INSTRUCTION_FORM in leader.content.decode()
    assert 'id="other-government"' not in office.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ("supervisor", "leader"))
def test_the_citys_office_opens_a_districts_task_page_without_its_actions(installation, persona):
    task = installation.district.task
    page = pages(installation.city_users[persona]).get(f"/workbench/tasks/{task.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="other-government"' in html and "龙岗区" in html
    assert CHASE_FORM not in html and INSTRUCTION_FORM not in html


@pytest.mark.django_db
def test_the_citys_office_cannot_chase_a_districts_task_and_nothing_is_written(installation):
    task = installation.district.task
    chases = ManualChase.objects.count()
    response = api(installation.city_users["supervisor"]).post(
        f"/api/v1/tasks/{task.pk}/chase/", {"note": "请报送。"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "other_government"
    assert response.json()["message"] == REFUSAL
    assert ManualChase.objects.count() == chases


@pytest.mark.django_db
def test_the_citys_departments_read_nothing_of_the_districts(installation):
    staff = installation.city_users["staff"]
    assert _all(api(staff), "/api/v1/tasks/") == []
    task = installation.district.task
    assert api(staff).get(f"/api/v1/tasks/{task.pk}/").status_code == 404
