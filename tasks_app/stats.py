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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DateField, F, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber, Trunc, TruncMonth
from django.utils import timezone

from tasks_app import permissions
from tasks_app.errors import NotPermitted
from tasks_app.models import (
    ChangeRequest,
    Comparator,
    Indicator,
    IndicatorValue,
    KeyArea,
    Light,
    Milestone,
    Plan,
    PlanKind,
    Review,
    Section,
    StatusUpdate,
    Task,
    TaskKind,
    TaskStatus,
    chinese_numeral,
)
from tasks_app.schedule import schedule_state
from tasks_app.services import RED_MARGIN_POINTS, local_today
from tasks_app.workcalendar import WorkingCalendar

STATUSES = [s.value for s in TaskStatus]
LIGHTS = [Light.GREEN.value, Light.YELLOW.value, Light.RED.value]
ACCEPTED = Review.Decision.ACCEPTED
RETURNED = Review.Decision.RETURNED


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the site's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> int:
    """Months first..last inclusive (0 when last is before first's month)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


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
    _schedules: dict = field(default_factory=dict, repr=False)  # see _apply_schedule

    @property
    def end(self) -> dt.datetime:
        return end_of_day(self.as_of)

    @property
    def history(self) -> dict[int, list[tuple[dt.datetime, str, int]]]:
        """Per task: the accepted reviews up to as_of, oldest first: (created_at, status,
        progress). One query on first use; only the trend needs more than the latest."""
        if self._history is None:
            tasks = _scoped_tasks(self.plan, self.department_id)
            self._history = _accepted_history(tasks, self.end)
        return self._history

    def task_by_id(self) -> dict[int, TaskState]:
        return {t.id: t for t in self.tasks}


# --- Building a snapshot ---------------------------------------------------------------------


def _scoped_tasks(plan: Plan, department_id: int | None):
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
        earlier.setdefault(task_id, dt.date.fromisoformat(old_value))
    return earlier


def _task_rows(tasks) -> list[dict]:
    return list(
        tasks.order_by("plan_id", "position", "code").values(
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
            "status",
            "progress",
            "lead_department__name",
        )
    )


def _outlines(plans: list[Plan], states: dict[int, list["TaskState"]], department_id):
    """Each plan's sections and key areas in order, in one query (sections LEFT JOIN key areas);
    for a department, only those holding its tasks. {plan id: (sections, key_areas)}."""
    by_pk = {plan.pk: plan for plan in plans}
    rows = (
        Section.objects.filter(plan_id__in=list(by_pk))
        .order_by("plan_id", "number", "key_areas__number")
        .values_list(
            "plan_id",
            "id",
            "number",
            "title",
            "key_areas__id",
            "key_areas__number",
            "key_areas__title",
        )
    )
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
    if department_id is not None:
        for plan_id, (sections, key_areas) in outlines.items():
            used_sections = {s.section_id for s in states[plan_id]}
            used_areas = {s.key_area_id for s in states[plan_id]}
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
    before `end` (the later review on a tie): what _state_at picks from the whole history, one
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


def _state_at(history: list, moment: dt.datetime) -> tuple[str, int]:
    index = bisect_right([created for created, _s, _p in history], moment) - 1
    if index < 0:
        return TaskStatus.NOT_STARTED, 0
    _created, status, progress = history[index]
    return status, progress


def _calendar_for(plans: list[Plan], as_of: dt.date, states: list[TaskState]) -> WorkingCalendar:
    """One calendar covering every plan's year, the date and every deadline (whole years; a
    wider range answers the same for the days inside a narrower one)."""
    dates = [as_of]
    dates += [dt.date(plan.year, month, day) for plan in plans for month, day in ((1, 1), (12, 31))]
    dates += [t.deadline for t in states if t.deadline]
    return WorkingCalendar.load(min(dates), max(dates))


def _apply_schedule(
    state: TaskState, day: dt.date, status: str, progress: int, calendar, answers: dict
):
    """Set the task's state as of `day`. `answers` remembers schedule_state's answers for one
    calendar: a plan's tasks mostly share start, deadline and milestones, and progress takes
    few values, so most tasks ask a question already answered (it is a pure function)."""
    key = (state.start_date, state.deadline, tuple(state.milestone_dues), status, progress, day)
    result = answers.get(key)
    if result is None:
        result = answers[key] = schedule_state(
            start=state.start_date,
            deadline=state.deadline,
            milestone_dues=state.milestone_dues,
            progress=progress,
            status=status,
            as_of=day,
            calendar=calendar,
            red_margin=RED_MARGIN_POINTS,
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
    as_of = as_of or local_today()
    end = end_of_day(as_of)
    plans = list(plans)
    tasks = _tasks_of(plans, department_id)
    rows = _task_rows(tasks)
    dues = defaultdict(list)
    milestones = Milestone.objects.filter(task__in=tasks).order_by()  # sorted per task below
    for task_id, due in milestones.values_list("task_id", "due_date"):
        dues[task_id].append(due)
    earlier_deadlines = _deadlines_before_changes(tasks, end)
    stored = as_of >= local_today()
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
                status=r["status"],
                progress=r["progress"],
            )
        )
    everything = [state for plan_states in states.values() for state in plan_states]
    calendar = _calendar_for(plans, as_of, everything)
    before_any = (TaskStatus.NOT_STARTED, 0)
    answers = {}
    for state in everything:
        if stored:
            status, progress = state.status, state.progress
        else:
            status, progress = accepted.get(state.id, before_any)
        _apply_schedule(state, as_of, status, progress, calendar, answers)
    outlines = _outlines(plans, states, department_id) if outline else {}
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
            _schedules=answers,
        )
    return snapshots


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


def _grouped(states, key) -> dict:
    groups = defaultdict(list)
    for state in states:
        groups[key(state)].append(state)
    return groups


def stats_overview(snapshot: PlanSnapshot) -> dict:
    """Totals for the plan, by section, by key area, by lead department, and for livelihood."""
    states = snapshot.tasks
    by_section = _grouped(states, lambda s: s.section_id)
    by_area = _grouped(states, lambda s: s.key_area_id)
    by_department = _grouped(states, lambda s: s.lead_department_id)
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
    *, as_of: dt.date | None = None, year: int | None = None, department_id: int | None = None
) -> list[dict]:
    """Every published plan (of one year, when given) with its top-level tally as of the date,
    the same numbers as stats_overview(...)["totals"] for that plan, exceptions first (see
    _exceptions_first); in a fixed number of queries however many plans and tasks.

    With department_id, each tally covers the tasks that department leads, and plans where it
    leads none are left out (as its own per-plan overview would show only zeros)."""
    as_of = as_of or local_today()
    plans = Plan.objects.filter(status=Plan.Status.PUBLISHED).order_by("pk")
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
                "government": plan.government,
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


def stats_exceptions(snapshot: PlanSnapshot) -> list[dict]:
    """Red or overdue tasks, the most overdue first, then the furthest behind."""
    flagged = [s for s in snapshot.tasks if s.light == Light.RED or s.overdue]
    flagged.sort(key=lambda s: (not s.overdue, -s.days_overdue, -s.lag, s.code))
    reports = _latest_reports(snapshot, [s.id for s in flagged])
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
        for s in flagged
    ]


# --- Indicators ------------------------------------------------------------------------------


def _actuals_as_of(indicators, end: dt.datetime):
    latest = (
        IndicatorValue.objects.filter(
            indicator=OuterRef("pk"),
            update__reviews__decision=ACCEPTED,
            update__reviews__created_at__lt=end,
        )
        .order_by("-update__reviews__created_at", "-update_id")
        .values("value")[:1]
    )
    return indicators.annotate(actual_as_of=Subquery(latest))


def _targets_before_changes(indicators, end: dt.datetime) -> dict[int, Decimal]:
    changes = (
        ChangeRequest.objects.filter(
            indicator__in=indicators,
            field=ChangeRequest.Field.TARGET_VALUE,
            state=ChangeRequest.State.APPROVED,
            decided_at__gte=end,
        )
        .order_by("decided_at", "id")
        .values_list("indicator_id", "old_value")
    )
    earlier = {}
    for indicator_id, old_value in changes:
        earlier.setdefault(indicator_id, Decimal(old_value))
    return earlier


def year_elapsed(year: int, as_of: dt.date) -> Decimal:
    """The share of the plan year that has passed at the end of as_of, 0..1."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days = (min(max(as_of, first - dt.timedelta(days=1)), last) - first).days + 1
    return Decimal(days) / Decimal((last - first).days + 1)


def attainment(
    *,
    comparator: str,
    target: Decimal,
    target_max: Decimal | None,
    actual: Decimal | None,
    elapsed: Decimal,
) -> dict:
    """How far an actual value reaches its target, and whether it keeps pace with the year.

    - growth targets (增长 x%): `points` = actual - target (percentage points); met when actual
      >= target; on schedule when met (a growth rate is already a year-on-year pace);
    - levels and counts (≥, >, =, 约): `share` = actual / target; met when actual reaches the
      target; on schedule when actual >= target x the share of the year elapsed;
    - ceilings (≤, <): met and on schedule while actual stays within the ceiling;
    - ranges (区间): met and on schedule while actual is within [target, target_max].
    """
    result = {"share": None, "points": None, "met": None, "on_schedule": None}
    if actual is None:
        return result
    if comparator == Comparator.GROWTH:
        met = actual >= target
        result.update(points=actual - target, met=met, on_schedule=met)
    elif comparator in (Comparator.LTE, Comparator.LT):
        met = actual <= target if comparator == Comparator.LTE else actual < target
        share = (actual / target) if target else None
        result.update(share=share, met=met, on_schedule=met)
    elif comparator == Comparator.BETWEEN:
        met = target <= actual <= (target_max if target_max is not None else target)
        result.update(met=met, on_schedule=met)
    else:
        met = actual > target if comparator == Comparator.GT else actual >= target
        share = (actual / target) if target else None
        result.update(share=share, met=met, on_schedule=actual >= target * elapsed)
    if result["share"] is not None:
        result["share"] = round(float(result["share"]), 4)
    if result["points"] is not None:
        result["points"] = float(result["points"])
    return result


def stats_indicators(snapshot: PlanSnapshot) -> list[dict]:
    """Each indicator in scope: target, actual as of the date, attainment and pace."""
    indicators = Indicator.objects.filter(plan=snapshot.plan)
    if snapshot.department_id is not None:
        indicators = indicators.filter(task__lead_department_id=snapshot.department_id)
    targets = _targets_before_changes(indicators, snapshot.end)
    rows = _actuals_as_of(indicators, snapshot.end).order_by("task__position", "position", "pk")
    elapsed = year_elapsed(snapshot.plan.year, snapshot.as_of)
    result = []
    for ind in rows.values(
        "id",
        "name",
        "unit",
        "comparator",
        "target_value",
        "target_value_max",
        "latest_actual",
        "actual_as_of",
        "task_id",
        "task__code",
        "source_text",
    ):
        actual = ind["latest_actual"] if snapshot.uses_stored_state else ind["actual_as_of"]
        target = targets.get(ind["id"], ind["target_value"])
        result.append(
            {
                "id": ind["id"],
                "name": ind["name"],
                "unit": ind["unit"],
                "comparator": ind["comparator"],
                "task_id": ind["task_id"],
                "task_code": ind["task__code"],
                "source_text": ind["source_text"],
                "target": target,
                "target_max": ind["target_value_max"],
                "actual": actual,
                "elapsed": round(float(elapsed), 4),
                **attainment(
                    comparator=ind["comparator"],
                    target=target,
                    target_max=ind["target_value_max"],
                    actual=actual,
                    elapsed=elapsed,
                ),
            }
        )
    return result


# --- Reporting discipline and the ranking (红黑榜) ---------------------------------------------

# The score is out of 100: each rate (0..1) times its weight.
WEIGHTS = {
    "reporting": 25,  # reports received / reports due
    "on_time": 15,  # reports first submitted by the end of their month / reports due
    "first_pass": 10,  # 1 - returned for rework / received (not below 0)
    "completion": 25,  # tasks done / tasks led
    "lights": 25,  # (green + yellow / 2) / tasks led
}
RED_LIST_MIN_SCORE = 90  # 红榜: at or above
BLACK_LIST_BELOW_SCORE = 60  # 黑榜: below
SCORE_RULE = (
    "score = 25 x reports received/due + 15 x on time/due + 10 x (1 - returned/received) "
    "+ 25 x done/tasks + 25 x (green + yellow/2)/tasks; a rate with nothing owed counts as 1. "
    "Reports due: one per task with a lead department per month, from the month of the task's "
    "start date (else the plan's report date, else January of the plan year) through the as-of "
    "month. On time: first submitted no later than the last day of the period's month. "
    "红榜: score >= 90; 黑榜: score < 60."
)


def _report_window_start(plan: Plan, start: dt.date | None) -> dt.date:
    return month_start(start or plan.report_date or dt.date(plan.year, 1, 1))


def _reports_due(snapshot: PlanSnapshot) -> Counter:
    due = Counter()
    for state in snapshot.tasks:
        if state.lead_department_id:
            first = _report_window_start(snapshot.plan, state.start_date)
            due[state.lead_department_id] += months_between(first, snapshot.as_of)
    return due


def _reports_received(snapshot: PlanSnapshot) -> dict[int, dict]:
    """received and on_time per lead department: one aggregate query."""
    plan_first = _report_window_start(snapshot.plan, None)
    window_start = Coalesce(
        TruncMonth("task__start_date"), Value(plan_first), output_field=DateField()
    )
    submitted_month = Trunc("created_at", "month", output_field=DateField())
    rows = (
        StatusUpdate.objects.filter(
            task__in=_scoped_tasks(snapshot.plan, snapshot.department_id),
            task__lead_department__isnull=False,
            created_at__lt=snapshot.end,
            period__lte=month_start(snapshot.as_of),
            period__gte=window_start,
        )
        .annotate(submitted_month=submitted_month)
        .values("task__lead_department_id")
        .annotate(
            received=Count("pk"),
            on_time=Count("pk", filter=Q(submitted_month__lte=F("period"))),
        )
        .order_by()
    )
    return {r["task__lead_department_id"]: r for r in rows}


def _returns(snapshot: PlanSnapshot) -> dict[int, int]:
    rows = (
        Review.objects.filter(
            update__task__in=_scoped_tasks(snapshot.plan, snapshot.department_id),
            update__task__lead_department__isnull=False,
            decision=RETURNED,
            created_at__lt=snapshot.end,
        )
        .values("update__task__lead_department_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["update__task__lead_department_id"]: r["n"] for r in rows}


def _rate(numerator: float, denominator: float) -> float:
    return min(1.0, numerator / denominator) if denominator else 1.0


def _score_parts(numbers: dict) -> list[dict]:
    t = numbers["tasks"]
    parts = {
        "reporting": (numbers["reports_received"], numbers["reports_due"]),
        "on_time": (numbers["reports_on_time"], numbers["reports_due"]),
        "first_pass": (
            max(0, numbers["reports_received"] - numbers["returned"]),
            numbers["reports_received"],
        ),
        "completion": (numbers["done"], t),
        "lights": (numbers["green"] + numbers["yellow"] / 2, t),
    }
    explained = []
    for key, (numerator, denominator) in parts.items():
        rate = _rate(numerator, denominator)
        explained.append(
            {
                "key": key,
                "numerator": numerator,
                "denominator": denominator,
                "rate": round(rate, 4),
                "weight": WEIGHTS[key],
                "points": round(rate * WEIGHTS[key], 2),
            }
        )
    return explained


def stats_ranking(snapshot: PlanSnapshot) -> dict:
    """Lead departments ranked by score, each with the numbers and weights behind it."""
    due = _reports_due(snapshot)
    received = _reports_received(snapshot)
    returned = _returns(snapshot)
    by_department = _grouped(
        [s for s in snapshot.tasks if s.lead_department_id], lambda s: s.lead_department_id
    )
    rows = []
    for pk, states in by_department.items():
        counts = tally(states)
        got = received.get(pk, {})
        numbers = {
            "tasks": counts["total"],
            "done": counts["done"],
            "completion_rate": counts["completion_rate"],
            "overdue": counts["overdue"],
            "green": counts["by_light"]["green"],
            "yellow": counts["by_light"]["yellow"],
            "red": counts["by_light"]["red"],
            "reports_due": due[pk],
            "reports_received": got.get("received", 0),
            "reports_on_time": got.get("on_time", 0),
            "returned": returned.get(pk, 0),
        }
        parts = _score_parts(numbers)
        score = round(sum(p["points"] for p in parts), 1)
        rows.append(
            {
                "department_id": pk,
                "department": snapshot.departments.get(pk, ""),
                **numbers,
                "score": score,
                "score_parts": parts,
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["department"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        row["list"] = (
            "red"
            if row["score"] >= RED_LIST_MIN_SCORE
            else "black"
            if row["score"] < BLACK_LIST_BELOW_SCORE
            else None
        )
    return {"as_of": snapshot.as_of, "weights": WEIGHTS, "rule": SCORE_RULE, "rows": rows}


# --- The trend -------------------------------------------------------------------------------


def stats_trend(snapshot: PlanSnapshot) -> list[dict]:
    """Completion and lights at the end of each month of the plan year up to the as-of date."""
    year = snapshot.plan.year
    points = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        if first > snapshot.as_of:
            break
        day = min(month_end(first), snapshot.as_of)
        if day == snapshot.as_of:
            counts = tally(snapshot.tasks)
        else:
            counts = _tally_at(snapshot, day)
        points.append({"month": first.strftime("%Y-%m"), "as_of": day, **counts})
    return points


def _tally_at(snapshot: PlanSnapshot, day: dt.date) -> dict:
    moment = end_of_day(day)
    states = []
    for current in snapshot.tasks:
        past = TaskState(**{**current.__dict__})
        status, progress = _state_at(snapshot.history.get(current.id, []), moment)
        _apply_schedule(past, day, status, progress, snapshot.calendar, snapshot._schedules)
        states.append(past)
    return tally(states)


# --- The year-end summary, in the report's words --------------------------------------------

WORK_REPORT_LABELS = [
    (TaskStatus.DONE, "有力落实"),
    (TaskStatus.ONGOING, "持续推进"),
    (TaskStatus.ON_SCHEDULE, "序时推进"),
    (TaskStatus.BEHIND, "进度滞后"),
    (TaskStatus.NOT_STARTED, "尚未启动"),
]
LIVELIHOOD_LABELS = [
    (TaskStatus.DONE, "全部完成"),
    (TaskStatus.ON_SCHEDULE, "按计划推进"),
    (TaskStatus.ONGOING, "持续推进"),
    (TaskStatus.BEHIND, "进度滞后"),
    (TaskStatus.NOT_STARTED, "尚未启动"),
]


def _segments_to_text(segments: list[dict]) -> str:
    return "".join(s["text"] for s in segments)


def plan_summary(snapshot: PlanSnapshot) -> dict:
    """The report's sentence for the plan, its counts, and the task ids behind each number.

    Work reports: "7个方面150项具体工作,148项有力落实、2项持续推进" (parts joined by 、);
    livelihood plans: "十项民生实事16项具体任务,8项全部完成,8项按计划推进" (parts joined by ,).
    Edge cases: all done -> "...150项具体工作全部有力落实" / "...16项具体任务全部完成"; no tasks ->
    "7个方面尚无具体工作" / "十项民生实事尚无具体任务"; nothing at all -> "尚无具体工作" /
    "尚无民生实事". Other mixes list every non-zero status in the label order.
    `segments` carry the sentence in pieces: a piece with `link` is a number that links to its
    tasks ("sections", "all", or a status).
    """
    livelihood = snapshot.plan.kind == PlanKind.LIVELIHOOD
    filed = [s for s in snapshot.tasks if s.section_id is not None]
    statuses = Counter(s.status for s in filed)
    ids = defaultdict(list)
    for state in filed:
        ids[state.status].append(state.id)
    sections = len(snapshot.sections)
    segments = (
        _livelihood_segments(sections, filed, statuses)
        if livelihood
        else (_work_report_segments(sections, filed, statuses))
    )
    return {
        "plan": {"id": snapshot.plan.pk, "title": snapshot.plan.title, "kind": snapshot.plan.kind},
        "as_of": snapshot.as_of,
        "sentence": _segments_to_text(segments),
        "segments": segments,
        "counts": {
            "sections": sections,
            "tasks": len(filed),
            **{status: statuses[status] for status in STATUSES},
        },
        "task_ids": {"all": [s.id for s in filed], **{st: ids[st] for st in STATUSES}},
    }


def _parts(statuses: Counter, labels, separator: str) -> list[dict]:
    segments = []
    for status, label in labels:
        if statuses[status]:
            if segments:
                segments.append({"text": separator, "link": None})
            segments.append({"text": str(statuses[status]), "link": status})
            segments.append({"text": f"项{label}", "link": None})
    return segments


def _work_report_segments(sections: int, filed, statuses: Counter) -> list[dict]:
    head = [{"text": str(sections), "link": "sections"}, {"text": "个方面", "link": None}]
    if not filed:
        return (
            [*head, {"text": "尚无具体工作", "link": None}]
            if sections
            else [{"text": "尚无具体工作", "link": None}]
        )
    head += [{"text": str(len(filed)), "link": "all"}, {"text": "项具体工作", "link": None}]
    if statuses[TaskStatus.DONE] == len(filed):
        return [*head, {"text": "全部有力落实", "link": None}]
    return [*head, {"text": ",", "link": None}, *_parts(statuses, WORK_REPORT_LABELS, "、")]


def _livelihood_segments(sections: int, filed, statuses: Counter) -> list[dict]:
    if not sections:
        return [{"text": "尚无民生实事", "link": None}]
    head = [
        {
            "text": chinese_numeral(sections) if sections < 100 else str(sections),
            "link": "sections",
        },
        {"text": "项民生实事", "link": None},
    ]
    if not filed:
        return [*head, {"text": "尚无具体任务", "link": None}]
    head += [{"text": str(len(filed)), "link": "all"}, {"text": "项具体任务", "link": None}]
    if statuses[TaskStatus.DONE] == len(filed):
        return [*head, {"text": "全部完成", "link": None}]
    return [*head, {"text": ",", "link": None}, *_parts(statuses, LIVELIHOOD_LABELS, ",")]


# --- Who sees which numbers ------------------------------------------------------------------


def stats_scope(user) -> int | None:
    """None (the whole plan) for leaders, the office and auditors; a department's own id for its
    members, whose numbers then cover only the tasks it leads; NotPermitted for anyone else."""
    if user.is_authenticated and user.is_active and user.role in permissions.SEE_ALL_ROLES:
        return None
    if user.is_authenticated and user.is_active and permissions.is_department_member(user):
        return user.department_id
    raise NotPermitted()
