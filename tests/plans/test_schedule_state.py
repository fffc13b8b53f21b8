"""序时进度: the expected progress, the light and the disagreement with the reported status."""

from datetime import date

import pytest

from tasks_app.plans.schedule import ScheduleState, expected_progress, schedule_state
from tasks_app.plans.workcalendar import WorkingCalendar

YEAR_START, YEAR_END = date(2020, 1, 1), date(2020, 12, 31)


@pytest.fixture
def calendar(db):
    return WorkingCalendar.load(YEAR_START, YEAR_END)


def state(calendar, **overrides) -> ScheduleState:
    values = dict(
        start=YEAR_START,
        deadline=YEAR_END,
        milestone_dues=[],
        progress=50,
        status="on_schedule",
        as_of=date(2020, 7, 1),
        calendar=calendar,
    )
    values.update(overrides)
    return schedule_state(**values)


def expected(as_of, *, start=YEAR_START, deadline=YEAR_END, milestone_dues=()):
    return expected_progress(
        start=start, deadline=deadline, milestone_dues=list(milestone_dues), as_of=as_of
    )


def test_expected_progress_is_linear_in_calendar_days():
    assert expected(date(2020, 7, 1)) == 50  # 182 of 365 days
    assert expected(date(2020, 4, 1)) == 25  # 91 of 365 days: 24.9


def test_expected_progress_rounds_half_up():
    assert expected(date(2020, 1, 2), start=date(2020, 1, 1), deadline=date(2020, 1, 9)) == 13


def test_expected_progress_is_zero_before_the_start():
    assert expected(date(2020, 3, 1), start=date(2020, 4, 1)) == 0
    assert expected(date(2020, 4, 1), start=date(2020, 4, 1)) == 0


def test_expected_progress_is_full_on_and_after_the_deadline():
    assert expected(YEAR_END) == 100
    assert expected(date(2021, 2, 1)) == 100


def test_expected_progress_follows_the_milestones():
    dues = [date(2020, 12, 1), date(2020, 3, 31), date(2020, 6, 30)]  # any order
    assert expected(date(2020, 3, 31), milestone_dues=dues) == 33
    assert expected(date(2020, 6, 30), milestone_dues=dues) == 67
    assert expected(date(2020, 5, 15), milestone_dues=dues) == 50  # half way from 3-31 to 6-30
    assert expected(date(2020, 2, 15), milestone_dues=dues) == 17  # half way from start to 3-31


def test_expected_progress_is_full_at_the_last_milestone_before_the_deadline():
    dues = [date(2020, 6, 30), date(2020, 9, 30)]
    assert expected(date(2020, 9, 30), milestone_dues=dues) == 100
    assert expected(date(2020, 10, 15), milestone_dues=dues) == 100


def test_expected_progress_is_full_at_a_deadline_before_the_last_milestone():
    dues = [date(2020, 3, 31), date(2021, 3, 31)]
    assert expected(date(2020, 12, 31), milestone_dues=dues) == 100


def test_without_a_deadline_nothing_is_expected():
    assert expected(date(2020, 7, 1), deadline=None) == 0


def test_a_done_task_is_green_even_after_its_deadline(calendar):
    result = state(calendar, progress=100, status="done", as_of=date(2020, 12, 31))
    assert result.light == "green"
    assert not result.overdue
    assert result.disagreement is None


def test_a_task_on_schedule_is_green(calendar):
    result = state(calendar, progress=50)
    assert (result.expected_progress, result.lag, result.light) == (50, 0, "green")
    assert result.disagreement is None


def test_a_task_ahead_of_schedule_has_a_negative_lag(calendar):
    assert state(calendar, progress=70).lag == -20


def test_a_task_behind_by_10_points_is_yellow(calendar):
    result = state(calendar, progress=40, status="behind")
    assert (result.lag, result.light) == (10, "yellow")
    assert result.disagreement is None


def test_a_task_behind_by_25_points_is_red_with_a_margin_of_20(calendar):
    result = state(calendar, progress=25, status="behind")
    assert (result.lag, result.light) == (25, "red")
    assert state(calendar, progress=25, status="behind", red_margin=30).light == "yellow"


def test_an_overdue_task_is_red_and_counts_working_days_overdue(calendar):
    result = state(
        calendar,
        start=date(2020, 1, 2),
        deadline=date(2020, 1, 22),
        progress=100,
        status="on_schedule",
        as_of=date(2020, 2, 4),
    )
    assert result.overdue
    assert result.light == "red"
    assert result.days_overdue == 3  # Jan 23, Feb 3, Feb 4: the Spring Festival does not count
    assert not result.due_soon


def test_a_task_due_within_three_working_days_is_yellow_even_on_schedule(calendar):
    # Twelve calendar days away, but only Jan 23 and Feb 3 are working days.
    result = state(
        calendar,
        start=date(2020, 1, 2),
        deadline=date(2020, 2, 3),
        progress=65,
        as_of=date(2020, 1, 22),
    )
    assert result.lag <= 0
    assert result.due_soon
    assert result.light == "yellow"


def test_a_task_four_working_days_from_its_deadline_is_not_due_soon(calendar):
    # Friday to Thursday: Mon, Tue, Wed, Thu.
    result = state(
        calendar,
        start=date(2020, 3, 2),
        deadline=date(2020, 3, 12),
        progress=60,
        as_of=date(2020, 3, 6),
    )
    assert not result.due_soon
    assert result.light == "green"


def test_a_task_due_across_a_weekend_is_due_soon(calendar):
    # Thursday to the following Tuesday: Fri, Mon, Tue.
    result = state(
        calendar,
        start=date(2020, 3, 2),
        deadline=date(2020, 3, 10),
        progress=90,
        as_of=date(2020, 3, 5),
    )
    assert result.due_soon
    assert result.light == "yellow"


def test_a_department_reporting_on_schedule_while_behind_disagrees(calendar):
    assert state(calendar, progress=45).disagreement == "reported_on_schedule_but_behind"
    assert (
        state(calendar, progress=45, status="ongoing").disagreement
        == "reported_on_schedule_but_behind"
    )


def test_a_department_reporting_behind_while_on_schedule_disagrees(calendar):
    assert state(calendar, progress=60, status="behind").disagreement == (
        "reported_behind_but_on_schedule"
    )


def test_a_department_reporting_done_below_100_disagrees(calendar):
    result = state(calendar, progress=80, status="done")
    assert result.disagreement == "reported_done_but_incomplete"
    # Not finished, so judged like any other task: past its deadline it is overdue.
    late = state(calendar, progress=80, status="done", deadline=date(2020, 6, 30))
    assert (late.overdue, late.light) == (True, "red")
    assert state(calendar, progress=100, status="done").disagreement is None


def test_an_ongoing_task_is_never_overdue(calendar):
    result = state(
        calendar,
        progress=100,
        status="ongoing",
        as_of=date(2020, 12, 31),
        deadline=date(2020, 6, 30),
    )
    assert not result.overdue and not result.due_soon
    assert result.light == "green"


def test_a_task_without_a_deadline_is_green_unless_reported_behind(calendar):
    result = state(calendar, deadline=None, progress=10)
    assert result == ScheduleState(0, -10, "green", False, 0, False, None)
    behind = state(calendar, deadline=None, progress=10, status="behind")
    assert (behind.light, behind.disagreement) == ("yellow", None)
