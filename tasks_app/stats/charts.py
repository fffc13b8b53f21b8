"""What the dashboard's indicator and ranking charts draw, as plain lists (no queries): the
page hands them to ECharts (tasks_app/static/tasks_app/dashboard.js) as JSON."""

from tasks_app.models import Comparator
from tasks_app.stats.indicators import LEVELS

PACE_BARS = 10  # the indicators furthest behind their course, in the chart


def indicator_pace(row: dict) -> float | None:
    """The actual as a percentage of where the indicator should stand today (100 = on course):
    a level or count against target x the year elapsed, a growth rate against its target, a
    ceiling as target / actual, a range 100 inside it. None without an actual."""
    actual, target = row["actual"], row["target"]
    if actual is None:
        return None
    comparator = row["comparator"]
    if comparator in LEVELS:
        expected = float(target) * row["elapsed"]
        return round(float(actual) / expected * 100, 1) if expected else None
    if comparator in (Comparator.LTE, Comparator.LT):
        return round(float(target) / float(actual) * 100, 1) if actual else 100.0
    if comparator == Comparator.BETWEEN:
        high = row["target_max"] if row["target_max"] is not None else target
        if actual < target:
            return round(float(actual) / float(target) * 100, 1) if target else None
        return 100.0 if actual <= high else round(float(high) / float(actual) * 100, 1)
    return round(float(actual) / float(target) * 100, 1) if target else None


def indicator_charts(rows: list[dict]) -> dict:
    """How many indicators are met, on course, behind or unreported; and the ten furthest
    behind their course (the lowest pace first)."""
    status = {"met": 0, "on_course": 0, "behind": 0, "no_data": 0}
    for row in rows:
        if row["actual"] is None:
            status["no_data"] += 1
        elif row["met"]:
            status["met"] += 1
        elif row["on_schedule"]:
            status["on_course"] += 1
        else:
            status["behind"] += 1
    paced = [(indicator_pace(row), row) for row in rows]
    behind = sorted(
        ((pace, row) for pace, row in paced if pace is not None), key=lambda p: (p[0], p[1]["id"])
    )[:PACE_BARS]
    return {
        "status": status,
        "pace": {
            "names": [f"{row['name']}" for _pace, row in behind],
            "values": [pace for pace, _row in behind],
        },
    }


def ranking_chart(ranking: dict, labels: dict[str, str]) -> dict:
    """Each department's score (best first) in its parts, and the lists' thresholds."""
    rows = ranking["rows"]
    keys = [part["key"] for part in rows[0]["score_parts"]] if rows else []
    return {
        "departments": [row["department"] for row in rows],
        "lists": [row["list"] for row in rows],
        "scores": [row["score"] for row in rows],
        "parts": [
            {
                "name": labels[key],
                "values": [row["score_parts"][i]["points"] for row in rows],
            }
            for i, key in enumerate(keys)
        ],
        "thresholds": ranking["thresholds"],
    }
