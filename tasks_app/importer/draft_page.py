"""What the draft page shows: one page (the headline targets or one section) of a draft, with
each item's assignment, suggestions and problems, and the problems of the whole draft.

Reads only; the page's forms post edits to importer/draft_edits.py.
"""

from tasks_app.importer import breakdown
from tasks_app.importer.draft_checks import (
    HEADLINE,
    EditLookups,
    area_key,
    draft_outline,
    draft_problems,
    key_areas,
)
from tasks_app.importer.drafts import draft_counts, draft_match
from tasks_app.models import Comparator, ImportDraft


def draft_page(draft: ImportDraft, *, page: str = "", edit: str = "") -> dict:
    """The template context of one page of the draft; edit: the code of the item opened for
    editing."""
    data = draft.data
    lookups = EditLookups.load(government_id=draft.government_id)
    groups = draft_problems(data, lookups)
    outline = draft_outline(data, groups)
    keys = [entry["key"] for entry in outline]
    page = page if page in keys else keys[0]
    flagged = {group.kind: {problem.code for problem in group.problems} for group in groups}
    _, changes, existing = draft_match(data, government=draft.government)
    return {
        "draft": draft,
        "data": data,
        "counts": draft_counts(data),
        "changes": draft.changes
        if draft.status == ImportDraft.Status.PUBLISHED
        else changes.as_dict(),
        "existing_plan": existing,
        "problems": groups,
        "problem_count": sum(len(group.problems) for group in groups),
        "outline": outline,
        "page": page,
        "current": next(entry for entry in outline if entry["key"] == page),
        "areas": _areas(data, page, lookups, flagged, edit),
        "edit": edit,
        "departments": list(lookups.departments.values()),
        "leaders": list(lookups.leaders.values()),
        "key_areas": key_areas(data),
        "comparators": Comparator.choices,
        "editable": draft.status == ImportDraft.Status.DRAFT,
    }


def _areas(data: dict, page: str, lookups: EditLookups, flagged: dict, edit: str) -> list[dict]:
    if page == HEADLINE:
        items = data.get("headline_targets", [])
        return [{"key": HEADLINE, "title": "", "rows": _rows(items, lookups, flagged, edit)}]
    section = next(s for s in data["sections"] if str(s["number"]) == page)
    return [
        {
            "key": area_key(section, area),
            "title": area["title"],
            "rows": _rows(area["tasks"], lookups, flagged, edit),
        }
        for area in section["key_areas"]
    ]


def _rows(items: list[dict], lookups: EditLookups, flagged: dict, edit: str) -> list[dict]:
    return [_row(item, lookups, flagged, edit) for item in items]


def _row(item: dict, lookups: EditLookups, flagged: dict, edit: str) -> dict:
    assignment = item.get("assignment") or {}
    departments, leaders = lookups.departments, lookups.leaders
    suggested_lead, suggested_co = lookups.matcher.suggested(item.get("suggestions") or {})
    lead = departments.get(assignment.get("lead_department"))
    code = item["code"]
    return {
        "item": item,
        "code": code,
        "indicators": [
            {**spec, "display": breakdown.format_spec(spec), "position": index}
            for index, spec in enumerate(item.get("indicators", []))
        ],
        "lead": lead,
        "co": [departments[pk] for pk in assignment.get("co_departments", []) if pk in departments],
        "co_ids": set(assignment.get("co_departments", [])),
        "leader": leaders.get(assignment.get("responsible_leader")),
        "deadline": assignment.get("deadline") or "",
        "suggestions": item.get("suggestions") or {},
        "suggested_lead": suggested_lead,
        "suggested_co": suggested_co,
        "can_accept": suggested_lead is not None and suggested_lead != lead,
        "no_lead": code in flagged.get("no_lead", ()),
        "kept": lead is None and code not in flagged.get("no_lead", ()),
        "no_unit": code in flagged.get("no_unit", ()),
        "expanded": code == edit,
    }
