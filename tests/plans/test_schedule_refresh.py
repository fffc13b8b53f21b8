"""The stored light and expected progress are refreshed every day by Celery beat."""

import datetime as dt

import pytest
from django_celery_beat.models import PeriodicTask

from tasks_app.models import Task
from tasks_app.plans import services
from tasks_app.plans.tasks import refresh_schedules

pytestmark = pytest.mark.django_db


def test_a_daily_beat_entry_refreshes_the_schedules():
    entry = PeriodicTask.objects.get(task="tasks_app.refresh_schedules")
    assert entry.enabled and entry.crontab.hour == "0"
    assert str(entry.crontab.timezone) == "Asia/Shanghai"


def test_the_refresh_recomputes_every_task_as_of_the_day(plan, economic_bureau, supervisor):
    task = services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="1.1.01"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    services.schedule_refresh_all(as_of=dt.date(2020, 7, 1))
    task.refresh_from_db()
    assert (task.expected_progress, task.light, task.schedule_as_of) == (
        50,
        "red",
        dt.date(2020, 7, 1),
    )
    assert refresh_schedules.apply().get() == Task.objects.count()
    task.refresh_from_db()
    assert (task.expected_progress, task.light) == (100, "red")


def test_a_milestone_added_through_a_stale_task_instance_still_lights_the_saved_task(
    plan, economic_bureau, supervisor
):
    stale = plan.tasks.get(code="1.1.02")
    services.task_assign(
        actor=supervisor,
        task=stale,
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    services.milestone_create(
        actor=supervisor, task=stale, title="一季度", due_date=dt.date(2020, 3, 31)
    )
    saved = Task.objects.get(pk=stale.pk)
    assert (saved.light, saved.expected_progress) == ("red", 100)  # long overdue by today
