"""The leaders' numbers cost the same number of queries for 10 tasks as for 1,000, and for 2
departments as for 40."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tasks_app.models import (
    Indicator,
    IndicatorValue,
    Milestone,
    Review,
    Role,
    StatusUpdate,
    Task,
)
from tasks_app.plans import services
from tasks_app.stats import indicators as stats_indicators
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import selectors
from tasks_app.stats import snapshot as stats_snapshot
from tasks_app.stats import summary as stats_summary
from tests.stats.stats_builders import at, build_plan, departments

pytestmark = pytest.mark.django_db

PAST, LATER = dt.date(2020, 6, 30), dt.date(2020, 9, 30)


@pytest.fixture
def leader(db):
    return services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )


def big_plan(title: str, task_count: int, department_count: int, author, reviewer):
    """task_count tasks over 5 sections and department_count departments, with milestones, an
    indicator per task, two reports per task (one accepted, one returned) and values."""
    leads = departments(department_count, prefix=f"{title}局")
    plan = build_plan(
        title=title,
        sections=5,
        tasks=[
            {
                "section": i % 5 + 1,
                "lead_department": leads[i % department_count],
                "start_date": dt.date(2020, 1, 21),
                "deadline": dt.date(2020, 6, 1) if i % 3 == 0 else dt.date(2020, 12, 31),
            }
            for i in range(task_count)
        ],
    )
    tasks = list(plan.tasks.all())
    Milestone.objects.bulk_create(
        [Milestone(task=t, title="节点", due_date=dt.date(2020, 9, 30)) for t in tasks]
    )
    indicators = Indicator.objects.bulk_create(
        [
            Indicator(
                plan=plan,
                task=t,
                name="指标",
                comparator="gte",
                target_value=Decimal(10),
                source_text="指标10",
            )
            for t in tasks
        ]
    )
    updates = StatusUpdate.objects.bulk_create(
        [
            StatusUpdate(
                task=t,
                period=dt.date(2020, month, 1),
                status="on_schedule",
                progress=10 * month,
                narrative="进展。",
                explanation="情况说明:受前期手续影响滞后,正在加快推进。",
                author=author,
                review_state=state,
            )
            for t in tasks
            for month, state in ((4, "accepted"), (5, "returned"))
        ]
    )
    StatusUpdate.objects.filter(task__plan=plan).update(created_at=at(2020, 5, 20))
    Review.objects.bulk_create(
        [
            Review(
                update=u,
                revision=1,
                decision=u.review_state,
                reviewer=reviewer,
                reason="" if u.review_state == "accepted" else "请补充。",
            )
            for u in updates
        ]
    )
    Review.objects.filter(update__task__plan=plan).update(created_at=at(2020, 5, 25))
    by_task = {i.task_id: i for i in indicators}
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(update=u, indicator=by_task[u.task_id], value=Decimal(4))
            for u in updates
            if u.review_state == "accepted"
        ]
    )
    return plan


@pytest.fixture
def plans(clerk, supervisor):
    small = big_plan("小计划", 10, 2, clerk, supervisor)
    large = big_plan("大计划", 1000, 40, clerk, supervisor)
    assert Task.objects.filter(plan=large).count() == 1000
    return small, large


def count(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def everything(plan, as_of):
    snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=as_of)
    return [
        selectors.stats_overview(snapshot),
        selectors.stats_exceptions(snapshot),
        stats_indicators.stats_indicators(snapshot),
        stats_ranking.stats_ranking(snapshot),
        stats_summary.stats_trend(snapshot),
        stats_summary.plan_summary(snapshot),
    ]


@pytest.mark.parametrize("as_of", [PAST, LATER, None], ids=["june", "september", "today"])
def test_the_selectors_cost_the_same_queries_for_10_and_1000_tasks(plans, as_of):
    small, large = plans
    small_queries = count(lambda: everything(small, as_of))
    large_queries = count(lambda: everything(large, as_of))
    assert small_queries == large_queries
    assert large_queries <= 20


def test_the_numbers_of_the_large_plan_add_up(plans):
    _small, large = plans
    overview, exceptions, indicators, ranking, trend, summary = everything(large, PAST)
    assert overview["totals"]["total"] == 1000
    assert overview["totals"]["overdue"] == 334  # every third task was due 2020-06-01
    assert len(exceptions) >= 334
    assert {r["actual"] for r in indicators} == {Decimal(4)}
    assert len(ranking["rows"]) == 40
    assert sum(r["reports_received"] for r in ranking["rows"]) == 2000
    assert sum(r["returned"] for r in ranking["rows"]) == 1000
    assert summary["counts"]["tasks"] == 1000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats/plans/{id}/",
        "/api/v1/stats/plans/{id}/exceptions/",
        "/api/v1/stats/plans/{id}/indicators/",
        "/api/v1/stats/plans/{id}/ranking/",
        "/api/v1/stats/plans/{id}/trend/",
        "/api/v1/plans/{id}/summary/",
        "/dashboard/plans/{id}/",
        "/dashboard/plans/{id}/tasks/?section=1",
        "/dashboard/plans/{id}/exceptions/",
        "/dashboard/plans/{id}/exceptions/?kind=overdue&page=2",
        "/dashboard/plans/{id}/export.xlsx",
        "/dashboard/plans/{id}/print/",
    ],
)
def test_each_endpoint_and_page_costs_the_same_queries_for_10_and_1000_tasks(
    plans, leader, client, path
):
    small, large = plans
    api = APIClient()
    api.force_authenticate(leader)
    client.force_login(leader)
    getter = api if path.startswith("/api/") else client

    def get(plan):
        url = path.replace("{id}", str(plan.pk))
        if "section=1" in url:
            url = url.replace("section=1", f"section={plan.sections.get(number=1).pk}")
        url += ("&" if "?" in url else "?") + "as_of=2020-06-30"
        response = getter.get(url)
        assert response.status_code == 200, response.content[:300]

    get(small)  # warm up: sessions, content types
    assert count(lambda: get(small)) == count(lambda: get(large))
