import datetime as dt
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from tasks_app.models import (
    ChangeRequest,
    Comparator,
    Indicator,
    IndicatorValue,
)
from tasks_app.stats.snapshot import ACCEPTED, PlanSnapshot, month_end

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


# --- Each indicator's course over the year (the dashboard's sparklines) ------------------------

LEVELS = (Comparator.GTE, Comparator.GT, Comparator.EQ, Comparator.APPROX)


def course_months(year: int, as_of: dt.date) -> list[dt.date]:
    """The first days of the plan year's months up to the as-of date."""
    return [dt.date(year, m, 1) for m in range(1, 13) if dt.date(year, m, 1) <= as_of]


def expected_at(row: dict, day: dt.date) -> float:
    """Where the indicator should stand at the end of `day`: a level or count climbs with the
    year (target x the share elapsed, as attainment's pace); a growth rate, a ceiling or a range
    is its target all year."""
    target = row["target"]
    if row["comparator"] in LEVELS:
        target = target * year_elapsed(day.year, day)
    return round(float(target), 4)


def indicator_courses(snapshot: PlanSnapshot, rows: list[dict]) -> dict[int, dict]:
    """Per indicator of `rows` (stats_indicators' answer): month by month of the plan year up to
    the date, the actual of the report accepted for that month (None when there is none) and
    the expected course at the month's end; one query however many indicators or reports."""
    months = course_months(snapshot.plan.year, snapshot.as_of)
    values = (
        IndicatorValue.objects.filter(
            indicator_id__in=[row["id"] for row in rows],
            update__reviews__decision=ACCEPTED,
            update__reviews__created_at__lt=snapshot.end,
            update__period__year=snapshot.plan.year,
        )
        .order_by("update__reviews__created_at", "update_id")
        .values_list("indicator_id", "update__period", "value")
    )
    actuals = {}
    for indicator_id, period, value in values:
        actuals[(indicator_id, period.month)] = round(float(value), 4)  # the latest wins
    courses = {}
    for row in rows:
        ends = [min(month_end(first), snapshot.as_of) for first in months]
        courses[row["id"]] = {
            "months": [f"{first:%Y-%m}" for first in months],
            "actual": [actuals.get((row["id"], first.month)) for first in months],
            "expected": [expected_at(row, day) for day in ends],
        }
    return courses
