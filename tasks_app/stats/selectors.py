import datetime as dt
from collections import Counter, defaultdict

from tasks_app.common import clock, permissions
from tasks_app.common.errors import NotPermitted
from tasks_app.models import (
    Light,
    Plan,
    StatusUpdate,
    TaskStatus,
)
from tasks_app.stats.snapshot import LIGHTS, STATUSES, PlanSnapshot, TaskState, plans_snapshot

# --- Totals ----------------------------------------------------------------------------------


def tally(states: list[TaskState]) -> dict:
    """Totals by status and by light, completion rate (done / total) and the overdue count."""
    statuses = Counter(s.status for s in states)
    lights = Counter(s.light for s in states)
    total = len(states)
    done = statuses[TaskStatus.DONE]
    return {
        "total": total,
        "done": done,
        "completion_rate": round(done / total, 4) if total else 0.0,
        "overdue": sum(1 for s in states if s.overdue),
        "by_status": {status: statuses[status] for status in STATUSES},
        "by_light": {light: lights[light] for light in LIGHTS},
    }


def grouped(states, key) -> dict:
    groups = defaultdict(list)
    for state in states:
        groups[key(state)].append(state)
    return groups


def stats_overview(snapshot: PlanSnapshot) -> dict:
    """Totals for the plan, by section, by key area, by lead department, and for livelihood."""
    states = snapshot.tasks
    by_section = grouped(states, lambda s: s.section_id)
    by_area = grouped(states, lambda s: s.key_area_id)
    by_department = grouped(states, lambda s: s.lead_department_id)
    departments = sorted(snapshot.departments.items(), key=lambda item: item[1])
    if by_department.get(None):
        departments.append((None, "未明确牵头单位"))
    return {
        "as_of": snapshot.as_of,
        "plan": {"id": snapshot.plan.pk, "title": snapshot.plan.title, "year": snapshot.plan.year},
        "department_id": snapshot.department_id,
        "totals": tally(states),
        "by_section": [
            {"id": s.pk, "number": s.number, "title": str(s), **tally(by_section.get(s.pk, []))}
            for s in snapshot.sections.values()
        ],
        "by_key_area": [
            {
                "id": k.pk,
                "section_id": k.section_id,
                "title": k.title,
                **tally(by_area.get(k.pk, [])),
            }
            for k in snapshot.key_areas.values()
        ],
        "by_department": [
            {"id": pk, "name": name, **tally(by_department.get(pk, []))} for pk, name in departments
        ],
        "livelihood": tally([s for s in states if s.livelihood]),
    }


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
    plans = (
        Plan.objects.filter(status=Plan.Status.PUBLISHED, government_id__in=government_ids)
        .select_related("government")
        .order_by("pk")
    )
    if year is not None:
        plans = plans.filter(year=year)
    snapshots = plans_snapshot(list(plans), as_of=as_of, department_id=department_id, outline=False)
    rows = []
    for snapshot in snapshots.values():
        if department_id is not None and not snapshot.tasks:
            continue
        plan = snapshot.plan
        rows.append(
            {
                "id": plan.pk,
                "title": plan.title,
                "government": plan.government.name,
                "government_id": plan.government_id,
                "government_level": plan.government.level,
                "year": plan.year,
                **tally(snapshot.tasks),
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
