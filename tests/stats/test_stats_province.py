"""The province leader's overview, /api/v1/stats/plans/: every published plan's totals in one
call, the same numbers as each plan's own overview, exceptions first, in a fixed number of
queries however many plans."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tasks_app.models import Plan, PlanKind, Review, Role, StatusUpdate, TaskStatus, User
from tasks_app.plans import services
from tests.stats.stats_builders import JUNE_30, START, YEAR_END, at, build_plan, departments

pytestmark = pytest.mark.django_db

PROVINCE = "/api/v1/stats/plans/"


def publish(plan: Plan) -> Plan:
    Plan.objects.filter(pk=plan.pk).update(
        status=Plan.Status.PUBLISHED, published_at=timezone.now()
    )
    plan.refresh_from_db()
    return plan


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def accepted_reports(plan, author, reviewer, month: int, status: str, progress: int) -> None:
    """One accepted report per task of the plan for `month`, reviewed on the 25th."""
    updates = StatusUpdate.objects.bulk_create(
        [
            StatusUpdate(
                task=task,
                period=dt.date(plan.year, month, 1),
                status=status,
                progress=progress,
                narrative="进展。",
                explanation="情况说明:受前期手续影响滞后,正在加快推进。",
                author=author,
                review_state="accepted",
            )
            for task in plan.tasks.all()
        ]
    )
    Review.objects.bulk_create(
        [Review(update=u, revision=1, decision="accepted", reviewer=reviewer) for u in updates]
    )
    StatusUpdate.objects.filter(pk__in=[u.pk for u in updates]).update(
        created_at=at(plan.year, month, 20)
    )
    Review.objects.filter(update__in=updates).update(created_at=at(plan.year, month, 25))


@pytest.fixture
def province(counted, economic_bureau, clerk, supervisor):
    """Three published plans in different states, and a draft:
    - the hand-counted plan (tests/stats_builders.py): mixed, one task red and overdue by June;
    - a livelihood plan whose three tasks were all reported done in May;
    - a plan whose two tasks, due in March, never reported (both red and overdue by June);
    - a draft plan, which the province does not see."""
    counted_plan, _tasks = counted
    publish(counted_plan)
    done = build_plan(
        title="民生实事",
        kind=PlanKind.LIVELIHOOD,
        sections=1,
        tasks=[
            {"lead_department": economic_bureau, "start_date": START, "deadline": YEAR_END}
            for _ in range(3)
        ],
    )
    accepted_reports(done, clerk, supervisor, 5, TaskStatus.DONE, 100)
    publish(done)
    (elsewhere,) = departments(1, prefix="乙县发改局")
    late = build_plan(
        title="乙县计划",
        sections=1,
        tasks=[
            {"lead_department": elsewhere, "start_date": START, "deadline": dt.date(2020, 3, 31)}
            for _ in range(2)
        ],
    )
    publish(late)
    draft = build_plan(title="草稿计划", sections=1, tasks=[{"deadline": YEAR_END}])
    return {"counted": counted_plan, "done": done, "late": late, "draft": draft}


@pytest.mark.parametrize("as_of", [JUNE_30, dt.date(2020, 4, 30), None], ids=str)
def test_each_plans_numbers_are_those_of_its_own_overview(province, leader, as_of):
    client = client_for(leader)
    query = {"as_of": as_of.isoformat()} if as_of else {}
    response = client.get(PROVINCE, query)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {row["id"]: row for row in body["results"]}
    published = [province[name] for name in ("counted", "done", "late")]
    assert set(rows) == {plan.pk for plan in published}
    for plan in published:
        own = client.get(f"/api/v1/stats/plans/{plan.pk}/", query).json()
        row = rows[plan.pk]
        tally = {key: row[key] for key in own["totals"]}
        assert tally == own["totals"], plan.title
        assert (row["title"], row["government"], row["year"]) == (
            plan.title,
            plan.government.name,
            plan.year,
        )
    assert body["department_id"] is None and body["year"] is None


def test_the_plans_with_most_red_come_first_then_the_lowest_completion(province, leader):
    body = client_for(leader).get(PROVINCE, {"as_of": "2020-06-30"}).json()
    order = [row["title"] for row in body["results"]]
    # 乙县: 2 of 2 red; the counted plan: 1 of 6 red (T0002); 民生实事: all done, none red.
    assert order == ["乙县计划", "测试计划", "民生实事"]
    late = body["results"][0]
    assert late["by_light"]["red"] == 2 and late["overdue"] == 2 and late["completion_rate"] == 0
    assert body["results"][2]["completion_rate"] == 1.0


def test_a_year_keeps_only_that_years_plans(province, leader):
    client = client_for(leader)
    assert len(client.get(PROVINCE, {"as_of": "2020-06-30", "year": 2020}).json()["results"]) == 3
    other_year = client.get(PROVINCE, {"as_of": "2020-06-30", "year": 2021}).json()
    assert other_year["results"] == [] and other_year["year"] == 2021


def test_the_queries_are_as_many_for_five_plans_as_for_one(economic_bureau, clerk, supervisor):
    leader = services.user_create(
        actor=None, username="province-leader", password="pw-leader-123456", role=Role.LEADER
    )

    def add_plan(number: int, tasks: int) -> None:
        plan = build_plan(
            title=f"计划{number}",
            sections=3,
            tasks=[
                {
                    "section": i % 3 + 1,
                    "lead_department": economic_bureau,
                    "start_date": START,
                    "deadline": JUNE_30 if i % 2 else YEAR_END,
                }
                for i in range(tasks)
            ],
        )
        accepted_reports(plan, clerk, supervisor, 4, TaskStatus.ON_SCHEDULE, 30)
        publish(plan)

    def queries() -> int:
        # A user object per request, as a server has (readable governments are cached on it).
        client = client_for(User.objects.get(pk=leader.pk))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(PROVINCE, {"as_of": "2020-06-30"})
        assert response.status_code == 200
        return len(captured), len(response.json()["results"])

    add_plan(1, 4)
    one, listed = queries()
    assert listed == 1
    for number in range(2, 6):
        add_plan(number, 4 * number)
    five, listed = queries()
    assert listed == 5
    assert five == one


def test_a_department_sees_the_plans_it_leads_in_counted_over_its_own_tasks(province, clerk):
    client = client_for(clerk)
    body = client.get(PROVINCE, {"as_of": "2020-06-30"}).json()
    # The 经济发展局 leads tasks in the counted plan and the livelihood plan, none in 乙县's.
    assert {row["id"] for row in body["results"]} == {
        province["counted"].pk,
        province["done"].pk,
    }
    assert body["department_id"] == clerk.department_id
    for row in body["results"]:
        own = client.get(f"/api/v1/stats/plans/{row['id']}/", {"as_of": "2020-06-30"}).json()
        assert {key: row[key] for key in own["totals"]} == own["totals"]
    counted_row = next(r for r in body["results"] if r["id"] == province["counted"].pk)
    assert counted_row["total"] == 3


def test_strangers_are_refused_and_a_bad_date_is_answered_400(province, leader):
    assert APIClient().get(PROVINCE).status_code == 401
    retired = services.user_create(
        actor=None, username="retired", password="pw-retired-123456", role=Role.LEADER
    )
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    assert client_for(retired).get(PROVINCE).status_code == 403
    client = client_for(leader)
    bad = client.get(PROVINCE, {"as_of": "2020-13-01"})
    assert bad.status_code == 400 and "as_of" in bad.json()["errors"]
    far = client.get(PROVINCE, {"as_of": "1900-01-01"})
    assert far.status_code == 400
    assert far.json()["errors"]["as_of"][0]["code"] == "as_of_out_of_range"
    assert client.get(PROVINCE, {"year": "1900"}).status_code == 400
