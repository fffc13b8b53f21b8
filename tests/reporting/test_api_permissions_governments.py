"""The API permission matrix of tests/reporting/test_api_permissions.py, across governments.

Two governments, each with the matrix's world (its departments, personas, two assigned tasks with
a report, a change request and a leader's instruction): 珠海高新区 with the seed plan, and 龙岗区
with the plan imported from its 2020 work report (tests/data/sz-longgang-2020.txt). Above both,
the city 珠海市 with the same personas and no plan of its own.

- A persona of one district calling any route on the other's objects gets 404, as a department
  gets on another department's task: the other government's rows do not exist for it.
- The city's office, leaders, auditors and administrators read both districts' objects (the
  matrix's answer for a GET) and every write answers 403 other_government and writes nothing;
  the city's department members read nothing of the districts (404).
"""

import io
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

from tasks_app.models import AuditEvent, Government, Plan, StatusUpdate, Task
from tasks_app.plans.tenants import GovernmentLevel, government_named
from tests.reporting.test_api_permissions import (
    DEPARTMENT_PERSONAS,
    GLOBAL_ENDPOINTS,
    OBJECT_ENDPOINTS,
    PERSONAS,
    SEE_ALL_PERSONAS,
    World,
    build_world,
    call,
    client_for,
    personas,
)

LONGGANG_REPORT = Path(__file__).resolve().parents[1] / "data" / "sz-longgang-2020.txt"
LONGGANG_CODES = ("1.3.01", "1.3.02")  # each with a target, as the seed's two tasks
READS = [endpoint for endpoint in OBJECT_ENDPOINTS if endpoint.startswith("GET ")]
WRITES = [endpoint for endpoint in OBJECT_ENDPOINTS if not endpoint.startswith("GET ")]


@dataclass
class Governments:
    zone: World  # 珠海高新区, the seed plan
    district: World  # 龙岗区, imported from its work report
    city: dict  # 珠海市's personas, above both


def _build() -> Governments:
    city = government_named("珠海市", level=GovernmentLevel.CITY)
    zone = build_world()  # the default government: 珠海高新区
    call_command(
        "import_report",
        str(LONGGANG_REPORT),
        "--year=2020",
        "--government=龙岗区",
        "--publish",
        "--allow-incomplete",
        stdout=io.StringIO(),
    )
    longgang = Government.objects.get(name="龙岗区")
    district = build_world(
        plan=Plan.objects.get(government=longgang, year=2020),
        government=longgang,
        prefix="lg",
        codes=LONGGANG_CODES,
    )
    # The city above both districts (no service sets a parent yet: the installation does).
    Government.objects.filter(pk__in=[zone.tasks["ours"].government_id, longgang.pk]).update(
        parent=city
    )
    city_users, _departments = personas(government=city, prefix="zh")
    city_users.pop("social")
    return Governments(zone=zone, district=district, city=city_users)


@pytest.fixture(scope="module")
def governments(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_throttles_and_media(settings, tmp_path):
    cache.clear()
    settings.MEDIA_ROOT = tmp_path


def aimed(caller: dict, target: World) -> World:
    """The target government's objects, called by another government's personas."""
    return replace(target, users=caller)


DIRECTIONS = {
    "zone-calls-district": ("zone", "district"),
    "district-calls-zone": ("district", "zone"),
}


def _sides(governments: Governments, direction: str) -> tuple[World, World]:
    caller, target = DIRECTIONS[direction]
    return getattr(governments, caller), getattr(governments, target)


@pytest.mark.django_db
@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize(
    ("persona", "endpoint"),
    [pytest.param(p, e, id=f"{p}-{e}") for e in OBJECT_ENDPOINTS for p in PERSONAS],
)
def test_another_governments_tasks_updates_and_change_requests_answer_404_to_every_persona(
    governments, direction, persona, endpoint
):
    caller, target = _sides(governments, direction)
    response = call(aimed(caller.users, target), persona, endpoint, "ours")
    assert response.status_code == 404, response.content.decode()
    assert response.json()["code"] == "not_found"


def _result_ids(response) -> set[int]:
    body = response.json()
    return {row["id"] for row in body.get("results", [])} if isinstance(body, dict) else set()


@pytest.mark.django_db
@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize(
    ("persona", "endpoint", "expected"),
    [
        pytest.param(p, e, expected[PERSONAS.index(p)], id=f"{p}-{e}")
        for e, expected in GLOBAL_ENDPOINTS.items()
        for p in PERSONAS
    ],
)
def test_the_lists_answer_as_in_one_government_and_hold_none_of_the_others_rows(
    governments, direction, persona, endpoint, expected
):
    caller, target = _sides(governments, direction)
    response = call(aimed(caller.users, target), persona, endpoint, "ours")
    assert response.status_code == expected, response.content.decode()
    if expected == 200:
        theirs = {t.pk for t in target.tasks.values()} | {u.pk for u in target.updates.values()}
        assert not _result_ids(response) & theirs


# --- The city above both: reads, never writes ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("child", ["zone", "district"])
@pytest.mark.parametrize(
    ("persona", "endpoint"),
    [pytest.param(p, e, id=f"{p}-{e}") for e in READS for p in SEE_ALL_PERSONAS],
)
def test_the_citys_office_leaders_and_auditors_read_their_districts_objects(
    governments, child, persona, endpoint
):
    expected = OBJECT_ENDPOINTS[endpoint][PERSONAS.index(persona)]
    response = call(aimed(governments.city, getattr(governments, child)), persona, endpoint)
    assert response.status_code == expected == 200, response.content.decode()


def _written(world: World) -> tuple:
    """What a write would change: the ledger's events (but the refusal's own, every 403 is one),
    the tasks' and reports' versions."""
    tasks = [task.pk for task in world.tasks.values()]
    return (
        AuditEvent.objects.exclude(action="auth.permission_denied").count(),
        sorted(Task.objects.filter(pk__in=tasks).values_list("pk", "version")),
        sorted(StatusUpdate.objects.filter(task__in=tasks).values_list("pk", "version")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("child", ["zone", "district"])
@pytest.mark.parametrize(
    ("persona", "endpoint"),
    [pytest.param(p, e, id=f"{p}-{e}") for e in WRITES for p in SEE_ALL_PERSONAS],
)
def test_every_write_of_the_city_on_a_districts_objects_answers_403_and_writes_nothing(
    governments, child, persona, endpoint
):
    world = getattr(governments, child)
    before = _written(world)
    response = call(aimed(governments.city, world), persona, endpoint)
    assert response.status_code == 403, response.content.decode()
    body = response.json()
    assert body["code"] == "other_government"
    assert body["message"] == "上级政府只能查看下级政府的数据,不能代为办理。"
    assert _written(world) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "endpoint"),
    [pytest.param(p, e, id=f"{p}-{e}") for e in OBJECT_ENDPOINTS for p in DEPARTMENT_PERSONAS],
)
def test_the_citys_departments_see_nothing_of_the_districts(governments, persona, endpoint):
    response = call(aimed(governments.city, governments.district), persona, endpoint)
    assert response.status_code == 404, response.content.decode()


def _listed_ids(user) -> set[int]:
    ids, url = set(), "/api/v1/tasks/?page_size=200"
    while url:
        body = client_for(user).get(url).json()
        ids |= {row["id"] for row in body["results"]}
        url = body["next"]
    return ids


@pytest.mark.django_db
@pytest.mark.parametrize("persona", SEE_ALL_PERSONAS)
def test_the_citys_task_list_holds_both_districts_tasks(governments, persona):
    both = Task.objects.filter(government__name__in=["珠海高新区", "龙岗区"])
    assert _listed_ids(governments.city[persona]) == set(both.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", SEE_ALL_PERSONAS)
def test_a_districts_task_list_holds_its_own_tasks_only(governments, persona):
    own = Task.objects.filter(government__name="龙岗区")
    assert _listed_ids(governments.district.users[persona]) == set(own.values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_citys_review_queue_holds_no_districts_reports(governments):
    """The review queue is the office's own work: the districts' reports wait for theirs."""
    response = call(
        aimed(governments.city, governments.district), "supervisor", "GET review-queue/"
    )
    assert response.status_code == 200
    assert response.json()["results"] == []
    district_office = call(governments.district, "supervisor", "GET review-queue/")
    assert _result_ids(district_office) == {u.pk for u in governments.district.updates.values()}
