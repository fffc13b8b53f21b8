import datetime as dt
from collections import Counter, defaultdict

from tasks_app.models import (
    PlanKind,
    TaskStatus,
    chinese_numeral,
)
from tasks_app.stats.selectors import tally
from tasks_app.stats.snapshot import (
    STATUSES,
    PlanSnapshot,
    TaskState,
    apply_schedule,
    end_of_day,
    month_end,
    state_at,
)

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
        status, progress = state_at(snapshot.history.get(current.id, []), moment)
        apply_schedule(past, day, status, progress, snapshot.calendar, snapshot.schedule_answers)
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
