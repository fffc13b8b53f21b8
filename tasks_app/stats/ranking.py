import datetime as dt
from collections import Counter

from django.db.models import Count, DateField, F, Q, Value
from django.db.models.functions import Coalesce, Trunc, TruncMonth

from tasks_app.models import (
    Plan,
    Review,
    StatusUpdate,
)
from tasks_app.stats.selectors import grouped, tally
from tasks_app.stats.snapshot import (
    RETURNED,
    PlanSnapshot,
    month_start,
    months_between,
    scoped_tasks,
)

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
            task__in=scoped_tasks(snapshot.plan, snapshot.department_id),
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
            update__task__in=scoped_tasks(snapshot.plan, snapshot.department_id),
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
    by_department = grouped(
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
