"""Acceptance: the reminders, the ranking, the workbench and the progress-log export agree on the
reports each task owes, their due dates and whether each came in on time (issue 12, point 3).

The 2020 plan is published on 10 January with the report day, the 5th. Three departments lead
the same three tasks each:

- a quarterly task from 2 January, due 2021-03-31 (owes the four quarters of 2020, no more);
- a monthly task from 2 January, due 2020-06-30 (owes January to June);
- a monthly task without a start date or deadline, received (签收) in March (owes every month
  of 2020 from the plan's publication: receipt moves nothing).

经济发展局 (the punctual department) reports every period on its due day; 住房和建设局 (the late
department) every period one working day after it; 科技创新和产业发展局 (the silent department)
never. Everything is looked at on Monday 2020-12-28.
"""

import csv
import datetime as dt
import io

import pytest
from rest_framework.test import APIClient

from tasks_app.models import Department, Plan, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.reminders import due as reminders_due
from tasks_app.reminders import window
from tasks_app.reporting import selectors as reporting_selectors
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot
from tests.reminders.reminders_support import at, publish

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
TODAY = D("2020-12-28")
MONTHLY = {  # period -> due day: the 5th of the next month, moved off rest days
    "2020-01-01": "2020-02-05",
    "2020-02-01": "2020-03-05",
    "2020-03-01": "2020-04-07",
    "2020-04-01": "2020-05-06",
    "2020-05-01": "2020-06-05",
    "2020-06-01": "2020-07-06",
    "2020-07-01": "2020-08-05",
    "2020-08-01": "2020-09-07",
    "2020-09-01": "2020-10-09",
    "2020-10-01": "2020-11-05",
    "2020-11-01": "2020-12-07",
    "2020-12-01": "2021-01-05",
}
OWED = {
    "quarterly": {
        "2020-01-01": "2020-04-07",
        "2020-04-01": "2020-07-06",
        "2020-07-01": "2020-10-09",
        "2020-10-01": "2021-01-05",
    },
    "june": {p: due for p, due in MONTHLY.items() if p <= "2020-06-01"},
    "received in march": MONTHLY,
}
TASKS = {  # kind -> (report_frequency, start_date, deadline)
    "quarterly": ("quarterly", D("2020-01-02"), D("2021-03-31")),
    "june": ("monthly", D("2020-01-02"), D("2020-06-30")),
    "received in march": ("monthly", None, None),
}


def due_by_today(kind: str) -> dict[str, str]:
    return {p: due for p, due in OWED[kind].items() if D(due) <= TODAY}


@pytest.fixture
def housing(db) -> Department:
    return plans_services.department_create(actor=None, name="住房和建设局")


@pytest.fixture
def published(plan) -> Plan:
    return publish(plan, "2020-01-10")


@pytest.fixture
def tasks(published, economic_bureau, housing, tech_bureau, clerk) -> dict[str, dict[str, Task]]:
    """{department role: {task kind: task}}, with the punctual and late reports filed."""
    spare = iter(published.tasks.filter(kind=Task.Kind.WORK_ITEM).order_by("code"))
    departments = {"punctual": economic_bureau, "late": housing, "silent": tech_bureau}
    made = {}
    for role, department in departments.items():
        made[role] = {}
        for kind, (frequency, start, deadline) in TASKS.items():
            task = next(spare)
            Task.objects.filter(pk=task.pk).update(
                lead_department=department,
                report_frequency=frequency,
                start_date=start,
                deadline=deadline,
                received_at=at("2020-03-16") if kind == "received in march" else at("2020-01-13"),
            )
            task.refresh_from_db()
            made[role][kind] = task
    for role, days_late in (("punctual", 0), ("late", 1)):
        for kind, task in made[role].items():
            for period, due in due_by_today(kind).items():
                _file(task, clerk, D(period), _working_days_after(D(due), days_late))
    return made


def _working_days_after(day: dt.date, n: int) -> dt.date:
    return window.calendar_around(day).add_working_days(day, n)


def _file(task: Task, author, period: dt.date, submitted: dt.date) -> None:
    """A report first submitted on `submitted` (straight into the table: the services would
    date it today), left waiting for review so that no state of record changes."""
    update = StatusUpdate.objects.create(
        task=task,
        period=period,
        status="on_schedule",
        progress=10,
        narrative="按序时推进。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
        author=author,
    )
    moment = at(str(submitted), "10:00")
    StatusUpdate.objects.filter(pk=update.pk).update(created_at=moment, submitted_at=moment)


def test_the_reminders_chase_exactly_the_owed_periods_without_a_report_on_their_due_days(tasks):
    items = reminders_due.due_items(today=TODAY, calendar=window.calendar_around(TODAY))
    chased = {(i.task_id, i.item, str(i.due)) for i in items if i.item.startswith("report:")}
    # The sweep looks back 120 days, to 2020-08-30 (August; for a quarterly task the third
    # quarter), and ahead 45, to 2021-02-11.
    assert TODAY - dt.timedelta(days=reminders_due.REPORT_LOOKBACK_DAYS) == D("2020-08-30")
    assert TODAY + dt.timedelta(days=reminders_due.LOOKAHEAD_DAYS) == D("2021-02-11")
    first = {"quarterly": "2020-07-01", "june": "2020-08-01", "received in march": "2020-08-01"}
    expected = set()
    for role, by_kind in tasks.items():
        for kind, task in by_kind.items():
            reported = set() if role == "silent" else set(due_by_today(kind))
            expected |= {
                (task.pk, f"report:{period}", due)
                for period, due in OWED[kind].items()
                if first[kind] <= period and due <= "2021-02-11" and period not in reported
            }
    assert chased == expected
    silent = tasks["silent"]["received in march"].pk
    # Not 2021-01, due 2021-02-05 inside the horizon: the task owes nothing past the plan year.
    assert {item for task_id, item, _due in chased if task_id == silent} == {
        f"report:2020-{m:02d}-01" for m in range(8, 13)
    }


def test_the_ranking_counts_the_same_periods_due_and_judges_on_time_by_the_same_days(tasks):
    snapshot = stats_snapshot.plan_snapshot(plan=tasks["punctual"]["june"].plan, as_of=TODAY)
    rows = {r["department"]: r for r in stats_ranking.stats_ranking(snapshot)["rows"]}
    owed = sum(len(due_by_today(kind)) for kind in TASKS)  # 3 quarters + 6 + 11 months
    assert owed == 20

    def numbers(name):
        r = rows[name]
        return (r["reports_due"], r["reports_received"], r["reports_on_time"], r["returned"])

    assert numbers("经济发展局") == (20, 20, 20, 0)
    assert numbers("住房和建设局") == (20, 20, 0, 0)
    assert numbers("科技创新和产业发展局") == (20, 0, 0, 0)


def test_a_department_reporting_every_period_on_its_due_day_ranks_above_one_that_never_reports(
    tasks,
):
    snapshot = stats_snapshot.plan_snapshot(plan=tasks["punctual"]["june"].plan, as_of=TODAY)
    rows = stats_ranking.stats_ranking(snapshot)["rows"]
    assert [r["department"] for r in rows] == ["经济发展局", "住房和建设局", "科技创新和产业发展局"]
    punctual, late, silent = rows
    # Same tasks, same lights and completion: only reporting discipline tells them apart.
    assert punctual["score"] - silent["score"] == 50.0  # 25 received + 15 on time + 10 first pass
    assert punctual["score"] - late["score"] == 15.0  # on time only


def _shown(next_report) -> tuple[str, str] | None:
    return next_report and (str(next_report.period), str(next_report.due))


def test_the_workbench_offers_the_earliest_owed_period_without_a_report_and_its_due_day(
    tasks, clerk, client
):
    loaded = {
        role: {kind: Task.objects.select_related("plan").get(pk=t.pk) for kind, t in by.items()}
        for role, by in tasks.items()
    }
    for role, by_kind in loaded.items():
        next_reports = reporting_selectors.workbench_next_reports(tasks=list(by_kind.values()))
        shown = {kind: _shown(next_reports[task.pk]) for kind, task in by_kind.items()}
        if role == "silent":
            assert shown == {kind: next(iter(OWED[kind].items())) for kind in TASKS}
        else:  # every period due so far is in: the fourth quarter, nothing, December
            assert shown == {
                "quarterly": ("2020-10-01", "2021-01-05"),
                "june": None,
                "received in march": ("2020-12-01", "2021-01-05"),
            }
    client.force_login(clerk)
    page = client.get(f"/workbench/tasks/{tasks['punctual']['quarterly'].pk}/")
    assert '2020-10 <span class="meta">2021-01-05前</span>' in page.content.decode()
    assert page.context["report_form"]["period"].value() == "2020-10"


def test_the_progress_log_gives_each_report_its_periods_due_day_and_on_time_status(
    tasks, supervisor
):
    api = APIClient()
    api.force_authenticate(supervisor)
    response = api.get("/api/v1/audit/progress-log/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(body, newline="")))
    assert header[-2:] == ["应报日期", "按时报送"]
    by_code = {t.code: (role, kind) for role, by in tasks.items() for kind, t in by.items()}
    exported = {(by_code[r[2]], r[5], r[-2], r[-1]) for r in rows}
    expected = {
        ((role, kind), period[:7], due, "按时" if role == "punctual" else "逾期")
        for role in ("punctual", "late")
        for kind in TASKS
        for period, due in due_by_today(kind).items()
    }
    assert exported == expected and len(rows) == 40
