"""The working-day calendar: State Council holidays, adjusted working weekends, missing years."""

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest

from tasks_app.models import CalendarDay
from tasks_app.plans.workcalendar import WorkingCalendar


@pytest.fixture
def calendar_2020(db):
    return WorkingCalendar.load(date(2020, 1, 1), date(2020, 12, 31))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_seed_stores_the_spring_festival_weekdays_as_named_holidays(db):
    festival = CalendarDay.objects.filter(date__range=(date(2020, 1, 24), date(2020, 2, 2)))
    assert {(d.date, d.kind, d.name) for d in festival} == {
        (d, "holiday", "春节") for d in days(date(2020, 1, 24), date(2020, 2, 2)) if d.weekday() < 5
    }


def test_the_seed_stores_adjusted_working_weekends_with_the_holiday_they_make_up_for(db):
    day = CalendarDay.objects.get(date=date(2020, 1, 19))
    assert (day.kind, day.name) == ("workday", "春节")


def test_the_seed_covers_every_year_the_package_knows(db):
    years = {d.year for d in CalendarDay.objects.dates("date", "year")}
    assert years == set(range(2004, 2027))


def test_the_package_extends_the_2020_spring_festival_to_february_2():
    assert chinese_calendar.get_holiday_detail(date(2020, 2, 2)) == (True, "Spring Festival")
    assert chinese_calendar.is_workday(date(2020, 2, 3))


def test_the_spring_festival_weeks_are_not_working_days(calendar_2020):
    for day in days(date(2020, 1, 24), date(2020, 2, 2)):
        assert not calendar_2020.is_working_day(day), day
    assert calendar_2020.is_working_day(date(2020, 2, 3))


def test_an_adjusted_sunday_before_the_spring_festival_is_a_working_day(calendar_2020):
    assert date(2020, 1, 19).weekday() == 6
    assert calendar_2020.is_working_day(date(2020, 1, 19))


def test_an_ordinary_saturday_is_not_a_working_day(calendar_2020):
    assert date(2020, 3, 7).weekday() == 5
    assert not calendar_2020.is_working_day(date(2020, 3, 7))
    assert calendar_2020.is_working_day(date(2020, 3, 6))


def test_adding_working_days_skips_the_spring_festival(calendar_2020):
    assert calendar_2020.add_working_days(date(2020, 1, 23), 1) == date(2020, 2, 3)
    assert calendar_2020.add_working_days(date(2020, 1, 22), 3) == date(2020, 2, 4)
    assert calendar_2020.add_working_days(date(2020, 2, 3), -1) == date(2020, 1, 23)


def test_adding_zero_working_days_returns_the_same_day(calendar_2020):
    assert calendar_2020.add_working_days(date(2020, 1, 25), 0) == date(2020, 1, 25)


def test_working_days_between_counts_the_half_open_interval(calendar_2020):
    assert calendar_2020.working_days_between(date(2020, 1, 22), date(2020, 2, 3)) == 2
    assert calendar_2020.working_days_between(date(2020, 2, 3), date(2020, 1, 22)) == -2
    assert calendar_2020.working_days_between(date(2020, 3, 2), date(2020, 3, 2)) == 0
    assert calendar_2020.working_days_between(date(2020, 3, 6), date(2020, 3, 9)) == 1


def test_adding_and_counting_agree(calendar_2020):
    start = date(2020, 1, 15)
    for n in range(1, 30):
        assert (
            calendar_2020.working_days_between(start, calendar_2020.add_working_days(start, n)) == n
        )


def test_the_next_working_day_after_new_years_eve_holidays(calendar_2020):
    assert calendar_2020.next_working_day(date(2020, 1, 25)) == date(2020, 2, 3)
    assert calendar_2020.next_working_day(date(2020, 2, 3)) == date(2020, 2, 3)
    assert calendar_2020.next_working_day(date(2020, 2, 3), include_today=False) == date(2020, 2, 4)


def test_a_date_outside_the_loaded_years_is_refused(calendar_2020):
    with pytest.raises(ValueError, match="outside the loaded working calendar"):
        calendar_2020.is_working_day(date(2021, 1, 4))
    with pytest.raises(ValueError, match="load a wider range"):
        calendar_2020.add_working_days(date(2020, 12, 30), 5)


def test_the_package_knows_nothing_about_2027():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_a_year_without_an_arrangement_falls_back_to_weekends_and_warns(db, caplog):
    with caplog.at_level(logging.WARNING, logger="gaoxin.calendar"):
        calendar = WorkingCalendar.load(date(2027, 1, 1), date(2027, 12, 31))
    warnings = [r for r in caplog.records if r.name == "gaoxin.calendar"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "2027" in warnings[0].getMessage() and "missing" in warnings[0].getMessage()
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday: New Year's Day is not known
    assert not calendar.is_working_day(date(2027, 1, 2))


def test_a_known_year_loads_without_a_warning(db, caplog):
    with caplog.at_level(logging.WARNING, logger="gaoxin.calendar"):
        WorkingCalendar.load(date(2020, 1, 1), date(2021, 6, 30))
    assert not [r for r in caplog.records if r.name == "gaoxin.calendar"]


def test_the_office_entered_arrangement_for_2027_is_honoured(db, caplog):
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦")
    CalendarDay.objects.create(date=date(2027, 2, 6), kind="workday", name="春节")
    with caplog.at_level(logging.WARNING, logger="gaoxin.calendar"):
        calendar = WorkingCalendar.load(date(2027, 1, 1), date(2027, 3, 1))
    assert not [r for r in caplog.records if r.name == "gaoxin.calendar"]
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 2, 6))


@pytest.mark.parametrize("end", [date(2020, 1, 31), date(2026, 12, 31)])
def test_loading_takes_one_query_whatever_the_range(db, django_assert_num_queries, end):
    with django_assert_num_queries(1):
        calendar = WorkingCalendar.load(date(2020, 1, 1), end)
    with django_assert_num_queries(0):
        calendar.working_days_between(date(2020, 1, 1), end)
        calendar.add_working_days(date(2020, 1, 2), 10)
