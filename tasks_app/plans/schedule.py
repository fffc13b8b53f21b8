"""The computed schedule state of a task (序时进度): what the elapsed time calls for, and the light.

Pure functions over plain values; the caller loads the task, its milestones and a WorkingCalendar
covering `as_of` and the deadline.

Expected progress (0-100, rounded half up):
- no deadline: 0;
- no milestones: 0 before the start, linear by calendar days from the start (0) to the deadline
  (100), 100 on and after the deadline; without a start date it is 0 until the deadline;
- milestones due d1 <= ... <= dn: milestone i is worth 100*i/n on di, linear between the start (0)
  and d1 and between consecutive milestones; 100 on and after dn or the deadline, whichever is
  earlier (milestones due after that are ignored). Without a start date (or with d1 on or before
  it) there is no ramp to d1: 0 until then.

Status codes are TaskStatus values: not_started, on_schedule, behind, done, ongoing.
A task is finished when its status is "done" and its progress is 100. An "ongoing" task (持续推进)
has no end: it is never overdue nor due soon, and its light follows the lag alone.

State, with lag = expected - progress (negative = ahead):
- overdue: as_of is after the deadline and the task is neither finished nor ongoing;
  days_overdue counts the working days in (deadline, as_of], so it may be 0 on the weekend right
  after a Friday deadline;
- due_soon: not finished, not ongoing, not overdue, and at most `due_soon_days` working days in
  (as_of, deadline] (due today counts);
- light: green if finished; red if overdue or lag > red_margin; yellow if lag > 0 or due soon;
  green otherwise. Without a deadline: green, or yellow when the department reports "behind".
- disagreement between the department's status and the computed state, first that applies:
  "reported_done_but_incomplete" (done, progress < 100); "reported_on_schedule_but_behind"
  (on_schedule or ongoing, light red or lag > 0); "reported_behind_but_on_schedule" (behind,
  lag <= 0, not overdue; only with a deadline, since otherwise nothing is computed); else None.
"""

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from math import floor

from tasks_app.common import clock
from tasks_app.plans.workcalendar import WorkingCalendar

GREEN, YELLOW, RED = "green", "yellow", "red"
ON_SCHEDULE, BEHIND, DONE, ONGOING = "on_schedule", "behind", "done", "ongoing"

REPORTED_DONE_BUT_INCOMPLETE = "reported_done_but_incomplete"
REPORTED_ON_SCHEDULE_BUT_BEHIND = "reported_on_schedule_but_behind"
REPORTED_BEHIND_BUT_ON_SCHEDULE = "reported_behind_but_on_schedule"


@dataclass(frozen=True)
class ScheduleState:
    expected_progress: int
    lag: int
    light: str
    overdue: bool
    days_overdue: int
    due_soon: bool
    disagreement: str | None


def _round_half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def _plan_points(start, deadline, milestone_dues) -> list[tuple[date, Fraction]]:
    """(date, expected) points; expected is 0 before the first and 100 from the last on."""
    dues = sorted(milestone_dues)
    end = min(dues[-1], deadline) if dues else deadline
    count = len(dues)
    points = [(d, Fraction(100 * i, count)) for i, d in enumerate(dues, 1) if d < end]
    points.append((end, Fraction(100)))
    if start is not None and start < points[0][0]:
        points.insert(0, (start, Fraction(0)))
    return points


def expected_progress(
    *, start: date | None, deadline: date | None, milestone_dues: list[date], as_of: date
) -> int:
    if deadline is None:
        return 0
    points = _plan_points(start, deadline, milestone_dues)
    index = bisect_right([d for d, _ in points], as_of) - 1
    if index < 0:
        return 0
    if index == len(points) - 1:
        return 100
    (d0, v0), (d1, v1) = points[index], points[index + 1]
    return _round_half_up(v0 + (v1 - v0) * Fraction((as_of - d0).days, (d1 - d0).days))


def _light(*, finished: bool, overdue: bool, lag: int, due_soon: bool, red_margin: int) -> str:
    if finished:
        return GREEN
    if overdue or lag > red_margin:
        return RED
    if lag > 0 or due_soon:
        return YELLOW
    return GREEN


def _disagreement(*, status, progress, light, lag, overdue, has_deadline) -> str | None:
    if status == DONE and progress < 100:
        return REPORTED_DONE_BUT_INCOMPLETE
    if status in (ON_SCHEDULE, ONGOING) and (light == RED or lag > 0):
        return REPORTED_ON_SCHEDULE_BUT_BEHIND
    if status == BEHIND and has_deadline and lag <= 0 and not overdue:
        return REPORTED_BEHIND_BUT_ON_SCHEDULE
    return None


def schedule_state(
    *,
    start: date | None,
    deadline: date | None,
    milestone_dues: list[date],
    progress: int,
    status: str,
    as_of: date,
    calendar: WorkingCalendar,
    red_margin: int = 20,
    due_soon_days: int = 3,
) -> ScheduleState:
    expected = expected_progress(
        start=start, deadline=deadline, milestone_dues=milestone_dues, as_of=as_of
    )
    lag = expected - progress
    finished = status == DONE and progress >= 100
    tracked = deadline is not None and not finished and status != ONGOING
    overdue = tracked and as_of > deadline
    days_overdue = calendar.working_days_between(deadline, as_of) if overdue else 0
    due_soon = (
        tracked and not overdue and calendar.working_days_between(as_of, deadline) <= due_soon_days
    )
    if deadline is None:
        light = GREEN if finished or status != BEHIND else YELLOW
    else:
        light = _light(
            finished=finished, overdue=overdue, lag=lag, due_soon=due_soon, red_margin=red_margin
        )
    disagreement = _disagreement(
        status=status,
        progress=progress,
        light=light,
        lag=lag,
        overdue=overdue,
        has_deadline=deadline is not None,
    )
    return ScheduleState(expected, lag, light, overdue, days_overdue, due_soon, disagreement)


# --- Schedule state (derived, not audited: it follows from audited facts and the date) --------

RED_MARGIN_POINTS = 20  # behind expected progress by more than this many points: red


def local_today() -> dt.date:
    """Kept for callers written before the clock: the business date (tasks_app.common.clock)."""
    return clock.today()
