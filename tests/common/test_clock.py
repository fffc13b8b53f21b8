"""The business clock: one today for schedules, lights, reminders and the leaders' numbers."""

import datetime as dt

import pytest
from django.utils import timezone

from tasks_app.common import clock
from tasks_app.plans import schedule


def test_without_a_fixed_date_the_clock_follows_the_real_local_date(settings):
    settings.GAOXIN_TODAY = None
    assert clock.today() == timezone.localdate()
    assert abs((clock.now() - timezone.now()).total_seconds()) < 5


def test_a_fixed_date_sets_today_and_keeps_the_real_time_of_day(settings):
    settings.GAOXIN_TODAY = dt.date(2020, 9, 30)
    moment = timezone.localtime(clock.now())
    real = timezone.localtime()
    assert clock.today() == dt.date(2020, 9, 30)
    assert moment.date() == dt.date(2020, 9, 30) and moment.tzinfo is not None
    assert abs(moment.hour * 60 + moment.minute - (real.hour * 60 + real.minute)) <= 1


def test_the_date_may_be_given_as_text_like_the_environment_gives_it(settings):
    settings.GAOXIN_TODAY = "2020-06-30"
    assert clock.today() == dt.date(2020, 6, 30)


def test_travelling_moves_now_and_today_inside_the_block_only(settings):
    settings.GAOXIN_TODAY = dt.date(2020, 9, 30)
    with clock.travel_to(dt.date(2020, 3, 4)) as moment:
        assert clock.today() == dt.date(2020, 3, 4)
        assert clock.now() == moment and timezone.localtime(moment).hour == 10
    assert clock.today() == dt.date(2020, 9, 30)


def test_the_schedule_module_asks_the_clock_for_today(settings):
    settings.GAOXIN_TODAY = dt.date(2020, 2, 29)
    assert schedule.local_today() == dt.date(2020, 2, 29)


def test_a_bad_environment_value_stops_start_up_naming_the_variable(monkeypatch):
    from gaoxin.env import ConfigurationError, env_date

    monkeypatch.setenv("GAOXIN_TODAY", "2020-13-01")
    with pytest.raises(ConfigurationError, match="GAOXIN_TODAY"):
        env_date("GAOXIN_TODAY")
    monkeypatch.setenv("GAOXIN_TODAY", "2020-09-30")
    assert env_date("GAOXIN_TODAY") == dt.date(2020, 9, 30)


def test_the_leaders_numbers_default_to_the_clocks_today(settings, counted, leader):
    from rest_framework.test import APIClient

    plan, _tasks = counted
    client = APIClient()
    client.force_authenticate(leader)
    settings.GAOXIN_TODAY = "2020-06-30"
    implicit = client.get(f"/api/v1/stats/plans/{plan.pk}/").json()
    explicit = client.get(f"/api/v1/stats/plans/{plan.pk}/?as_of=2020-06-30").json()
    assert implicit["as_of"] == "2020-06-30"
    assert implicit == explicit


def test_a_report_submitted_on_a_simulated_day_carries_that_day(settings, plan, clerk):
    from tasks_app.plans import services as plan_services
    from tasks_app.reporting import services as reporting

    task = plan.tasks.filter(section__isnull=False).first()
    task = plan_services.task_assign(actor=None, task=task, lead_department=clerk.department)
    with clock.travel_to(timezone.make_aware(dt.datetime(2020, 4, 3, 9, 30))):
        update = reporting.status_update_submit(
            actor=clerk,
            task=task,
            period=dt.date(2020, 3, 1),
            status="on_schedule",
            progress=20,
            narrative="三月进展",
        )
    assert timezone.localtime(update.submitted_at).date() == dt.date(2020, 4, 3)
    assert timezone.localtime(update.created_at).date() == dt.date(2020, 4, 3)
