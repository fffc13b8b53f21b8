"""The overviews' numbers, counted by group of like tasks instead of task by task.

The overview of a plan (GET /api/v1/stats/plans/<id>/) and the province's (every published
plan's totals) only count tasks: by status, by light, overdue. On PostgreSQL one statement
groups the tasks that the schedule rules cannot tell apart -- same start, deadline as of the
date, milestones and state of record -- within what the overview counts by (the plan; for one
plan's overview also section, key area, lead department and livelihood) and says how many each
group holds. The rules (snapshot.schedule_answer, that is tasks_app.plans.schedule) then run
once per group, and each group is counted once, instead of building a TaskState per task: a
province's 14,400 tasks make about 3,600 groups. The rows of one group would have got the same
answers task by task, so the numbers are those of selectors.stats_overview over
plan_snapshot's tasks (tests/stats/test_stats_tallies.py holds the two to each other). Other
databases count plan_snapshot's tasks.
"""

import datetime as dt
from collections import defaultdict

from django.db import connection

from tasks_app.common import clock
from tasks_app.models import Plan, PlanKind, TaskKind, TaskStatus
from tasks_app.stats.snapshot import (
    LIGHTS,
    STATUSES,
    TaskState,
    calendar_for,
    end_of_day,
    plan_outlines,
    plans_snapshot,
    schedule_answer,
)
from tasks_app.stats.state_sql import task_state_joins, task_state_params

NO_LEAD = "未明确牵头单位"


class Counts:
    """One tally being counted: how many tasks, by status and light, and overdue."""

    __slots__ = ("total", "overdue", "by_status", "by_light")

    def __init__(self):
        self.total = self.overdue = 0
        self.by_status = dict.fromkeys(STATUSES, 0)
        self.by_light = dict.fromkeys(LIGHTS, 0)

    def add(self, status: str, light: str, overdue: bool, n: int) -> None:
        self.total += n
        self.by_status[status] += n
        self.by_light[light] += n
        if overdue:
            self.overdue += n

    def answer(self) -> dict:
        """Totals by status and by light, completion rate (done / total), the overdue count."""
        done = self.by_status[TaskStatus.DONE]
        return {
            "total": self.total,
            "done": done,
            "completion_rate": round(done / self.total, 4) if self.total else 0.0,
            "overdue": self.overdue,
            "by_status": dict(self.by_status),
            "by_light": dict(self.by_light),
        }


class PlanCounts:
    """One plan's tallies: the totals, by section, key area and lead department, livelihood."""

    def __init__(self):
        self.totals, self.livelihood = Counts(), Counts()
        self.sections, self.key_areas = defaultdict(Counts), defaultdict(Counts)
        self.departments = defaultdict(Counts)

    def add(self, groups: tuple, livelihood: bool, status, light, overdue, n: int) -> None:
        """groups: (section id, key area id, lead department id)."""
        section_id, key_area_id, department_id = groups
        for counts in (
            self.totals,
            self.sections[section_id],
            self.key_areas[key_area_id],
            self.departments[department_id],
        ):
            counts.add(status, light, overdue, n)
        if livelihood:
            self.livelihood.add(status, light, overdue, n)

    def add_states(self, states: list[TaskState]) -> "PlanCounts":
        for s in states:
            groups = (s.section_id, s.key_area_id, s.lead_department_id)
            self.add(groups, s.livelihood, s.status, s.light, s.overdue, 1)
        return self


def overview_answer(
    *, plan, as_of, department_id, sections, key_areas, departments: dict, counts: PlanCounts
) -> dict:
    """The overview of one plan: totals, every section and key area in order, the lead
    departments by name (tasks without one last), livelihood."""
    empty = Counts()
    named = sorted(departments.items(), key=lambda item: item[1])
    if counts.departments.get(None):
        named.append((None, NO_LEAD))
    return {
        "as_of": as_of,
        "plan": {"id": plan.pk, "title": plan.title, "year": plan.year},
        "department_id": department_id,
        "totals": counts.totals.answer(),
        "by_section": [
            {
                "id": s.pk,
                "number": s.number,
                "title": str(s),
                **counts.sections.get(s.pk, empty).answer(),
            }
            for s in sections.values()
        ],
        "by_key_area": [
            {
                "id": k.pk,
                "section_id": k.section_id,
                "title": k.title,
                **counts.key_areas.get(k.pk, empty).answer(),
            }
            for k in key_areas.values()
        ],
        "by_department": [
            {"id": pk, "name": name, **counts.departments.get(pk, empty).answer()}
            for pk, name in named
        ],
        "livelihood": counts.livelihood.answer(),
    }


# --- Counted in PostgreSQL by group ------------------------------------------------------------

# Rows: plan id, [section, key area, lead department, livelihood kind,] start, deadline, the
# deadline before a later change, milestones, status, progress, how many tasks; [the lead
# department's name, looked up once per group].
_GROUPED = """
SELECT g.*{name} FROM (
  SELECT t.plan_id{by}, t.start_date, t.deadline, c.old_value, m.dues, {state}, count(*)
    FROM tasks_app_task t
    {joins}
   WHERE t.plan_id = ANY(%(plans)s) {department}
   GROUP BY t.plan_id{by}, t.start_date, t.deadline, c.old_value, m.dues, {state}
) g
"""
_BY_GROUP = ", t.section_id, t.key_area_id, t.lead_department_id, t.kind = %(livelihood)s"
_NAME = ", (SELECT d.name FROM tasks_app_department d WHERE d.id = g.lead_department_id)"


def _grouped_rows(plans: list[Plan], *, as_of, department_id, by_group: bool) -> list[tuple]:
    """(plan id, groups, livelihood kind, start, deadline, dues, status, progress, n, name)."""
    stored = as_of >= clock.today()
    sql = _GROUPED.format(
        name=_NAME if by_group else "",
        by=_BY_GROUP if by_group else "",
        state="t.status, t.progress" if stored else "a.status, a.progress",
        joins=task_state_joins(
            one_plan=len(plans) == 1, accepted=not stored, department=department_id is not None
        ),
        department="AND t.lead_department_id = %(department)s" if department_id is not None else "",
    )
    params = task_state_params(
        plan_ids=[plan.pk for plan in plans], department_id=department_id, end=end_of_day(as_of)
    )
    params["livelihood"] = TaskKind.LIVELIHOOD
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for row in fetched:
        if by_group:
            plan_id, section_id, key_area_id, lead_id, kind_livelihood, *rest, name = row
            groups = (section_id, key_area_id, lead_id)
        else:
            (plan_id, *rest), groups, kind_livelihood, name = row, None, False, None
        start, deadline, old_deadline, dues, status, progress, n = rest
        if old_deadline is not None:
            deadline = dt.date.fromisoformat(old_deadline)
        if status is None:  # no accepted review before the end of the date
            status, progress = TaskStatus.NOT_STARTED, 0
        rows.append(
            (
                plan_id,
                groups,
                kind_livelihood,
                start,
                deadline,
                dues or [],
                status,
                progress,
                n,
                name,
            )
        )
    return rows


def _counted(plans: list[Plan], *, as_of, department_id, by_group: bool):
    """({plan id: PlanCounts}, the grouped rows) for the plans as of the date."""
    rows = _grouped_rows(plans, as_of=as_of, department_id=department_id, by_group=by_group)
    calendar = calendar_for(plans, as_of, (row[4] for row in rows))
    livelihood_plans = {plan.pk for plan in plans if plan.kind == PlanKind.LIVELIHOOD}
    counts, answers = defaultdict(PlanCounts), {}
    for plan_id, groups, kind_livelihood, start, deadline, dues, status, progress, n, _ in rows:
        result = schedule_answer(start, deadline, dues, status, progress, as_of, calendar, answers)
        plan_counts = counts[plan_id]
        if groups is None:  # totals only
            plan_counts.totals.add(status, result.light, result.overdue, n)
            continue
        livelihood = kind_livelihood or plan_id in livelihood_plans
        plan_counts.add(groups, livelihood, status, result.light, result.overdue, n)
    return counts, rows


def plan_overview(*, plan: Plan, as_of: dt.date | None = None, department_id=None) -> dict:
    """selectors.stats_overview(plan_snapshot(plan=plan, as_of=as_of,
    department_id=department_id)), counted by group: a fixed few queries."""
    as_of = as_of or clock.today()
    if connection.vendor != "postgresql":
        snapshot = plans_snapshot([plan], as_of=as_of, department_id=department_id)[plan.pk]
        sections, key_areas = snapshot.sections, snapshot.key_areas
        counts, departments = PlanCounts().add_states(snapshot.tasks), snapshot.departments
    else:
        by_plan, rows = _counted([plan], as_of=as_of, department_id=department_id, by_group=True)
        counts = by_plan[plan.pk]
        departments = {row[1][2]: row[9] for row in rows if row[1][2]}
        used = None
        if department_id is not None:
            used = {plan.pk: ({row[1][0] for row in rows}, {row[1][1] for row in rows})}
        sections, key_areas = plan_outlines([plan], used)[plan.pk]
    return overview_answer(
        plan=plan,
        as_of=as_of,
        department_id=department_id,
        sections=sections,
        key_areas=key_areas,
        departments=departments,
        counts=counts,
    )


def plans_totals(plans: list[Plan], *, as_of: dt.date, department_id=None) -> dict[int, dict]:
    """{plan id: the plan's totals as of the date}, as plan_overview's "totals" for each plan,
    in a fixed few queries however many plans. With department_id, over the tasks it leads;
    plans without any tasks in scope are left out."""
    if connection.vendor != "postgresql":
        snapshots = plans_snapshot(plans, as_of=as_of, department_id=department_id, outline=False)
        counts = {
            pk: PlanCounts().add_states(snapshot.tasks)
            for pk, snapshot in snapshots.items()
            if snapshot.tasks
        }
    else:
        counts, _rows = _counted(plans, as_of=as_of, department_id=department_id, by_group=False)
    return {pk: plan_counts.totals.answer() for pk, plan_counts in counts.items()}
