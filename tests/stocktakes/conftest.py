"""A published plan counted by hand (tests/stats/stats_builders.py) for the review routine."""

import datetime as dt

import pytest
from django.utils import timezone

from tasks_app.models import Department, Plan, User
from tests.stats.stats_builders import counted_plan

DEMO_DAY = dt.date(2020, 9, 30)


@pytest.fixture
def demo_day(settings):
    settings.GAOXIN_TODAY = DEMO_DAY.isoformat()
    return DEMO_DAY


@pytest.fixture
def published(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor):
    """The counted plan, published in January; the 经济发展局's contact is its clerk."""
    plan, tasks = counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)
    published_at = timezone.make_aware(dt.datetime(2020, 1, 21, 10))
    Plan.objects.filter(pk=plan.pk).update(status="published", published_at=published_at)
    User.objects.filter(pk=clerk.pk).update(email="clerk@example.gov.cn")
    Department.objects.filter(pk=economic_bureau.pk).update(contact_person=clerk)
    plan.refresh_from_db()
    return plan, tasks
