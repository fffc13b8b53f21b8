"""Leaders' numbers for a plan as of a date: totals, exceptions, indicators, ranking, trend,
summary.

Protocol: build one `PlanSnapshot` per request with `plan_snapshot(...)` (a fixed number of
queries, however many tasks or departments), then ask it as often as needed::

    snapshot = plan_snapshot(plan=plan, as_of=date(2020, 6, 30), department_id=None)
    stats_overview(snapshot); stats_exceptions(snapshot); plan_summary(snapshot)

Many plans at once: `plans_snapshot(plans, as_of=...)` builds every plan's snapshot in the same
fixed number of queries (plan_snapshot is plans_snapshot of one plan); `province_overview` uses
it for every published plan's totals.

Rules, stated once:
- State of record as of D: a task's status and progress are those of its update whose accepted
  review is the latest one created at or before the end of D (Asia/Shanghai); before any accepted
  review it is not_started at 0%. For D on or after today the task's stored state of record is
  used (it is what the latest acceptance wrote). Deadlines and indicator targets changed by an
  approved change request after D are taken at their value before the change. Start dates,
  milestones and lead departments are taken as they are now.
- Lights as of D: tasks_app.schedule.schedule_state over that state, with one WorkingCalendar.
- Completion rate = done / total. Livelihood tasks: the plan is a livelihood plan, or the task's
  kind is livelihood.
- Totals cover every task in scope (headline targets included); the summary sentence counts the
  tasks filed under a section (具体工作 / 民生实事 projects), as the report does.
- Scope: department_id None = the whole plan; otherwise only the tasks that department leads.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from tasks_app.common import clock
from tasks_app.models import (
    ChangeRequest,
    KeyArea,
    Light,
    Milestone,
    Plan,
    PlanKind,
    ReportFrequency,
    Review,
    Section,
    Task,
    TaskKind,
    TaskStatus,
)
from tasks_app.plans.schedule import RED_MARGIN_POINTS, schedule_state
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.stats.state_sql import STATUSES as STATUSES  # the order the API lists them in
from tasks_app.stats.state_sql import task_state_joins, task_state_params

LIGHTS = [Light.GREEN.value, Light.YELLOW.value, Light.RED.value]


ACCEPTED = Review.Decision.ACCEPTED


RETURNED = Review.Decision.RETURNED


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


@dataclass
class TaskState:
    """One task as of the snapshot's date."""

    id: int
    code: str
    title: str
    kind: str
    section_id: int | None
    key_area_id: int | None
    lead_department_id: int | None
    start_date: dt.date | None
    deadline: dt.date | None
    milestone_dues: list[dt.date]
    livelihood: bool
    report_frequency: str = ReportFrequency.MONTHLY
    status: str = TaskStatus.NOT_STARTED
    progress: int = 0
    expected_progress: int = 0
    lag: int = 0
    light: str = Light.GREEN
    overdue: bool = False
    days_overdue: int = 0


@dataclass
class PlanSnapshot:
    plan: Plan
    as_of: dt.date
    department_id: int | None
    tasks: list[TaskState]
    sections: dict[int, Section] | None  # None: not read (plans_snapshot(outline=False))
    key_areas: dict[int, KeyArea] | None
    departments: dict[int, str]
    calendar: WorkingCalendar
    uses_stored_state: bool = False
    _history: dict | None = field(default=None, repr=False)
    schedule_answers: dict = field(default_factory=dict, repr=False)  # see apply_schedule

    @property
    def end(self) -> dt.datetime:
        return end_of_day(self.as_of)

    @property
    def history(self) -> dict[int, list[tuple[dt.datetime, str, int]]]:
        """Per task: the accepted reviews up to as_of, oldest first: (created_at, status,
        progress). One query on first use; only the trend needs more than the latest."""
        if self._history is None:
            tasks = scoped_tasks(self.plan, self.department_id)
            self._history = _accepted_history(tasks, self.end)
        return self._history


# --- Building a snapshot ---------------------------------------------------------------------


def scoped_tasks(plan: Plan, department_id: int | None):
    return _tasks_of([plan], department_id)


def _tasks_of(plans: list[Plan], department_id: int | None):
    """The tasks of the plans (of one lead department's, when given) as an unevaluated query."""
    tasks = Task.objects.filter(plan_id__in=[plan.pk for plan in plans])
    if department_id is not None:
        tasks = tasks.filter(lead_department_id=department_id)
    return tasks


def _deadlines_before_changes(tasks, end: dt.datetime) -> dict[int, dt.date]:
    """Deadlines as they stood at `end`: the old value of the first later approved change."""
    changes = (
        ChangeRequest.objects.filter(
            task__in=tasks,
            field=ChangeRequest.Field.DEADLINE,
            state=ChangeRequest.State.APPROVED,
            decided_at__gte=end,
        )
        .order_by("decided_at", "id")
        .values_list("task_id", "old_value")
    )
    earlier = {}
    for task_id, old_value in changes:
        earlier.setdefault(task_id, dt.date.fromisoformat(old_value) if old_value else None)
    return earlier


# The task columns a snapshot reads: the ORM's values() and the one-pass SQL's first columns.
_TASK_FIELDS = (
    "id",
    "plan_id",
    "code",
    "title",
    "kind",
    "section_id",
    "key_area_id",
    "lead_department_id",
    "start_date",
    "deadline",
    "report_frequency",
    "status",
    "progress",
    "lead_department__name",
)


def _task_rows(tasks) -> list[dict]:
    return list(tasks.order_by("plan_id", "position", "code").values(*_TASK_FIELDS))


_OUTLINES = """
SELECT s.plan_id, s.id, s.number, s.title, k.id, k.number, k.title
  FROM tasks_app_section s LEFT JOIN tasks_app_keyarea k ON k.section_id = s.id
 WHERE s.plan_id IN ({plans})
 ORDER BY s.plan_id, s.number, k.number
"""


def plan_outlines(plans: list[Plan], used: dict[int, tuple[set, set]] | None = None):
    """Each plan's sections and key areas in order, in one query (sections LEFT JOIN key areas):
    {plan id: (sections, key_areas)}. With `used` ({plan id: (section ids, key area ids)}, for a
    department's numbers), only the sections and key areas named there."""
    by_pk = {plan.pk: plan for plan in plans}
    rows = []
    if by_pk:  # plain SQL: the ORM took longer to write the statement than the server to run it
        with connection.cursor() as cursor:
            cursor.execute(_OUTLINES.format(plans=", ".join(["%s"] * len(by_pk))), list(by_pk))
            rows = cursor.fetchall()
    return outlines_from_rows(plans, rows, used)


def outlines_from_rows(plans: list[Plan], rows, used: dict[int, tuple[set, set]] | None = None):
    """plan_outlines from rows already read: (plan id, section id, number, title, key area id,
    number, title), in order."""
    by_pk = {plan.pk: plan for plan in plans}
    outlines = {pk: ({}, {}) for pk in by_pk}
    for plan_id, section_id, number, title, area_id, area_number, area_title in rows:
        sections, key_areas = outlines[plan_id]
        if section_id not in sections:
            sections[section_id] = Section(
                id=section_id, plan=by_pk[plan_id], number=number, title=title
            )
        if area_id is not None:
            key_areas[area_id] = KeyArea(
                id=area_id, section=sections[section_id], number=area_number, title=area_title
            )
    if used is not None:
        for plan_id, (sections, key_areas) in outlines.items():
            used_sections, used_areas = used.get(plan_id, (set(), set()))
            outlines[plan_id] = (
                {pk: s for pk, s in sections.items() if pk in used_sections},
                {pk: k for pk, k in key_areas.items() if pk in used_areas},
            )
    return outlines


def _accepted_history(tasks, end: dt.datetime) -> dict[int, list]:
    rows = (
        Review.objects.filter(update__task__in=tasks, decision=ACCEPTED, created_at__lt=end)
        .order_by("created_at", "id")
        .values_list("update__task_id", "created_at", "update__status", "update__progress")
    )
    history = defaultdict(list)
    for task_id, created_at, status, progress in rows:
        history[task_id].append((created_at, status, progress))
    return history


def _accepted_states(tasks, end: dt.datetime) -> dict[int, tuple[str, int]]:
    """Per task: the status and progress of the update whose accepted review is the latest one
    before `end` (the later review on a tie): what state_at picks from the whole history, one
    row per task instead of every review. A window over one join, not a subquery per task: the
    planner may answer each of those by scanning all reviews when the table is small."""
    latest_first = Window(
        RowNumber(),
        partition_by=F("update__task_id"),
        order_by=[F("created_at").desc(), F("id").desc()],
    )
    rows = (
        Review.objects.filter(update__task__in=tasks, decision=ACCEPTED, created_at__lt=end)
        .order_by()
        .annotate(newest=latest_first)
        .filter(newest=1)
        .values_list("update__task_id", "update__status", "update__progress")
    )
    return {task_id: (status, progress) for task_id, status, progress in rows}


# On PostgreSQL the tasks come with their milestones, their deadline before later changes and
# (for a past date) their latest accepted state in one statement: the same answers as
# _task_rows, _deadlines_before_changes and _accepted_states, in one round trip instead of four
# (the round trips, not the work, were most of a plan's overview on a busy server).
_TASKS_WITH_STATE = """
SELECT t.id, t.plan_id, t.code, t.title, t.kind, t.section_id, t.key_area_id,
       t.lead_department_id, t.start_date, t.deadline, t.report_frequency, t.status, t.progress,
       d.name, c.old_value, m.dues, a.status, a.progress
  FROM tasks_app_task t LEFT JOIN tasks_app_department d ON d.id = t.lead_department_id
  {joins}
 WHERE t.plan_id = ANY(%(plans)s) {department}
 ORDER BY t.plan_id, t.position, t.code
"""


def _task_rows_with_state(plans: list[Plan], department_id, end, *, accepted: bool):
    """(rows as _task_rows gives them, dues by task, earlier deadlines, accepted states)."""
    sql = _TASKS_WITH_STATE.format(
        joins=task_state_joins(
            one_plan=len(plans) == 1, accepted=accepted, department=department_id is not None
        ),
        department="AND t.lead_department_id = %(department)s" if department_id is not None else "",
    )
    params = task_state_params(
        plan_ids=[plan.pk for plan in plans], department_id=department_id, end=end
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows, dues, earlier, states = [], defaultdict(list), {}, {}
    for row in fetched:
        task = dict(zip(_TASK_FIELDS, row[: len(_TASK_FIELDS)], strict=True))
        rows.append(task)
        old_deadline, task_dues, status, progress = row[len(_TASK_FIELDS) :]
        if old_deadline is not None:
            earlier[task["id"]] = dt.date.fromisoformat(old_deadline) if old_deadline else None
        if task_dues:
            dues[task["id"]] = task_dues
        if status is not None:
            states[task["id"]] = (status, progress)
    return rows, dues, earlier, states


def state_at(history: list, moment: dt.datetime) -> tuple[str, int]:
    index = bisect_right([created for created, _s, _p in history], moment) - 1
    if index < 0:
        return TaskStatus.NOT_STARTED, 0
    _created, status, progress = history[index]
    return status, progress


def calendar_for(plans: list[Plan], as_of: dt.date, deadlines) -> WorkingCalendar:
    """One calendar covering every plan's year, the date and every deadline (whole years; a
    wider range answers the same for the days inside a narrower one)."""
    dates = [as_of]
    dates += [dt.date(plan.year, month, day) for plan in plans for month, day in ((1, 1), (12, 31))]
    dates += [deadline for deadline in deadlines if deadline]
    return WorkingCalendar.load(min(dates), max(dates))


def schedule_answer(
    start,
    deadline,
    milestone_dues: list[dt.date],
    status: str,
    progress: int,
    day,
    calendar,
    answers: dict,
):
    """schedule_state's answer for these inputs as of `day`. `answers` remembers its answers for
    one calendar: a plan's tasks mostly share start, deadline and milestones, and progress takes
    few values, so most tasks ask a question already answered (it is a pure function)."""
    key = (start, deadline, tuple(milestone_dues), status, progress, day)
    result = answers.get(key)
    if result is None:
        result = answers[key] = schedule_state(
            start=start,
            deadline=deadline,
            milestone_dues=milestone_dues,
            progress=progress,
            status=status,
            as_of=day,
            calendar=calendar,
            red_margin=RED_MARGIN_POINTS,
        )
    return result


def apply_schedule(
    state: TaskState, day: dt.date, status: str, progress: int, calendar, answers: dict
):
    """Set the task's state as of `day` (answers: see schedule_answer)."""
    result = schedule_answer(
        state.start_date,
        state.deadline,
        state.milestone_dues,
        status,
        progress,
        day,
        calendar,
        answers,
    )
    state.status, state.progress = status, progress
    state.expected_progress, state.lag, state.light = (
        result.expected_progress,
        result.lag,
        result.light,
    )
    state.overdue, state.days_overdue = result.overdue, result.days_overdue


def plan_snapshot(
    *, plan: Plan, as_of: dt.date | None = None, department_id: int | None = None
) -> PlanSnapshot:
    """Every task of the plan (or of one lead department) as of a date, in a fixed few queries."""
    return plans_snapshot([plan], as_of=as_of, department_id=department_id)[plan.pk]


def plans_snapshot(
    plans: list[Plan],
    *,
    as_of: dt.date | None = None,
    department_id: int | None = None,
    outline: bool = True,
) -> dict[int, PlanSnapshot]:
    """plan_snapshot for many plans at once, in the same fixed few queries however many plans:
    {plan id: snapshot}, each the same as plan_snapshot's for that plan. The snapshots share one
    working calendar (covering all their years) and one memo of schedule answers.

    outline=False leaves the sections and key areas unread (sections and key_areas are None):
    for callers that only tally the tasks, such as the province's overview.
    """
    as_of = as_of or clock.today()
    end = end_of_day(as_of)
    plans = list(plans)
    tasks = _tasks_of(plans, department_id)
    stored = as_of >= clock.today()
    if connection.vendor == "postgresql":
        rows, dues, earlier_deadlines, accepted = _task_rows_with_state(
            plans, department_id, end, accepted=not stored
        )
    else:
        rows = _task_rows(tasks)
        dues = defaultdict(list)
        milestones = Milestone.objects.filter(task__in=tasks).order_by()  # sorted per task below
        for task_id, due in milestones.values_list("task_id", "due_date"):
            dues[task_id].append(due)
        earlier_deadlines = _deadlines_before_changes(tasks, end)
        accepted = {} if stored else _accepted_states(tasks, end)
    livelihood_plans = {plan.pk for plan in plans if plan.kind == PlanKind.LIVELIHOOD}
    states = defaultdict(list)
    for r in rows:
        states[r["plan_id"]].append(
            TaskState(
                id=r["id"],
                code=r["code"],
                title=r["title"],
                kind=r["kind"],
                section_id=r["section_id"],
                key_area_id=r["key_area_id"],
                lead_department_id=r["lead_department_id"],
                start_date=r["start_date"],
                deadline=earlier_deadlines.get(r["id"], r["deadline"]),
                milestone_dues=sorted(dues[r["id"]]),
                livelihood=r["plan_id"] in livelihood_plans or r["kind"] == TaskKind.LIVELIHOOD,
                report_frequency=r["report_frequency"],
                status=r["status"],
                progress=r["progress"],
            )
        )
    everything = [state for plan_states in states.values() for state in plan_states]
    calendar = calendar_for(plans, as_of, (t.deadline for t in everything))
    before_any = (TaskStatus.NOT_STARTED, 0)
    answers = {}
    for state in everything:
        if stored:
            status, progress = state.status, state.progress
        else:
            status, progress = accepted.get(state.id, before_any)
        apply_schedule(state, as_of, status, progress, calendar, answers)
    used = None
    if department_id is not None:
        used = {
            pk: ({s.section_id for s in tasks}, {s.key_area_id for s in tasks})
            for pk, tasks in states.items()
        }
    outlines = plan_outlines(plans, used) if outline else {}
    departments = defaultdict(dict)
    for r in rows:
        if r["lead_department_id"]:
            departments[r["plan_id"]][r["lead_department_id"]] = r["lead_department__name"]
    snapshots = {}
    for plan in plans:
        sections, key_areas = outlines.get(plan.pk, (None, None))
        snapshots[plan.pk] = PlanSnapshot(
            plan=plan,
            as_of=as_of,
            department_id=department_id,
            tasks=states[plan.pk],
            sections=sections,
            key_areas=key_areas,
            departments=departments[plan.pk],
            calendar=calendar,
            uses_stored_state=stored,
            schedule_answers=answers,
        )
    return snapshots


AS_OF_MIN, AS_OF_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
