"""Reading an import draft: where its items are, what the office must still fix before
publishing, and the departments and leaders its edits may name. Nothing here writes.

Before publishing, every item (headline targets included) needs a lead department, every target
a unit, and what the assignments name must still exist. An item that re-imports a task which
already has a lead department keeps that one, so a re-import of a published plan needs no
assignments in the draft.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app.importer.drafts import draft_match, draft_tasks
from tasks_app.importer.suggestions import DepartmentMatcher
from tasks_app.models import Department, DepartmentAlias, Government, Role, User, chinese_numeral
from tasks_app.plans.tenants import default_government_id

HEADLINE = "H"  # the key of the headline targets, in place of a section number or an area
PROBLEMS_SHOWN = 20


def area_key(section: dict, area: dict) -> str:
    return f"{section['number']}.{area['number']}"


def item_places(data: dict):
    """(item, the list holding it, its index there, its area key) of every item, in order."""
    headlines = data.get("headline_targets", [])
    for index, item in enumerate(headlines):
        yield item, headlines, index, HEADLINE
    for section in data["sections"]:
        for area in section["key_areas"]:
            for index, item in enumerate(area["tasks"]):
                yield item, area["tasks"], index, area_key(section, area)


def page_of(area: str) -> str:
    """The page (section) an area key is shown on: "H" or the section number."""
    return area.split(".")[0]


@dataclass
class EditLookups:
    """The departments and leaders an assignment may name, and the suggested names' matches."""

    departments: dict[int, Department]
    leaders: dict[int, User]
    matcher: DepartmentMatcher
    government_id: int

    @classmethod
    def load(cls, *, government_id: int | None = None) -> "EditLookups":
        """Within one government (the draft's; default: the default government): a draft
        names, and is matched with, only its own government's departments and leaders."""
        government_id = government_id or default_government_id()
        departments = {
            d.pk: d for d in Department.objects.filter(government_id=government_id).order_by("name")
        }
        names = {d.name: d for d in departments.values()}
        for alias in DepartmentAlias.objects.filter(government_id=government_id):
            department = departments.get(alias.department_id)
            if department is not None:
                names.setdefault(alias.alias, department)
        leaders = User.objects.filter(
            role=Role.LEADER, is_active=True, government_id=government_id
        ).order_by("display_name")
        return cls(departments, {u.pk: u for u in leaders}, DepartmentMatcher(names), government_id)


@dataclass
class Problem:
    kind: str  # no_items, no_lead, no_unit, unknown_department, unknown_leader
    code: str
    page: str


@dataclass
class ProblemGroup:
    kind: str
    label: str
    problems: list[Problem] = field(default_factory=list)


LABELS = {
    "no_items": gettext_lazy("草稿中没有任何事项"),
    "no_lead": gettext_lazy("未指定牵头单位的事项"),
    "no_unit": gettext_lazy("目标值没有单位的事项"),
    "unknown_department": gettext_lazy("所选单位已不在系统中的事项"),
    "unknown_leader": gettext_lazy("所选责任领导已不在系统中的事项"),
}


def draft_problems(data: dict, lookups: EditLookups | None = None) -> list[ProblemGroup]:
    """What must be fixed before the draft can be published, grouped by kind; [] when none."""
    lookups = lookups or EditLookups.load()
    led = _led_by_existing_tasks(data, lookups.government_id)
    found: list[Problem] = []
    places = list(item_places(data))
    if not places:
        found.append(Problem("no_items", "", HEADLINE))
    for position, (item, _container, _index, area) in enumerate(places):
        page = page_of(area)
        assignment = item.get("assignment") or {}
        lead = assignment.get("lead_department")
        if not lead and position not in led:
            found.append(Problem("no_lead", item["code"], page))
        if any(not str(spec.get("unit") or "").strip() for spec in item.get("indicators", [])):
            found.append(Problem("no_unit", item["code"], page))
        named = [lead, *(assignment.get("co_departments") or [])]
        if any(pk and pk not in lookups.departments for pk in named):
            found.append(Problem("unknown_department", item["code"], page))
        leader = assignment.get("responsible_leader")
        if leader and leader not in lookups.leaders:
            found.append(Problem("unknown_leader", item["code"], page))
    groups: dict[str, ProblemGroup] = {}
    for problem in found:
        kind = problem.kind
        groups.setdefault(kind, ProblemGroup(kind, str(LABELS[kind]))).problems.append(problem)
    return [groups[kind] for kind in LABELS if kind in groups]


def _led_by_existing_tasks(data: dict, government_id: int) -> set[int]:
    """Positions of the items that re-import a task of the existing plan with a lead department."""
    matched, changes, plan = draft_match(data, government=Government(pk=government_id))
    if plan is None:
        return set()
    led = set(plan.tasks.filter(lead_department__isnull=False).values_list("code", flat=True))
    return {
        position
        for position, item in enumerate(draft_tasks(matched))
        if item["code"] in led and item["code"] not in changes.new
    }


def problems_message(groups: list[ProblemGroup]) -> str:
    """The problems in one sentence for a refusal: each kind with its first codes."""
    parts = []
    for group in groups:
        codes = [p.code for p in group.problems if p.code][:PROBLEMS_SHOWN]
        more = "等" if len(group.problems) > len(codes) else ""
        listed = f":{'、'.join(codes)}{more}" if codes else ""
        parts.append(f"{group.label} {len(group.problems)} 项{listed}")
    return _("草稿尚不能发布,请先补全:%(parts)s。") % {"parts": ";".join(parts)}


def draft_outline(data: dict, groups: list[ProblemGroup]) -> list[dict]:
    """The draft's pages: headline targets, then each section, with counts of items and of the
    items without a lead department."""
    unled: dict[str, int] = {}
    for group in groups:
        if group.kind == "no_lead":
            for problem in group.problems:
                unled[problem.page] = unled.get(problem.page, 0) + 1
    pages = [
        {
            "key": HEADLINE,
            "title": _("主要目标"),
            "label": _("主要目标"),
            "items": len(data.get("headline_targets", [])),
            "unled": unled.get(HEADLINE, 0),
        }
    ]
    for section in data["sections"]:
        key = str(section["number"])
        pages.append(
            {
                "key": key,
                "title": section["title"],
                "label": f"({chinese_numeral(section['number'])})",
                "items": sum(len(area["tasks"]) for area in section["key_areas"]),
                "unled": unled.get(key, 0),
            }
        )
    return pages


def key_areas(data: dict) -> list[tuple[str, str]]:
    """(area key, label) of every key area, for the move target."""
    return [
        (area_key(section, area), f"{area_key(section, area)} {area['title']}")
        for section in data["sections"]
        for area in section["key_areas"]
    ]
