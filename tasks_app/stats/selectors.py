import datetime as dt
from collections import defaultdict

from tasks_app.common import clock, permissions
from tasks_app.common.errors import NotPermitted
from tasks_app.models import (
    Light,
    Plan,
    StatusUpdate,
)
from tasks_app.stats.snapshot import PlanSnapshot, TaskState
from tasks_app.stats.tallies import Counts, PlanCounts, overview_answer, plans_totals

# --- Totals ----------------------------------------------------------------------------------


def tally(states: list[TaskState]) -> dict:
    """Totals by status and by light, completion rate (done / total) and the overdue count."""
    counts = Counts()
    for s in states:
        counts.add(s.status, s.light, s.overdue, 1)
    return counts.answer()


def grouped(states, key) -> dict:
    groups = defaultdict(list)
    for state in states:
        groups[key(state)].append(state)
    return groups


def stats_overview(snapshot: PlanSnapshot) -> dict:
    """Totals for the plan, by section, by key area, by lead department, and for livelihood
    (the API counts the same by group of like tasks: tallies.plan_overview)."""
    return overview_answer(
        plan=snapshot.plan,
        as_of=snapshot.as_of,
        department_id=snapshot.department_id,
        sections=snapshot.sections,
        key_areas=snapshot.key_areas,
        departments=snapshot.departments,
        counts=PlanCounts().add_states(snapshot.tasks),
    )


# --- The province: every plan's totals at once ------------------------------------------------


def _exceptions_first(row: dict) -> tuple:
    """The largest share of red lights first, then the lowest completion rate, then the most
    overdue tasks; ties by government, title and id."""
    red_share = row["by_light"][Light.RED] / row["total"] if row["total"] else 0.0
    return (-red_share, row["completion_rate"], -row["overdue"], row["government"], row["title"])


def province_overview(
    *,
    government_ids: list[int],
    as_of: dt.date | None = None,
    year: int | None = None,
    department_id: int | None = None,
) -> list[dict]:
    """Every published plan (of one year, when given) with its top-level tally as of the date,
    the same numbers as stats_overview(...)["totals"] for that plan, exceptions first (see
    _exceptions_first); in a fixed number of queries however many plans and tasks.

    With department_id, each tally covers the tasks that department leads, and plans where it
    leads none are left out (as its own per-plan overview would show only zeros)."""
    as_of = as_of or clock.today()
    empty = Counts().answer()
    plans = (
        Plan.objects.filter(status=Plan.Status.PUBLISHED, government_id__in=government_ids)
        .select_related("government")
        .order_by("pk")
    )
    if year is not None:
        plans = plans.filter(year=year)
    plans = list(plans)
    totals = plans_totals(plans, as_of=as_of, department_id=department_id)
    rows = []
    for plan in plans:
        if plan.pk not in totals and department_id is not None:
            continue
        rows.append(
            {
                "id": plan.pk,
                "title": plan.title,
                "government": plan.government.name,
                "government_id": plan.government_id,
                "government_level": plan.government.level,
                "year": plan.year,
                **totals.get(plan.pk, empty),
            }
        )
    rows.sort(key=lambda row: (*_exceptions_first(row), row["id"]))
    return rows


# --- Exceptions first --------------------------------------------------------------------------


def _latest_reports(snapshot: PlanSnapshot, task_ids: list[int]) -> dict[int, dict]:
    rows = (
        StatusUpdate.objects.filter(task_id__in=task_ids, created_at__lt=snapshot.end)
        .order_by("task_id", "-period", "-id")
        .values(
            "task_id",
            "id",
            "period",
            "status",
            "progress",
            "narrative",
            "review_state",
            "submitted_at",
        )
    )
    latest = {}
    for row in rows:
        latest.setdefault(row.pop("task_id"), row)
    return latest


def exception_states(snapshot: PlanSnapshot) -> list[TaskState]:
    """Red or overdue tasks, the most overdue first, then the furthest behind (no query)."""
    flagged = [s for s in snapshot.tasks if s.light == Light.RED or s.overdue]
    flagged.sort(key=lambda s: (not s.overdue, -s.days_overdue, -s.lag, s.code))
    return flagged


def exception_rows(snapshot: PlanSnapshot, states: list[TaskState]) -> list[dict]:
    """The rows of these exceptions with each task's latest report; one query for any number
    (a page of the list, the dashboard's top ten or all of them)."""
    reports = _latest_reports(snapshot, [s.id for s in states])
    return [
        {
            "task_id": s.id,
            "code": s.code,
            "title": s.title,
            "section_id": s.section_id,
            "key_area_id": s.key_area_id,
            "lead_department_id": s.lead_department_id,
            "lead_department": snapshot.departments.get(s.lead_department_id),
            "deadline": s.deadline,
            "status": s.status,
            "progress": s.progress,
            "expected_progress": s.expected_progress,
            "light": s.light,
            "overdue": s.overdue,
            "days_late": s.days_overdue,
            "latest_report": reports.get(s.id),
        }
        for s in states
    ]


def stats_exceptions(snapshot: PlanSnapshot) -> list[dict]:
    """Red or overdue tasks, the most overdue first, then the furthest behind."""
    return exception_rows(snapshot, exception_states(snapshot))


# --- Who sees which numbers ------------------------------------------------------------------


def stats_scope(user) -> int | None:
    """None (the whole plan) for leaders, the office and auditors; a department's own id for its
    members, whose numbers then cover only the tasks it leads; NotPermitted for anyone else."""
    if user.is_authenticated and user.is_active and user.role in permissions.SEE_ALL_ROLES:
        return None
    if user.is_authenticated and user.is_active and permissions.is_department_member(user):
        return user.department_id
    raise NotPermitted()
