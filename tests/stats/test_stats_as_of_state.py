"""A task's state as of a date comes from its latest accepted review before the end of that day.

The snapshot asks the database for that review alone (one row per task); the trend still walks
the whole history month by month. Both must pick the same review: the latest by review time,
whatever the period it reports on, the later review when two share a moment.
"""

import datetime as dt

import pytest

from tasks_app.models import TaskStatus
from tasks_app.stats import selectors, summary
from tasks_app.stats import snapshot as stats_snapshot
from tests.stats.stats_builders import JUNE_30, at, report

pytestmark = pytest.mark.django_db

MONTH_ENDS = [stats_snapshot.month_end(dt.date(2020, m, 1)) for m in range(1, 6)]


@pytest.fixture
def reworked(counted, clerk, tech_clerk, supervisor):
    """The hand-counted plan plus two awkward acceptances:
    T0005's March report, sent late, accepted 05-20, after its April report (accepted 04-10);
    T0001's May report accepted at the very moment of its April report (05-12 10:00)."""
    plan, t = counted
    report(
        t["T0005"],
        author=tech_clerk,
        office=supervisor,
        period=dt.date(2020, 3, 1),
        status=TaskStatus.ON_SCHEDULE,
        progress=35,
        submitted=at(2020, 5, 19),
        reviewed=at(2020, 5, 20),
    )
    report(
        t["T0001"],
        author=clerk,
        office=supervisor,
        period=dt.date(2020, 5, 1),
        status=TaskStatus.BEHIND,
        progress=45,
        submitted=at(2020, 5, 11),
        reviewed=at(2020, 5, 12),
    )
    return plan


def state_of(plan, day, code):
    snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=day)
    task = next(s for s in snapshot.tasks if s.code == code)
    return task.status, task.progress


def test_the_latest_review_wins_even_for_an_earlier_period(reworked):
    assert state_of(reworked, dt.date(2020, 4, 30), "T0005") == ("ongoing", 40)
    assert state_of(reworked, dt.date(2020, 5, 31), "T0005") == ("on_schedule", 35)


def test_of_two_reviews_at_the_same_moment_the_later_one_wins(reworked):
    assert state_of(reworked, dt.date(2020, 5, 12), "T0001") == ("behind", 45)
    assert state_of(reworked, JUNE_30, "T0001") == ("on_schedule", 50)


def test_a_report_not_yet_accepted_on_the_day_leaves_the_task_not_started(reworked):
    assert state_of(reworked, dt.date(2020, 5, 11), "T0001") == ("not_started", 0)
    assert state_of(reworked, JUNE_30, "T0004") == ("not_started", 0)  # returned, never accepted


def test_each_month_ends_numbers_equal_the_trends_point_for_that_month(reworked):
    trend = summary.stats_trend(stats_snapshot.plan_snapshot(plan=reworked, as_of=JUNE_30))
    points = {p["as_of"]: p for p in trend}
    for day in MONTH_ENDS:
        totals = selectors.stats_overview(stats_snapshot.plan_snapshot(plan=reworked, as_of=day))[
            "totals"
        ]
        assert {key: points[day][key] for key in totals} == totals, day
