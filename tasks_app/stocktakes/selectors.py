"""What a 调度会 pack holds, computed as of a date; read-only.

A pack in preparation is computed on every view; when the meeting is held the service stores
`pack_contents(...)` in the pack and every later view reads that (tasks_app.stocktakes.services).
Every value is JSON-ready (dates and decimals as text) so the frozen copy is the computed one.
"""

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet

from tasks_app.models import (
    ChangeRequest,
    Instruction,
    InstructionFeedback,
    Light,
    PackState,
    Plan,
    StatusUpdate,
    StocktakeDecision,
    StocktakePack,
    TaskStatus,
)
from tasks_app.plans.schedule import (
    RED_MARGIN_POINTS,
    REPORTED_BEHIND_BUT_ON_SCHEDULE,
    REPORTED_DONE_BUT_INCOMPLETE,
    REPORTED_ON_SCHEDULE_BUT_BEHIND,
    schedule_state,
)
from tasks_app.stats.indicators import stats_indicators
from tasks_app.stats.selectors import stats_exceptions
from tasks_app.stats.snapshot import PlanSnapshot, end_of_day, plan_snapshot

CHANGE_REQUEST_WORKING_DAYS = 5  # a pending change request older than this is overdue

STATUS_LABELS = dict(TaskStatus.choices)
LIGHT_LABELS = dict(Light.choices)
DISAGREEMENT_LABELS = {
    REPORTED_DONE_BUT_INCOMPLETE: "报已完成但进度不足100%",
    REPORTED_ON_SCHEDULE_BUT_BEHIND: "报序时推进但实际滞后",
    REPORTED_BEHIND_BUT_ON_SCHEDULE: "报滞后但按序时已达标",
}


def _status(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def _light(code: str) -> str:
    return str(LIGHT_LABELS.get(code, code))


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _num(value) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def pack_list(*, plan: Plan | None = None) -> QuerySet[StocktakePack]:
    packs = StocktakePack.objects.select_related("plan", "prepared_by", "held_by")
    return packs.filter(plan=plan) if plan is not None else packs


def last_held_pack(*, plan: Plan, before: StocktakePack | None = None) -> StocktakePack | None:
    packs = StocktakePack.objects.filter(plan=plan, state=PackState.HELD)
    if before is not None:
        packs = packs.exclude(pk=before.pk).filter(as_of__lte=before.as_of)
    return packs.order_by("-as_of", "-id").first()


def pack_decisions(*, pack: StocktakePack) -> list[StocktakeDecision]:
    return list(
        pack.decisions.select_related("task", "task__lead_department").prefetch_related("concerns")
    )


# --- The sections of a pack ---------------------------------------------------------------------


def _task_row(state, snapshot: PlanSnapshot, **extra) -> dict:
    return {
        "task_id": state.id,
        "code": state.code,
        "title": state.title,
        "lead_department": snapshot.departments.get(state.lead_department_id) or "",
        "deadline": _day(state.deadline),
        "status": _status(state.status),
        "progress": state.progress,
        "expected_progress": state.expected_progress,
        "light": state.light,
        "light_label": _light(state.light),
        **extra,
    }


def _previous_decisions(snapshot: PlanSnapshot, previous: StocktakePack | None) -> list[dict]:
    if previous is None:
        return []
    states = {s.id: s for s in snapshot.tasks}
    rows = []
    for decision in pack_decisions(pack=previous):
        task, state = decision.task, states.get(decision.task_id)
        received = task.received_at is not None and task.received_at < snapshot.end
        question = (
            "请牵头单位说明尚未签收的原因。"
            if not received
            else "请牵头单位汇报落实进展及下一步安排。"
        )
        if state is not None and state.status == TaskStatus.DONE:
            question = "已办结,请确认成效。"
        rows.append(
            _task_row(
                state,
                snapshot,
                received="已签收" if received else "未签收",
                concerns=[t.code for t in decision.concerns.all()],
                question=question,
            )
        )
    return rows


def _exceptions(snapshot: PlanSnapshot, previous: StocktakePack | None) -> list[dict]:
    earlier = set()
    if previous is not None and previous.contents:
        earlier = {row["task_id"] for row in previous.contents.get("exceptions", [])}
    rows = []
    for row in stats_exceptions(snapshot):
        late = row["days_late"]
        question = (
            f"已逾期{late}个工作日,何时能完成?需要协调解决什么问题?"
            if row["overdue"]
            else f"进度落后序时{row['expected_progress'] - row['progress']}个百分点,原因是什么?"
        )
        rows.append(
            {
                "task_id": row["task_id"],
                "code": row["code"],
                "title": row["title"],
                "lead_department": row["lead_department"] or "",
                "deadline": _day(row["deadline"]),
                "status": _status(row["status"]),
                "progress": row["progress"],
                "expected_progress": row["expected_progress"],
                "light": row["light"],
                "light_label": _light(row["light"]),
                "days_late": late,
                "new": row["task_id"] not in earlier,
                "question": question,
            }
        )
    return rows


def _behind(snapshot: PlanSnapshot, flagged: set[int]) -> list[dict]:
    """Behind their course but not yet an exception (red or overdue)."""
    behind = [
        s
        for s in snapshot.tasks
        if s.lag > 0 and s.id not in flagged and s.status != TaskStatus.DONE
    ]
    behind.sort(key=lambda s: (-s.lag, s.code))
    return [
        _task_row(
            s,
            snapshot,
            lag=s.lag,
            question=(
                f"进度{s.progress}%,序时应达{s.expected_progress}%,"
                f"如何在红灯({RED_MARGIN_POINTS}个百分点)前赶上?"
            ),
        )
        for s in behind
    ]


def _indicators_off_course(snapshot: PlanSnapshot) -> list[dict]:
    rows = []
    for ind in stats_indicators(snapshot):
        if ind["on_schedule"] is not False:
            continue
        rows.append(
            {
                "task_code": ind["task_code"],
                "name": ind["name"],
                "unit": ind["unit"],
                "target": _num(ind["target"]),
                "actual": _num(ind["actual"]),
                "elapsed": ind["elapsed"],
                "question": "实际值低于按时间进度应达的水平,全年目标能否实现?",
            }
        )
    return rows


def _disagreements(snapshot: PlanSnapshot) -> list[dict]:
    """Tasks whose latest self-report (accepted or not) disagrees with its computed light."""
    latest = {}
    reports = StatusUpdate.objects.filter(
        task__plan=snapshot.plan, created_at__lt=snapshot.end
    ).order_by("task_id", "-period", "-id")
    for task_id, status, progress in reports.values_list("task_id", "status", "progress"):
        latest.setdefault(task_id, (status, progress))
    rows = []
    for s in snapshot.tasks:
        if s.id not in latest:
            continue
        status, progress = latest[s.id]
        state = schedule_state(
            start=s.start_date,
            deadline=s.deadline,
            milestone_dues=s.milestone_dues,
            progress=progress,
            status=status,
            as_of=snapshot.as_of,
            calendar=snapshot.calendar,
            red_margin=RED_MARGIN_POINTS,
        )
        if state.disagreement is None:
            continue
        rows.append(
            _task_row(
                s,
                snapshot,
                reported=_status(status),
                reported_progress=progress,
                computed_light=_light(state.light),
                disagreement=DISAGREEMENT_LABELS[state.disagreement],
                question="自报状态与计算亮灯不一致,请说明实际情况。",
            )
        )
    return rows


def _instructions(snapshot: PlanSnapshot) -> list[dict]:
    answered = InstructionFeedback.objects.filter(
        instruction=OuterRef("pk"), created_at__lt=snapshot.end
    )
    unanswered = (
        Instruction.objects.filter(task__plan=snapshot.plan, created_at__lt=snapshot.end)
        .exclude(Exists(answered))
        .select_related("task", "task__lead_department", "leader")
        .order_by("created_at", "id")
    )
    return [
        {
            "task_id": i.task_id,
            "code": i.task.code,
            "lead_department": i.task.lead_department.name if i.task.lead_department else "",
            "leader": i.leader.display_name or i.leader.username,
            "text": i.text,
            "given": _day(i.created_at.date()),
            "question": "领导批示尚无落实反馈,请牵头单位汇报落实情况。",
        }
        for i in unanswered
    ]


def _change_requests(snapshot: PlanSnapshot) -> list[dict]:
    calendar = snapshot.calendar
    overdue_before = calendar.add_working_days(snapshot.as_of, -CHANGE_REQUEST_WORKING_DAYS)
    pending = (
        ChangeRequest.objects.filter(
            task__plan=snapshot.plan,
            state=ChangeRequest.State.PENDING,
            created_at__lt=end_of_day(overdue_before),
        )
        .select_related("task", "task__lead_department")
        .order_by("created_at", "id")
    )
    return [
        {
            "task_id": c.task_id,
            "code": c.task.code,
            "lead_department": c.task.lead_department.name if c.task.lead_department else "",
            "field": str(c.get_field_display()),
            "old_value": c.old_value,
            "new_value": c.new_value,
            "requested": _day(c.created_at.date()),
            "question": "变更申请超期未决,是否同意调整?",
        }
        for c in pending
    ]


def pack_contents(*, plan: Plan, as_of: dt.date, previous: StocktakePack | None = None) -> dict:
    """Everything the pack shows, as of the end of `as_of`."""
    snapshot = plan_snapshot(plan=plan, as_of=as_of)
    exceptions = _exceptions(snapshot, previous)
    sections = {
        "previous_decisions": _previous_decisions(snapshot, previous),
        "exceptions": exceptions,
        "behind": _behind(snapshot, {row["task_id"] for row in exceptions}),
        "indicators": _indicators_off_course(snapshot),
        "disagreements": _disagreements(snapshot),
        "instructions": _instructions(snapshot),
        "change_requests": _change_requests(snapshot),
    }
    counts = {name: len(rows) for name, rows in sections.items()}
    return {
        "as_of": as_of.isoformat(),
        "plan": plan.title,
        "previous": previous.title if previous else None,
        "tasks": len(snapshot.tasks),
        "counts": counts,
        **sections,
    }


def pack_view(*, pack: StocktakePack) -> dict:
    """The pack's contents: the frozen copy once held, else computed now."""
    if pack.state == PackState.HELD:
        return pack.contents
    return pack_contents(plan=pack.plan, as_of=pack.as_of, previous=pack.previous)
