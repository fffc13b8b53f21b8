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
import functools
import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from tasks_app.common import clock
from tasks_app.models import Plan, PlanKind, TaskKind, TaskStatus
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.stats.snapshot import (
    LIGHTS,
    STATUSES,
    TaskState,
    end_of_day,
    outlines_from_rows,
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

# One statement, one row: the plans; the groups of like tasks with how many each holds; the
# whole years of the working calendar covering the plans' years, the date and every deadline,
# with their CalendarDay rows; for one plan's overview its outline and its lead departments'
# names. Under load every round trip waits for the server to be scheduled: the plan, the
# calendar and the outline were three more of them.
_IN_ONE_STATEMENT = """
WITH g AS (
  SELECT t.plan_id{by}, t.start_date,
         CASE WHEN c.task_id IS NULL THEN t.deadline  -- as it stood before a later change
              ELSE NULLIF(c.old_value, '')::date END AS deadline,
         m.dues, {state}, count(*) AS n
    FROM tasks_app_task t
    {joins}
   WHERE t.plan_id = ANY(%(plans)s) {department}
   GROUP BY {positions}  -- every column but the count
),
p AS (SELECT p.id, p.title, p.year, p.kind FROM tasks_app_plan p
       WHERE p.id = ANY(%(plans)s) {government}),
span AS (
  SELECT least(%(year)s, (SELECT min(p.year) FROM p), min(extract(year FROM g.deadline)))::int
           AS first_year,
         greatest(%(year)s, (SELECT max(p.year) FROM p), max(extract(year FROM g.deadline)))::int
           AS last_year
    FROM g
)
SELECT (SELECT json_agg(json_build_array(p.id, p.title, p.year, p.kind)) FROM p),
       (SELECT json_agg(json_build_array({columns})) FROM g),
       span.first_year, span.last_year,
       (SELECT json_agg(json_build_array(d.date, d.kind) ORDER BY d.date)
          FROM tasks_app_calendarday d
         WHERE d.date BETWEEN make_date(span.first_year, 1, 1)
                          AND make_date(span.last_year, 12, 31)),
       {outline}
  FROM span
"""
_BY_GROUP = (
    ", t.section_id, t.key_area_id, t.lead_department_id, t.kind = %(livelihood)s AS livelihood"
)
_GROUP_COLUMNS = (
    "g.plan_id, g.section_id, g.key_area_id, g.lead_department_id, g.livelihood, g.start_date,"
    " g.deadline, g.dues, g.status, g.progress, g.n"
)
_TOTAL_COLUMNS = "g.plan_id, g.start_date, g.deadline, g.dues, g.status, g.progress, g.n"
_OUTLINE = """
       (SELECT json_agg(json_build_array(s.plan_id, s.id, s.number, s.title, k.id, k.number,
                                         k.title) ORDER BY s.plan_id, s.number, k.number)
          FROM tasks_app_section s LEFT JOIN tasks_app_keyarea k ON k.section_id = s.id
         WHERE s.plan_id = ANY(%(plans)s)),
       (SELECT json_agg(json_build_array(d.id, d.name)) FROM tasks_app_department d
         WHERE d.id = ANY(ARRAY(SELECT DISTINCT g.lead_department_id FROM g)))"""
# (the departments by their index: written as IN (SELECT ...) the planner hashed the groups
# and scanned every department of the province, a tenth of the statement's time)


@dataclass
class Read:
    """What the statement read: the plans (unsaved Plan instances holding id, title, year and
    kind), the group rows, the calendar, and for one plan's overview the outline rows and the
    lead departments' names."""

    plans: dict[int, Plan]
    groups: list[tuple]
    calendar: tuple[WorkingCalendar, dict]  # and its memo of schedule answers
    outline: list
    names: dict[int, str]


def _in_one_statement(
    plan_ids: list[int], *, as_of, department_id, by_group: bool, government_ids=None
) -> Read:
    """Only the plans of government_ids (when given) are read into Read.plans. Group rows are
    (plan id, groups, livelihood kind, start, deadline, dues, status, progress, n), groups
    being (section id, key area id, lead department id) or None."""
    stored = as_of >= clock.today()
    sql = _IN_ONE_STATEMENT.format(
        by=_BY_GROUP if by_group else "",
        positions=", ".join(str(n) for n in range(1, (11 if by_group else 7))),
        state="t.status, t.progress" if stored else "a.status, a.progress",
        joins=task_state_joins(
            one_plan=len(plan_ids) == 1, accepted=not stored, department=department_id is not None
        ),
        department="AND t.lead_department_id = %(department)s" if department_id is not None else "",
        columns=_GROUP_COLUMNS if by_group else _TOTAL_COLUMNS,
        outline=_OUTLINE if by_group else "NULL, NULL",
        government="AND p.government_id = ANY(%(governments)s)"
        if government_ids is not None
        else "",
    )
    params = task_state_params(
        plan_ids=plan_ids, department_id=department_id, end=end_of_day(as_of)
    )
    params.update(livelihood=TaskKind.LIVELIHOOD, year=as_of.year, governments=government_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        plans, groups, first_year, last_year, days, outline, names = cursor.fetchone()
    return Read(
        plans={
            pk: Plan(id=pk, title=title, year=year, kind=kind)
            for pk, title, year, kind in _json(plans)
        },
        groups=[_group(row, by_group) for row in _json(groups)],
        calendar=_calendar(first_year, last_year, _json(days)),
        outline=_json(outline),
        names=dict(_json(names)),
    )


def _json(value) -> list:
    if isinstance(value, str):  # a driver that leaves json undecoded
        value = json.loads(value)
    return value or []


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _group(row: list, by_group: bool) -> tuple:
    if by_group:
        plan_id, section_id, key_area_id, lead_id, livelihood, *rest = row
        groups = (section_id, key_area_id, lead_id)
    else:
        (plan_id, *rest), groups, livelihood = row, None, False
    start, deadline, dues, status, progress, n = rest
    if status is None:  # no accepted review before the end of the date
        status, progress = TaskStatus.NOT_STARTED, 0
    dues = [dt.date.fromisoformat(due) for due in dues or ()]
    return (
        plan_id,
        groups,
        livelihood,
        _date(start),
        _date(deadline),
        dues,
        status,
        progress,
        n,
    )


def _calendar(first_year: int, last_year: int, days: list) -> tuple[WorkingCalendar, dict]:
    """WorkingCalendar.load's calendar from the rows read with the groups (when a year has no
    CalendarDay row, load itself, which warns about that year), with its memo of schedule
    answers (see snapshot.schedule_answer)."""
    exceptions = tuple((day, kind) for day, kind in days)
    if {int(day[:4]) for day, _kind in exceptions} != set(range(first_year, last_year + 1)):
        first, last = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
        return WorkingCalendar.load(first, last), {}
    return _calendar_of(first_year, last_year, exceptions)


@functools.lru_cache(maxsize=32)
def _calendar_of(first_year: int, last_year: int, exceptions: tuple) -> tuple:
    """The calendar of these years and CalendarDay rows, and its memo of schedule answers: kept
    while the rows stay the same (the key is every row), since both are pure functions of
    them; a request's rows that differ in any day get another calendar."""
    first, last = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    days = {dt.date.fromisoformat(day): kind for day, kind in exceptions}
    return WorkingCalendar(first, last, days), _BoundedMemo()


class _BoundedMemo(dict):
    """schedule_answer's memo, emptied when it grows past a limit (memory stays bounded however
    many dates and tasks are asked about)."""

    LIMIT = 50_000

    def __setitem__(self, key, value):
        if len(self) >= self.LIMIT:
            self.clear()
        super().__setitem__(key, value)


def _counted(read: Read, as_of: dt.date) -> dict[int, PlanCounts]:
    """Each plan's tallies from the group rows: the rules once per group, counted n times."""
    livelihood_plans = {pk for pk, plan in read.plans.items() if plan.kind == PlanKind.LIVELIHOOD}
    counts = defaultdict(PlanCounts)
    calendar, answers = read.calendar
    for plan_id, groups, kind_livelihood, start, deadline, dues, status, progress, n in read.groups:
        result = schedule_answer(start, deadline, dues, status, progress, as_of, calendar, answers)
        plan_counts = counts[plan_id]
        if groups is None:  # totals only
            plan_counts.totals.add(status, result.light, result.overdue, n)
            continue
        livelihood = kind_livelihood or plan_id in livelihood_plans
        plan_counts.add(groups, livelihood, status, result.light, result.overdue, n)
    return counts


def plan_overview(
    *,
    plan_id: int,
    government_ids: list[int],
    as_of: dt.date | None = None,
    department_id=None,
) -> dict | None:
    """selectors.stats_overview(plan_snapshot(plan=<the plan>, as_of=as_of,
    department_id=department_id)), counted by group, in one query; None when there is no such
    plan among the governments' plans."""
    as_of = as_of or clock.today()
    if connection.vendor != "postgresql":
        plan = Plan.objects.filter(pk=plan_id, government_id__in=government_ids).first()
        if plan is None:
            return None
        snapshot = plans_snapshot([plan], as_of=as_of, department_id=department_id)[plan.pk]
        sections, key_areas = snapshot.sections, snapshot.key_areas
        counts, departments = PlanCounts().add_states(snapshot.tasks), snapshot.departments
    else:
        read = _in_one_statement(
            [plan_id],
            as_of=as_of,
            department_id=department_id,
            by_group=True,
            government_ids=list(government_ids),
        )
        plan = read.plans.get(plan_id)
        if plan is None:
            return None
        counts = _counted(read, as_of).get(plan_id) or PlanCounts()
        departments = read.names
        used = None
        if department_id is not None:
            rows = read.groups
            used = {plan_id: ({row[1][0] for row in rows}, {row[1][1] for row in rows})}
        sections, key_areas = outlines_from_rows([plan], read.outline, used)[plan_id]
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
    in one query however many plans. With department_id, over the tasks it leads; plans
    without any tasks in scope are left out."""
    if connection.vendor != "postgresql":
        snapshots = plans_snapshot(plans, as_of=as_of, department_id=department_id, outline=False)
        counts = {
            pk: PlanCounts().add_states(snapshot.tasks)
            for pk, snapshot in snapshots.items()
            if snapshot.tasks
        }
    else:
        plan_ids = [plan.pk for plan in plans]
        read = _in_one_statement(plan_ids, as_of=as_of, department_id=department_id, by_group=False)
        counts = _counted(read, as_of)
    return {pk: plan_counts.totals.answer() for pk, plan_counts in counts.items()}
