"""The supervision office's edits to an import draft before it is published (its January work).

An edit is a dict {"op": ..., ...}. edit_apply() applies one to a copy of the draft's data and
checks it (a ServiceError with a Chinese message on bad input); it writes nothing.
import_draft_edit() locks the draft, refuses an edit made on an older version (two tabs), saves
the edited data with the next version and writes one "importdraft.edit" event with the edit and
the items before and after it. Bad input or a stale version writes nothing.

Items are named by their codes. Codes are renumbered after every edit (H01…, section.area.item),
as the parser numbers them, so an edit is meaningful only against the version it was made on:
that is what the version check guarantees.

Ops: text, split, merge, move, delete, add, indicators, assign, accept_suggestions.
"""

import copy
import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit import services as audit_services
from tasks_app.common.errors import Conflict, PreconditionFailed, ServiceError
from tasks_app.importer import indicators as indicator_text
from tasks_app.importer.deadlines import parse_deadline
from tasks_app.importer.draft_checks import HEADLINE, EditLookups, area_key, item_places
from tasks_app.importer.draft_targets import target_checked
from tasks_app.importer.services import require_office
from tasks_app.importer.suggestions import suggest_departments
from tasks_app.models import ImportDraft, Task, User

TITLE_MAX = Task._meta.get_field("title").max_length
SOURCE_MAX = 2000
MAX_ITEMS_PER_EDIT = 1000
TRAILING = " \t\r\n,;\uff0c\uff1b\u3002\u3001"  # what ends a clause, ASCII and full-width


@dataclass
class Outcome:
    """What an edit did: a message for the office, the items before and the items after."""

    message: str
    before: list[dict] = field(default_factory=list)
    after: list[dict] = field(default_factory=list)
    audited: tuple[str, ...] = ("code", "title", "source_text", "indicators", "assignment")

    @property
    def codes(self) -> list[str]:
        return [item["code"] for item in self.after]

    def ledger(self, items: list[dict]) -> list[dict]:
        """The items as the ledger records them: what this edit can change, no suggestions."""
        return [{key: item[key] for key in self.audited if key in item} for item in items]


@transaction.atomic
def import_draft_edit(
    *, actor: User | None, draft: ImportDraft, version: int, edit: dict
) -> tuple[ImportDraft, Outcome]:
    """Apply one edit to the draft made on `version`; (the saved draft, what it did)."""
    require_office(actor)
    draft = ImportDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status != ImportDraft.Status.DRAFT:
        raise Conflict("draft_already_published", _("该草稿已发布,不能再修改。"))
    if draft.version != version:
        raise PreconditionFailed()
    lookups = EditLookups.load(government_id=draft.government_id)
    data, outcome = edit_apply(draft.data, edit, year=draft.year, lookups=lookups)
    draft.data = data
    draft.version = version + 1
    draft.save(update_fields=["data", "version"])
    audit_services.audit_log(
        actor=actor,
        action="importdraft.edit",
        obj=draft,
        before={"version": version, "items": outcome.ledger(outcome.before)},
        after={"version": draft.version, "edit": edit, "items": outcome.ledger(outcome.after)},
    )
    return draft, outcome


def edit_apply(data: dict, edit: dict, *, year: int, lookups: EditLookups) -> tuple[dict, Outcome]:
    """(the edited copy of data, what the edit did); raises ServiceError and changes nothing."""
    operation = OPS.get(str(edit.get("op", "")))
    if operation is None:
        raise ServiceError("unknown_edit", _("未知的修改操作。"), field="op")
    data = copy.deepcopy(data)
    outcome = operation(data, edit, _Context(year=year, lookups=lookups))
    renumber(data)
    outcome.after = copy.deepcopy(outcome.after)
    return data, outcome


@dataclass
class _Context:
    year: int
    lookups: EditLookups


def renumber(data: dict) -> dict:
    """Codes as the parser gives them: H01… for headline targets, section.area.item for items."""
    for number, item in enumerate(data.get("headline_targets", []), start=1):
        item["code"] = f"H{number:02d}"
    for section in data["sections"]:
        for area in section["key_areas"]:
            for number, item in enumerate(area["tasks"], start=1):
                item["code"] = f"{section['number']}.{area['number']}.{number:02d}"
    return data


# --- Text: edit, split, merge, add --------------------------------------------------------------


def _text_edit(data: dict, edit: dict, context: _Context) -> Outcome:
    place = _places(data, [edit.get("code")])[0]
    item = place.item
    before = copy.deepcopy(item)
    title = _text(edit.get("title"), _("事项名称"), TITLE_MAX, "title")
    source = _text(edit.get("source_text") or title, _("报告原文"), SOURCE_MAX, "source_text")
    if (title, source) == (item["title"], item["source_text"]):
        raise ServiceError("nothing_changed", _("文本没有变化。"), field="title")
    if item["source_text"] != source:
        item["suggestions"] = suggest_departments(source)
    item["title"], item["source_text"] = title, source
    return Outcome(_("已修改事项文本。"), [before], [item])


def _split(data: dict, edit: dict, context: _Context) -> Outcome:
    place = _places(data, [edit.get("code")])[0]
    parts = [str(part).strip() for part in edit.get("parts") or [] if str(part).strip(TRAILING)]
    if len(parts) < 2:
        raise ServiceError(
            "split_needs_parts", _("拆分须至少分成两段(在要拆分处换行)。"), field="parts"
        )
    if len(parts) > 20:
        raise ServiceError("split_too_many", _("一次最多拆分成20项。"), field="parts")
    original = place.item
    new_items = []
    for number, part in enumerate(parts, start=1):
        source = _text(part, _("第%(n)d段") % {"n": number}, SOURCE_MAX, "parts")
        item = copy.deepcopy(original)
        item.update(
            title=title_of(source),
            source_text=source,
            indicators=[],
            suggestions=suggest_departments(source),
        )
        new_items.append(item)
    for spec in original.get("indicators", []):
        new_items[_part_stating(spec, parts)]["indicators"].append(spec)
    place.container[place.index : place.index + 1] = new_items
    return Outcome(
        _("已拆分为 %(n)d 项。") % {"n": len(new_items)}, [copy.deepcopy(original)], new_items
    )


def _part_stating(spec: dict, parts: list[str]) -> int:
    """The part whose text states the target (its verbatim clause, else its number); the first."""
    clause = indicator_text.fold(spec.get("text") or "")
    for index, part in enumerate(parts):
        if clause and clause in indicator_text.fold(part):
            return index
    for index, part in enumerate(parts):
        if str(spec.get("value", "")) in part:
            return index
    return 0


def _merge(data: dict, edit: dict, context: _Context) -> Outcome:
    places = _places(data, edit.get("codes"))
    if len(places) < 2:
        raise ServiceError("merge_needs_two", _("合并须至少选择两项。"), field="codes")
    if len({place.area == HEADLINE for place in places}) > 1:
        raise ServiceError("merge_mixed", _("主要目标不能与工作事项合并。"), field="codes")
    first, *others = places
    before = [copy.deepcopy(place.item) for place in places]
    merged = first.item
    source = "".join(place.item["source_text"] for place in places)
    if len(source) > SOURCE_MAX:
        raise ServiceError(
            "merge_too_long",
            _("合并后的原文超过%(n)d字,请少选几项。") % {"n": SOURCE_MAX},
            field="codes",
        )
    merged["source_text"] = source
    comma = "\uff0c" if "\uff0c" in source else ","
    merged["title"] = title_of(comma.join(title_of(place.item["title"]) for place in places))
    merged["indicators"] = [spec for place in places for spec in place.item.get("indicators", [])]
    merged["suggestions"] = suggest_departments(source)
    merged_assignment = _merged_assignment([place.item.get("assignment") for place in places])
    if merged_assignment:
        merged["assignment"] = merged_assignment
    for place in sorted(others, key=lambda p: (id(p.container), p.index), reverse=True):
        del place.container[place.index]
    return Outcome(_("已将 %(n)d 项合并为一项。") % {"n": len(places)}, before, [merged])


def _merged_assignment(assignments: list[dict | None]) -> dict | None:
    """The first item's assignment that names a lead; the others' departments as co-departments."""
    given = [a for a in assignments if a]
    if not given:
        return None
    result = copy.deepcopy(next((a for a in given if a.get("lead_department")), given[0]))
    lead = result.get("lead_department")
    co = list(result.get("co_departments") or [])
    for other in given:
        for pk in [other.get("lead_department"), *(other.get("co_departments") or [])]:
            if pk and pk != lead and pk not in co:
                co.append(pk)
    result["co_departments"] = co
    return result


def _add(data: dict, edit: dict, context: _Context) -> Outcome:
    container = _area_items(data, str(edit.get("area", "")))
    source = _text(edit.get("text"), _("事项内容"), SOURCE_MAX, "text")
    item = {
        "code": "",
        "title": title_of(source),
        "source_text": source,
        "indicators": indicator_text.extract(source),
        "suggestions": suggest_departments(source),
    }
    container.append(item)
    return Outcome(_("已添加一项。"), [], [item])


def title_of(text: str) -> str:
    """An item's title from its text: without the closing punctuation, at most TITLE_MAX."""
    title = " ".join(text.split()).strip(TRAILING)
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


# --- Structure: move, delete --------------------------------------------------------------------


def _move(data: dict, edit: dict, context: _Context) -> Outcome:
    target_key = str(edit.get("area", ""))
    if target_key == HEADLINE:
        raise ServiceError("move_to_headline", _("工作事项不能移入主要目标。"), field="area")
    target = _area_items(data, target_key)
    places = _places(data, edit.get("codes"))
    if any(place.area == HEADLINE for place in places):
        raise ServiceError("move_headline", _("主要目标不能移到重点领域。"), field="codes")
    before = [copy.deepcopy(place.item) for place in places]
    moved = [place.item for place in places]
    _remove(places)
    target.extend(moved)
    return Outcome(
        _("已将 %(n)d 项移至重点领域 %(area)s。") % {"n": len(moved), "area": target_key},
        before,
        moved,
    )


def _delete(data: dict, edit: dict, context: _Context) -> Outcome:
    places = _places(data, edit.get("codes"))
    before = [copy.deepcopy(place.item) for place in places]
    _remove(places)
    return Outcome(_("已删除 %(n)d 项。") % {"n": len(places)}, before, [])


def _remove(places: list["_Place"]) -> None:
    for place in sorted(places, key=lambda p: (id(p.container), p.index), reverse=True):
        del place.container[place.index]


# --- Indicators ---------------------------------------------------------------------------------


def _indicators(data: dict, edit: dict, context: _Context) -> Outcome:
    place = _places(data, [edit.get("code")])[0]
    old = place.item.get("indicators", [])
    rows = edit.get("indicators")
    if not isinstance(rows, list) or len(rows) > 50:
        raise ServiceError("invalid_indicators", _("指标数据不完整。"), field="indicators")
    specs = [target_checked(row, number, old) for number, row in enumerate(rows, start=1)]
    before = copy.deepcopy(place.item)
    place.item["indicators"] = specs
    return Outcome(_("已保存 %(n)d 个指标。") % {"n": len(specs)}, [before], [place.item])


# --- Assignments --------------------------------------------------------------------------------

ASSIGNMENT_AUDITED = ("code", "assignment")


def _assign(data: dict, edit: dict, context: _Context) -> Outcome:
    """Set the given fields of many items' assignments. With "replace", every field is set as
    given (empty clears it); otherwise empty fields are left as they are (bulk assignment)."""
    places = _places(data, edit.get("codes"))
    replace = bool(edit.get("replace"))
    wanted = _wanted_assignment(edit, context, replace)
    if not wanted:
        raise ServiceError(
            "nothing_to_assign",
            _("请至少选择牵头单位、配合单位、责任领导或完成时限之一。"),
            field="lead_department",
        )
    before = [copy.deepcopy(place.item) for place in places]
    for place in places:
        assignment = {**_blank_assignment(), **(place.item.get("assignment") or {}), **wanted}
        lead = assignment["lead_department"]
        assignment["co_departments"] = [pk for pk in assignment["co_departments"] if pk != lead]
        place.item["assignment"] = assignment
    return Outcome(
        _("已为 %(n)d 项保存分工。") % {"n": len(places)},
        before,
        [p.item for p in places],
        audited=ASSIGNMENT_AUDITED,
    )


def _wanted_assignment(edit: dict, context: _Context, replace: bool) -> dict:
    lookups = context.lookups
    wanted: dict = {}
    lead = _id(edit.get("lead_department"))
    if lead is not None or replace:
        if lead is not None and lead not in lookups.departments:
            raise ServiceError("unknown_department", _("所选牵头单位不存在。"), "lead_department")
        wanted["lead_department"] = lead
    co = [_id(value) for value in edit.get("co_departments") or []]
    co = [pk for pk in dict.fromkeys(co) if pk is not None]
    if co or replace:
        if any(pk not in lookups.departments for pk in co):
            raise ServiceError("unknown_department", _("所选配合单位不存在。"), "co_departments")
        if lead is not None and lead in co:
            raise ServiceError(
                "lead_is_co", _("牵头单位不能同时是配合单位。"), field="co_departments"
            )
        wanted["co_departments"] = co
    leader = _id(edit.get("responsible_leader"))
    if leader is not None or replace:
        if leader is not None and leader not in lookups.leaders:
            raise ServiceError("unknown_leader", _("所选责任领导不存在。"), "responsible_leader")
        wanted["responsible_leader"] = leader
    raw = str(edit.get("deadline") or "").strip()
    if raw or replace:
        wanted["deadline"] = _deadline(raw, context.year)
    return wanted


def _id(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not an id: reported as an unknown department or leader


def _deadline(raw: str, year: int) -> str | None:
    try:
        deadline = parse_deadline(raw, year) if raw else None
    except ValueError as error:
        raise ServiceError("invalid_deadline", str(error), field="deadline") from error
    if isinstance(deadline, dt.datetime):
        deadline = deadline.date()
    return deadline.isoformat() if deadline else None


def _blank_assignment() -> dict:
    return {
        "lead_department": None,
        "co_departments": [],
        "responsible_leader": None,
        "deadline": None,
    }


def _accept_suggestions(data: dict, edit: dict, context: _Context) -> Outcome:
    """Each item's suggested lead and co-departments that exist in the system, as its own."""
    places = _places(data, edit.get("codes"))
    before, after = [], []
    for place in places:
        lead, co = context.lookups.matcher.suggested(place.item.get("suggestions") or {})
        if lead is None:
            continue
        before.append(copy.deepcopy(place.item))
        assignment = {**_blank_assignment(), **(place.item.get("assignment") or {})}
        assignment.update(lead_department=lead.pk, co_departments=[d.pk for d in co])
        place.item["assignment"] = assignment
        after.append(place.item)
    if not after:
        raise ServiceError(
            "no_suggestion",
            _("所选事项没有系统中存在的单位建议,请手动指定牵头单位。"),
            field="codes",
        )
    skipped = len(places) - len(after)
    message = _("已为 %(n)d 项采用单位建议。") % {"n": len(after)}
    if skipped:
        message += _("%(m)d 项没有可用的建议,未修改。") % {"m": skipped}
    return Outcome(message, before, after, audited=ASSIGNMENT_AUDITED)


# --- Finding items ------------------------------------------------------------------------------


@dataclass
class _Place:
    item: dict
    container: list
    index: int
    area: str


def _places(data: dict, codes) -> list[_Place]:
    """The items of codes, in document order; refused when one is unknown or named twice."""
    if isinstance(codes, str) or not isinstance(codes, list | tuple):
        codes = []
    codes = [str(code) for code in codes if code not in (None, "")]
    if not codes:
        raise ServiceError("no_items_selected", _("请先选择事项。"), field="codes")
    if len(codes) > MAX_ITEMS_PER_EDIT or len(set(codes)) != len(codes):
        raise ServiceError("invalid_selection", _("所选事项有重复或过多。"), field="codes")
    found = {code: place for code, place in _all_places(data) if code in set(codes)}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise ServiceError(
            "unknown_item",
            _("草稿中没有编号为“%(code)s”的事项,请刷新页面。") % {"code": unknown[0]},
            field="codes",
        )
    order = {code: number for number, (code, _place) in enumerate(_all_places(data))}
    return sorted(found.values(), key=lambda place: order[place.item["code"]])


def _all_places(data: dict):
    for item, container, index, area in item_places(data):
        yield item["code"], _Place(item, container, index, area)


def _area_items(data: dict, key: str) -> list:
    if key == HEADLINE:
        return data.setdefault("headline_targets", [])
    for section in data["sections"]:
        for area in section["key_areas"]:
            if area_key(section, area) == key:
                return area["tasks"]
    raise ServiceError("unknown_area", _("没有这个重点领域。"), field="area")


def _text(value, label: str, limit: int, field_name: str) -> str:
    text = str(value or "").strip()
    if not text.strip(TRAILING):
        raise ServiceError("text_required", _("请填写%(label)s。") % {"label": label}, field_name)
    if len(text) > limit:
        raise ServiceError(
            "text_too_long",
            _("%(label)s不超过%(n)d字。") % {"label": label, "n": limit},
            field_name,
        )
    return text


OPS = {
    "text": _text_edit,
    "split": _split,
    "merge": _merge,
    "add": _add,
    "move": _move,
    "delete": _delete,
    "indicators": _indicators,
    "assign": _assign,
    "accept_suggestions": _accept_suggestions,
}
