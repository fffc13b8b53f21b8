"""The office's confidence ratings and their track record; read-only.

Outcome: a task whose deadline has passed (as of the date) was delivered on time when a report
saying 已完成 that the office accepted was first submitted on or before its deadline (the
deadline as it stands now). Only ratings given on or before the deadline are scored.

Each level stands for a probability of on-time delivery (CONFIDENCE_PROBABILITY: 高 0.9, 较高 0.7,
中 0.5, 较低 0.3, 低 0.1); the Brier score is the mean of (probability - outcome)², outcome 1 when
delivered on time, else 0: 0 is perfect, 0.25 is what always saying 中 earns, lower is better.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Min

from tasks_app.models import (
    CONFIDENCE_PROBABILITY,
    Confidence,
    ConfidenceRating,
    ReviewState,
    StatusUpdate,
    Task,
    TaskStatus,
)
from tasks_app.plans.report_schedule import local_date

CONFIDENT = (Confidence.HIGH, Confidence.FAIRLY_HIGH)
LEVEL_LABELS = dict(Confidence.choices)


def delivered_dates(task_ids) -> dict[int, dt.date]:
    """When each task was first reported done in a report the office accepted."""
    rows = (
        StatusUpdate.objects.filter(
            task_id__in=task_ids, status=TaskStatus.DONE, review_state=ReviewState.ACCEPTED
        )
        .values("task_id")
        .annotate(first=Min("created_at"))
        .order_by()
    )
    return {row["task_id"]: local_date(row["first"]) for row in rows}


def scored_ratings(*, as_of: dt.date) -> list[dict]:
    """Every rating of a task whose deadline passed before as_of, with its outcome."""
    ratings = list(
        ConfidenceRating.objects.filter(task__deadline__lt=as_of)
        .select_related("task", "task__lead_department", "rater")
        .order_by("task_id", "quarter", "rater_id")
    )
    delivered = delivered_dates({r.task_id for r in ratings})
    scored = []
    for r in ratings:
        deadline = r.task.deadline
        if local_date(r.created_at) > deadline:
            continue
        done = delivered.get(r.task_id)
        on_time = done is not None and done <= deadline
        p = CONFIDENCE_PROBABILITY[r.level]
        scored.append(
            {
                "rating": r,
                "on_time": on_time,
                "probability": p,
                "brier": (p - (1.0 if on_time else 0.0)) ** 2,
            }
        )
    return scored


def _summary(name: str, rows: list[dict]) -> dict:
    confident = [row for row in rows if row["rating"].level in CONFIDENT]
    kept = sum(row["on_time"] for row in confident)
    return {
        "name": name,
        "scored": len(rows),
        "confident": len(confident),
        "confident_on_time": kept,
        "confident_share": round(kept / len(confident), 3) if confident else None,
        "brier": round(sum(row["brier"] for row in rows) / len(rows), 3),
    }


def calibration(*, as_of: dt.date) -> dict:
    """Per rater and per lead department, the best calibrated (lowest Brier score) first."""
    scored = scored_ratings(as_of=as_of)
    by_rater, by_department = defaultdict(list), defaultdict(list)
    for row in scored:
        rater, department = row["rating"].rater, row["rating"].task.lead_department
        by_rater[rater.display_name or rater.username].append(row)
        by_department[department.name if department else "—"].append(row)

    def ranked(groups):
        rows = [_summary(name, items) for name, items in groups.items()]
        return sorted(rows, key=lambda r: (r["brier"], r["name"]))

    return {"raters": ranked(by_rater), "departments": ranked(by_department), "scored": scored}


def latest_ratings(task_ids) -> dict[int, ConfidenceRating]:
    """Each task's most recent rating (any rater)."""
    latest = {}
    ratings = ConfidenceRating.objects.filter(task_id__in=list(task_ids)).select_related("rater")
    for r in ratings.order_by("task_id", "-quarter", "-updated_at", "-id"):
        latest.setdefault(r.task_id, r)
    return latest


def task_ratings(*, task: Task) -> list[ConfidenceRating]:
    return list(task.confidence_ratings.select_related("rater").order_by("-quarter", "rater_id"))
