"""The one report schedule (tasks_app.plans.report_schedule), on the 2020 holiday arrangement.

A plan of 2020 with the default report day, the 5th, published on 10 January. In 2020 the 5th
was a rest day in April (清明), May (劳动节), July (Sunday), September (Saturday), October (国庆)
and December (Saturday).
"""

import datetime as dt

import pytest

from tasks_app.plans.report_schedule import DueDates, NextReport, report_schedule
from tasks_app.plans.workcalendar import WorkingCalendar
from tests.reminders.reminders_support import at

D = dt.date.fromisoformat
PUBLISHED = D("2020-01-10")
MONTHLY_DUE_2020 = {
    "2020-01-01": "2020-02-05",
    "2020-02-01": "2020-03-05",
    "2020-03-01": "2020-04-07",  # 5 April is Sunday and 清明, 6 April the day off in lieu
    "2020-04-01": "2020-05-06",  # 1-5 May is the Labour Day holiday
    "2020-05-01": "2020-06-05",
    "2020-06-01": "2020-07-06",  # 5 July is a Sunday
    "2020-07-01": "2020-08-05",
    "2020-08-01": "2020-09-07",  # 5 September is a Saturday
    "2020-09-01": "2020-10-09",  # 1-8 October is the National Day holiday
    "2020-10-01": "2020-11-05",
    "2020-11-01": "2020-12-07",  # 5 December is a Saturday
    "2020-12-01": "2021-01-05",
}


@pytest.fixture
def calendar(db) -> WorkingCalendar:
    return WorkingCalendar.load(D("2020-01-01"), D("2021-12-31"))


def schedule(frequency="monthly", *, start=None, deadline=None, published=PUBLISHED, report_day=5):
    return report_schedule(
        report_frequency=frequency,
        report_day=report_day,
        year=2020,
        start_date=start and D(start),
        deadline=deadline and D(deadline),
        published=published,
    )


def dues(owed, calendar) -> dict[str, str]:
    return {str(p): str(owed.due_date(p, calendar=calendar)) for p in owed.periods()}


def test_a_monthly_task_for_the_whole_year_owes_twelve_reports_each_moved_off_rest_days(
    calendar,
):
    assert dues(schedule(start="2020-01-21", deadline="2020-12-31"), calendar) == MONTHLY_DUE_2020


def test_a_quarterly_task_owes_four_reports_due_after_each_quarter(calendar):
    owed = schedule("quarterly", start="2020-01-21", deadline="2020-12-31")
    assert dues(owed, calendar) == {
        "2020-01-01": "2020-04-07",
        "2020-04-01": "2020-07-06",
        "2020-07-01": "2020-10-09",
        "2020-10-01": "2021-01-05",
    }


def test_a_quarterly_tasks_report_for_may_counts_for_the_second_quarter(calendar):
    owed = schedule("quarterly", start="2020-01-21")
    assert owed.period_for(D("2020-05-01")) == D("2020-04-01")
    assert owed.next_period(reported=[D("2020-01-01"), D("2020-05-01")]) == D("2020-07-01")


def test_a_task_due_in_june_owes_january_to_june_and_nothing_after(calendar):
    owed = schedule(start="2020-01-21", deadline="2020-06-19")
    assert [str(p) for p in owed.periods()] == [f"2020-{m:02d}-01" for m in range(1, 7)]
    assert owed.period_for(D("2020-07-01")) is None


def test_a_task_without_a_start_date_received_in_march_owes_from_the_plans_publication():
    # Receipt (签收) is not an input: the department owed January's report all the same.
    owed = schedule(deadline="2020-12-31")
    assert owed.periods()[0] == D("2020-01-01") and len(owed.periods()) == 12


def test_a_task_starting_in_march_owes_from_march():
    assert schedule(start="2020-03-16").periods()[0] == D("2020-03-01")
    assert schedule("quarterly", start="2020-03-16").periods()[0] == D("2020-01-01")


def test_nothing_is_owed_past_the_plan_years_december_whatever_the_deadline(calendar):
    for deadline in ("2021-03-31", None):
        owed = schedule(start="2020-08-01", deadline=deadline)
        assert owed.periods()[-1] == D("2020-12-01")
    assert schedule("quarterly", start="2020-08-01", deadline="2021-06-30").periods()[-1] == D(
        "2020-10-01"
    )


def test_nothing_is_owed_before_january_of_the_plan_year_or_by_a_draft_without_a_start():
    assert schedule(start="2019-11-01").periods()[0] == D("2020-01-01")
    assert schedule(published=None).periods() == []
    assert schedule(start="2021-02-01").periods() == []


def test_a_report_day_on_an_adjusted_working_sunday_stays_put(calendar):
    # 28 June 2020 was a Sunday worked in lieu of the Dragon Boat holiday (调休上班).
    owed = schedule(start="2020-05-01", report_day=28)
    assert owed.due_date(D("2020-05-01"), calendar=calendar) == D("2020-06-28")


def test_periods_fall_due_on_their_due_day_and_not_before(calendar):
    quarterly = schedule("quarterly", start="2020-01-21")
    assert quarterly.due_as_of(D("2020-04-06"), calendar=calendar) == []
    assert quarterly.due_as_of(D("2020-04-07"), calendar=calendar) == [D("2020-01-01")]
    monthly = schedule(start="2020-01-21", deadline="2020-06-19")
    assert len(monthly.due_as_of(D("2020-06-30"), calendar=calendar)) == 5  # June's: 6 July
    assert len(monthly.due_as_of(D("2020-12-31"), calendar=calendar)) == 6


def test_a_report_first_submitted_on_the_due_day_is_on_time_and_a_day_later_is_not(calendar):
    owed = schedule(start="2020-01-21")
    march = D("2020-03-01")
    assert owed.on_time(march, first_submitted=at("2020-04-07", "23:59"), calendar=calendar)
    assert owed.on_time(march, first_submitted=at("2020-04-05"), calendar=calendar)  # a holiday
    # 00:30 on the 8th in Shanghai is still the 7th in UTC: the local date is what counts.
    assert not owed.on_time(march, first_submitted=at("2020-04-08", "00:30"), calendar=calendar)


def test_the_next_report_is_the_earliest_owed_period_without_one_and_none_when_all_are_in(
    calendar,
):
    owed = schedule(start="2020-01-21", deadline="2020-03-31")
    due = DueDates(calendar)
    assert due.next_report(owed, reported=[]) == NextReport(D("2020-01-01"), D("2020-02-05"))
    gap = due.next_report(owed, reported=[D("2020-01-01"), D("2020-03-01")])
    assert gap == NextReport(D("2020-02-01"), D("2020-03-05"))
    assert due.next_report(owed, reported=[D(f"2020-0{m}-01") for m in (1, 2, 3)]) is None


def test_a_done_task_owes_nothing_after_its_latest_report(calendar):
    owed = schedule(start="2020-01-21").closed_after(D("2020-04-01"))
    assert owed.periods()[-1] == D("2020-04-01")
    assert owed.next_period(reported=[D(f"2020-0{m}-01") for m in (1, 2, 3, 4)]) is None
    assert schedule(start="2020-01-21").closed_after(None).periods() == []
