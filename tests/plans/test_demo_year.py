"""`make run`'s demo year: January to 2020-09-30 lived through the real services.

One test: seeding the year takes ~30 s of CPU on SQLite, so it is done once.
"""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tasks_app.common import clock
from tasks_app.models import (
    AuditEvent,
    ChangeRequest,
    Evidence,
    Instruction,
    Notification,
    Plan,
    Review,
    StatusUpdate,
    User,
)
from tasks_app.plans.demo import demo_seed
from tasks_app.plans.demo_year import demo_year_seed
from tasks_app.plans.plan_data import read_plan_file
from tasks_app.plans.services import plan_load


@pytest.fixture
def demo_plan(db, settings):
    settings.GAOXIN_TODAY = clock.DEMO_TODAY
    plan, _ = plan_load(actor=None, data=read_plan_file())
    demo_seed(plan=plan)
    demo_year_seed(plan=plan)
    return Plan.objects.get(pk=plan.pk)


def test_as_of_the_demo_date_the_plan_is_a_year_in_progress(demo_plan):
    leader = APIClient()
    leader.force_authenticate(User.objects.get(username="leader"))
    body = leader.get(f"/api/v1/stats/plans/{demo_plan.pk}/").json()
    totals, lights = body["totals"], body["totals"]["by_light"]
    assert body["as_of"] == "2020-09-30"
    assert lights["green"] > lights["yellow"] > lights["red"] > 0
    assert totals["done"] > 0
    assert Review.objects.filter(decision="returned").exists()
    assert Instruction.objects.filter(read_at__isnull=False).exists()
    answered = Instruction.objects.filter(feedback__isnull=False).distinct().count()
    assert 0 < answered < Instruction.objects.count(), "most 批示 answered with 落实反馈, not all"
    assert Evidence.objects.exists()
    assert ChangeRequest.objects.filter(state="approved").exists()

    ranking = leader.get(f"/api/v1/stats/plans/{demo_plan.pk}/ranking/").json()["rows"]
    scores = [row["score"] for row in ranking]
    assert max(scores) - min(scores) >= 20
    summary = leader.get(f"/api/v1/plans/{demo_plan.pk}/summary/").json()["sentence"]
    assert "有力落实" in summary and "进度滞后" in summary
    months = leader.get(f"/api/v1/stats/plans/{demo_plan.pk}/trend/").json()["months"]
    done_by_month = [m["done"] for m in months if m["as_of"] <= "2020-09-30"]
    assert done_by_month == sorted(done_by_month) and done_by_month[-1] == totals["done"]

    # Dated by the clock, from the first weeks of the year up to the demo date, a few late.
    first = StatusUpdate.objects.order_by("submitted_at").first()
    last = StatusUpdate.objects.order_by("submitted_at").last()
    assert first.submitted_at.date() < dt.date(2020, 3, 1)
    assert last.submitted_at.date() <= dt.date(2020, 9, 30)
    late = [u for u in StatusUpdate.objects.all() if u.submitted_at.day > 15]
    assert late, "a few reports come late"
    assert AuditEvent.objects.filter(action="status_update.returned").exists()
    waiting = StatusUpdate.objects.filter(review_state="submitted")
    assert 0 < waiting.count() < 60, "a few early reports wait in the office's queue"
    unread = Notification.objects.filter(recipient__username="supervisor", read_at__isnull=True)
    assert 0 < unread.count() < 30, "the office has read all but the last days' notices"
    assert demo_year_seed(plan=demo_plan) == 0  # a second run changes nothing
