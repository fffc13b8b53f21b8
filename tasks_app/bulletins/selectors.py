"""Reads for 督查通报: the numbers a bulletin freezes, and a plan's bulletins."""

import datetime as dt

from django.db.models import QuerySet

from tasks_app.models import Bulletin, BulletinSeries, Light, Plan, TaskStatus
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import selectors as stats
from tasks_app.stats import summary as stats_summary
from tasks_app.stats.snapshot import plan_snapshot

STATUS_LABELS = dict(TaskStatus.choices)
LIGHT_LABELS = dict(Light.choices)
LIST_LABELS = {"red": "红榜", "black": "黑榜", None: ""}


def _tally(row: dict) -> dict:
    return {
        "total": row["total"],
        "done": row["done"],
        "completion_rate": row["completion_rate"],
        "overdue": row["overdue"],
        **{light: row["by_light"][light] for light in ("green", "yellow", "red")},
    }


def _exception(row: dict) -> dict:
    latest = row["latest_report"]
    return {
        "code": row["code"],
        "title": row["title"],
        "lead_department": row["lead_department"] or "",
        "deadline": row["deadline"].isoformat() if row["deadline"] else None,
        "days_late": row["days_late"] if row["overdue"] else 0,
        "light": LIGHT_LABELS[row["light"]],
        "progress": row["progress"],
        "expected_progress": row["expected_progress"],
        "latest_period": f"{latest['period']:%Y-%m}" if latest else None,
        "latest_status": STATUS_LABELS[latest["status"]] if latest else None,
        "explanation": latest["narrative"] if latest else "",
    }


def _ranked(row: dict) -> dict:
    keys = ("rank", "department", "tasks", "done", "completion_rate", "score", "returned")
    return {
        **{key: row[key] for key in keys},
        "reports_due": row["reports_due"],
        "reports_received": row["reports_received"],
        "reports_on_time": row["reports_on_time"],
        "list": LIST_LABELS[row["list"]],
    }


def bulletin_numbers(*, plan: Plan, as_of: dt.date) -> dict:
    """What a bulletin says, as plain JSON values: the whole plan's overview by section, the red
    and overdue tasks (most overdue first), the ranking with its rule, the summary sentence."""
    snapshot = plan_snapshot(plan=plan, as_of=as_of, department_id=None)
    overview = stats.stats_overview(snapshot)
    ranking = stats_ranking.stats_ranking(snapshot)
    return {
        "plan": {"id": plan.pk, "title": plan.title, "year": plan.year},
        "as_of": as_of.isoformat(),
        "summary": stats_summary.plan_summary(snapshot)["sentence"],
        "totals": _tally(overview["totals"]),
        "by_section": [{"title": r["title"], **_tally(r)} for r in overview["by_section"]],
        "exceptions": [_exception(r) for r in stats.stats_exceptions(snapshot)],
        "ranking": {"rule": ranking["rule"], "rows": [_ranked(r) for r in ranking["rows"]]},
    }


def bulletin_series_of(plan: Plan) -> BulletinSeries:
    """The plan's numbering and signature; the defaults (unsaved) until the office sets them."""
    return BulletinSeries.objects.filter(plan=plan).first() or BulletinSeries(plan=plan)


def bulletin_list(*, plan: Plan) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(plan=plan).select_related("created_by", "issued_by")
