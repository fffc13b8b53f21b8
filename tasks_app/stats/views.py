"""领导驾驶舱: the plan's numbers for leaders, exceptions first, with drill-down, export and print.

Same scope as the stats API (tasks_app.stats.stats_scope): leaders, the office and auditors see
the whole plan; a department's members see their own department's numbers; others get 403.
A task's history is its existing page, /workbench/tasks/<id>/ (visible to the same people).
"""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app.common import clock, permissions
from tasks_app.common.errors import NotPermitted
from tasks_app.models import Light, Plan, TaskStatus
from tasks_app.stats import charts as stats_charts
from tasks_app.stats import indicators, selectors
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot
from tasks_app.stats import summary as stats_summary
from tasks_app.stats.snapshot import AS_OF_MAX, AS_OF_MIN
from tasks_app.stats.workbook import SCORE_LABELS, dashboard_workbook

STATUS_LABELS = dict(TaskStatus.choices)
LIGHT_LABELS = dict(Light.choices)


class BadAsOf(ValueError):
    pass


def _as_of(request) -> dt.date:
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return clock.today()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadAsOf(_("统计日期格式应为 YYYY-MM-DD。")) from None
    if not AS_OF_MIN <= day <= AS_OF_MAX:
        raise BadAsOf(_("统计日期须在2000-01-01至2100-12-31之间。"))
    return day


def _scope(user) -> int | None:
    try:
        return selectors.stats_scope(user)
    except NotPermitted:
        raise PermissionDenied from None


def _snapshot(request, plan: Plan) -> stats_snapshot.PlanSnapshot:
    return stats_snapshot.plan_snapshot(
        plan=plan, as_of=_as_of(request), department_id=_scope(request.user)
    )


def _bad_as_of(request, plan: Plan, error: BadAsOf):
    context = {"plan": plan, "as_of_error": str(error), "as_of_raw": request.GET.get("as_of")}
    return render(request, "tasks_app/dashboard/bad_as_of.html", context, status=400)


@login_required
def dashboard_home(request):
    _scope(request.user)
    plans = permissions.visible_plans(request.user).select_related("government")
    plans = list(plans.order_by("-year", "title"))
    if len(plans) == 1:
        query = request.GET.urlencode()  # ?as_of= carries over
        target = reverse("dashboard-plan", kwargs={"plan_id": plans[0].pk})
        return redirect(f"{target}?{query}" if query else target)
    # Roll-up: a city's or province's plans first, then each government below it by name.
    own = request.user.government_id
    plans.sort(key=lambda p: (p.government_id != own, p.government.name))
    return render(request, "tasks_app/dashboard/home.html", {"plans": plans, "own": own})


# --- The dashboard ---------------------------------------------------------------------------


def _percent(rate: float) -> float:
    return round(rate * 100, 1)


def _short(title: str) -> str:
    """A section's title up to its first comma: "抢抓“双区驱动”机遇" for a chart's axis."""
    return title.replace("\uff0c", ",").split(",")[0]


def _charts(overview: dict, trend: list[dict], indicator_rows: list, ranking: dict | None) -> dict:
    """What the ECharts charts draw, as plain lists (no ranking when the 红黑榜 is off)."""
    charts = {
        "indicators": stats_charts.indicator_charts(indicator_rows),
        "sections": {
            "names": [_short(row["title"]) for row in overview["by_section"]],
            "titles": [row["title"] for row in overview["by_section"]],
            "rates": [_percent(row["completion_rate"]) for row in overview["by_section"]],
            "done": [row["done"] for row in overview["by_section"]],
            "totals": [row["total"] for row in overview["by_section"]],
        },
        "departments": {
            "names": [row["name"] for row in overview["by_department"]],
            "rates": [_percent(row["completion_rate"]) for row in overview["by_department"]],
            "done": [row["done"] for row in overview["by_department"]],
            "totals": [row["total"] for row in overview["by_department"]],
        },
        "lights": [
            {
                "name": LIGHT_LABELS[light],
                "key": light,
                "value": overview["totals"]["by_light"][light],
            }
            for light in stats_snapshot.LIGHTS
        ],
        "trend": {
            "months": [point["month"] for point in trend],
            "rates": [_percent(point["completion_rate"]) for point in trend],
            "green": [point["by_light"]["green"] for point in trend],
            "yellow": [point["by_light"]["yellow"] for point in trend],
            "red": [point["by_light"]["red"] for point in trend],
        },
    }
    if ranking is not None:
        charts["ranking"] = stats_charts.ranking_chart(ranking, SCORE_LABELS)
    return charts


def _summary_links(summary: dict, as_of: dt.date) -> list[dict]:
    """The sentence's pieces; numbers carry the query of the task list they link to."""
    pieces = []
    for segment in summary["segments"]:
        link = segment["link"]
        query = None
        if link == "all":
            query = f"filed=1&as_of={as_of}"
        elif link in STATUS_LABELS:
            query = f"filed=1&status={link}&as_of={as_of}"
        pieces.append({"text": segment["text"], "query": query, "anchor": link == "sections"})
    return pieces


def _ranking_rows(ranking: dict) -> list[dict]:
    for row in ranking["rows"]:
        for part in row["score_parts"]:
            part["label"] = SCORE_LABELS[part["key"]]
    return ranking["rows"]


TOP_EXCEPTIONS = 10


def dashboard_data(snapshot: stats_snapshot.PlanSnapshot, *, top_exceptions=None) -> dict:
    """Everything the dashboard, the bulletin and the export show; with top_exceptions, only
    that many exceptions are read in full (exception_count still counts them all)."""
    overview = selectors.stats_overview(snapshot)
    trend = stats_summary.stats_trend(snapshot)
    summary = stats_summary.plan_summary(snapshot)
    ranking = None
    if stats_ranking.ranking_enabled(snapshot.plan):
        ranking = stats_ranking.stats_ranking(snapshot)
    indicator_rows = indicators.stats_indicators(snapshot)
    flagged = selectors.exception_states(snapshot)
    return {
        "plan": snapshot.plan,
        "as_of": snapshot.as_of,
        "department_id": snapshot.department_id,
        "overview": overview,
        "totals": overview["totals"],
        "exceptions": selectors.exception_rows(snapshot, flagged[:top_exceptions]),
        "exception_count": len(flagged),
        "indicators": indicator_rows,
        "ranking": ranking,
        "ranking_rows": _ranking_rows(ranking) if ranking else [],
        "trend": trend,
        "summary": summary,
        "summary_pieces": _summary_links(summary, snapshot.as_of),
        "charts": _charts(overview, trend, indicator_rows, ranking),
        "status_labels": STATUS_LABELS,
        "light_labels": LIGHT_LABELS,
    }


@login_required
def plan_dashboard(request, plan_id: int):
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = _snapshot(request, plan)
    except BadAsOf as error:
        return _bad_as_of(request, plan, error)
    context = dashboard_data(snapshot, top_exceptions=TOP_EXCEPTIONS)
    courses = indicators.indicator_courses(snapshot, context["indicators"])
    for row in context["indicators"]:
        row["course"] = courses[row["id"]]
    context["today"] = clock.today()
    return render(request, "tasks_app/dashboard/plan.html", context)


# --- Every exception, with filters and pages -------------------------------------------------

EXCEPTIONS_PER_PAGE = 20
EXCEPTION_KINDS = {"overdue": gettext_lazy("逾期"), "red": gettext_lazy("红灯")}


def _exception_filters(request) -> dict:
    get = request.GET
    return {
        "kind": get.get("kind") if get.get("kind") in EXCEPTION_KINDS else None,
        "department": _int(get.get("department")),
        "section": _int(get.get("section")),
    }


def _is_listed(state: stats_snapshot.TaskState, f: dict) -> bool:
    checks = [
        f["kind"] != "overdue" or state.overdue,
        f["kind"] != "red" or state.light == Light.RED,
        f["department"] is None or state.lead_department_id == f["department"],
        f["section"] is None or state.section_id == f["section"],
    ]
    return all(checks)


@login_required
def exception_list(request, plan_id: int):
    """All red or overdue tasks, the most overdue first, 20 a page; filters by kind, lead
    department and section. Only the page's tasks have their latest report read."""
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = _snapshot(request, plan)
    except BadAsOf as error:
        return _bad_as_of(request, plan, error)
    filters = _exception_filters(request)
    states = [s for s in selectors.exception_states(snapshot) if _is_listed(s, filters)]
    page = Paginator(states, EXCEPTIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "plan": plan,
        "as_of": snapshot.as_of,
        "filters": filters,
        "kinds": EXCEPTION_KINDS,
        "page": page,
        "exceptions": selectors.exception_rows(snapshot, list(page.object_list)),
        "departments": sorted(snapshot.departments.items(), key=lambda item: item[1]),
        "sections": list(snapshot.sections.values()),
        "query": query.urlencode(),
        "status_labels": STATUS_LABELS,
        "light_labels": LIGHT_LABELS,
    }
    return render(request, "tasks_app/dashboard/exceptions.html", context)


@login_required
def dashboard_print(request, plan_id: int):
    """督查通报 for the monthly meeting: overview, exceptions, ranking, on A4."""
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = _snapshot(request, plan)
    except BadAsOf as error:
        return _bad_as_of(request, plan, error)
    return render(request, "tasks_app/dashboard/print.html", dashboard_data(snapshot))


# --- Drill-down: plan -> section -> key area -> tasks ------------------------------------------


def _int(value) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _drill_filters(request) -> dict:
    get = request.GET
    return {
        "section": _int(get.get("section")),
        "key_area": _int(get.get("key_area")),
        "department": _int(get.get("department")),
        "status": get.get("status") if get.get("status") in STATUS_LABELS else None,
        "light": get.get("light") if get.get("light") in LIGHT_LABELS else None,
        "overdue": get.get("overdue") == "1",
        "livelihood": get.get("livelihood") == "1",
        "filed": get.get("filed") == "1",
    }


def _matches(state: stats_snapshot.TaskState, f: dict) -> bool:
    checks = [
        f["section"] is None or state.section_id == f["section"],
        f["key_area"] is None or state.key_area_id == f["key_area"],
        f["department"] is None or state.lead_department_id == f["department"],
        f["status"] is None or state.status == f["status"],
        f["light"] is None or state.light == f["light"],
        not f["overdue"] or state.overdue,
        not f["livelihood"] or state.livelihood,
        not f["filed"] or state.section_id is not None,
    ]
    return all(checks)


@login_required
def task_drilldown(request, plan_id: int):
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = _snapshot(request, plan)
    except BadAsOf as error:
        return _bad_as_of(request, plan, error)
    filters = _drill_filters(request)
    section = snapshot.sections.get(filters["section"])
    key_area = snapshot.key_areas.get(filters["key_area"])
    if key_area and section is None:
        section = snapshot.sections.get(key_area.section_id)
    overview = selectors.stats_overview(snapshot)
    areas = [a for a in overview["by_key_area"] if section and a["section_id"] == section.pk]
    tasks = [s for s in snapshot.tasks if _matches(s, filters)]
    context = {
        "plan": plan,
        "as_of": snapshot.as_of,
        "section": section,
        "key_area": key_area,
        "areas": [] if key_area else areas,
        "department": snapshot.departments.get(filters["department"]),
        "filters": filters,
        "tasks": tasks,
        "totals": selectors.tally(tasks),
        "departments": snapshot.departments,
        "status_labels": STATUS_LABELS,
        "light_labels": LIGHT_LABELS,
    }
    return render(request, "tasks_app/dashboard/tasks.html", context)


# --- XLSX export (the workbook: tasks_app/stats/workbook.py) -------------------------------


@login_required
def dashboard_export(request, plan_id: int):
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = _snapshot(request, plan)
    except BadAsOf as error:
        return _bad_as_of(request, plan, error)
    content = dashboard_workbook(dashboard_data(snapshot))
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"dashboard-{plan.year}-{snapshot.as_of:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
