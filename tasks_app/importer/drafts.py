"""Report text -> draft, and matching a draft with the plan already in the database."""

import copy
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit import services as audit_services
from tasks_app.common.errors import ServiceError
from tasks_app.importer.decoding import decode_report
from tasks_app.importer.indicators import fold
from tasks_app.importer.services import require_office
from tasks_app.importer.text import parse_report
from tasks_app.models import (
    ImportDraft,
    Indicator,
    Plan,
    Task,
    User,
)
from tasks_app.plans.tenants import default_government_name, government_named

# --- Report text -> draft ---------------------------------------------------------------------


def report_parse(
    *, data: bytes, year: int, title: str = "", government: str = ""
) -> tuple[dict, str]:
    """(draft dict, detected encoding) of an uploaded report; nothing is written."""
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", _("年度须在2000至2100之间。"), field="year")
    text, encoding = decode_report(data)
    draft = parse_report(text, year=year, title=title, government=government)
    document = draft.get("document", {})
    if document.get("kind", "work_report") != "work_report":  # 法治政府建设报告, an empty page
        raise ServiceError("not_a_work_report", document["message"], field="file")
    return draft, encoding


@transaction.atomic
def import_draft_create(
    *,
    actor: User | None,
    data: bytes,
    source_name: str,
    year: int,
    title: str = "",
    government: str = "",
) -> ImportDraft:
    """The draft belongs to the actor's government; on the command line (no actor) to the one
    `government` names, created if new (else the default government)."""
    require_office(actor)
    draft_data, encoding = report_parse(data=data, year=year, title=title, government=government)
    draft = ImportDraft.objects.create(
        year=year,
        title=draft_data["plan"]["title"][:200],
        government=actor.government if actor else government_named(government),
        source_name=source_name[:200],
        encoding=encoding,
        data=draft_data,
        created_by=actor,
    )
    audit_services.audit_log(
        actor=actor,
        action="importdraft.create",
        obj=draft,
        after={
            "year": year,
            "title": draft.title,
            "source_name": draft.source_name,
            "encoding": encoding,
            **draft_counts(draft_data),
        },
    )
    return draft


def draft_counts(data: dict) -> dict:
    tasks = list(draft_tasks(data))
    return {
        "sections": len(data["sections"]),
        "key_areas": sum(len(section["key_areas"]) for section in data["sections"]),
        "tasks": len(tasks),
        "indicators": sum(len(task.get("indicators", [])) for task in tasks),
    }


def draft_tasks(data: dict):
    yield from data.get("headline_targets", [])
    for section in data["sections"]:
        for area in section["key_areas"]:
            yield from area["tasks"]


# --- Matching a draft with the plan already in the database ----------------------------------

_NOT_TEXT = re.compile(r"[\s,.;:!?、。;:“”\"'()()《》\-—]")


def normalise(text: str) -> str:
    return _NOT_TEXT.sub("", fold(text or ""))


def _indicator_key(spec: dict) -> tuple:
    return (
        spec.get("name", ""),
        Decimal(str(spec["value"])).normalize(),
        Decimal(str(spec["value_max"])).normalize()
        if spec.get("value_max") not in (None, "")
        else None,
        spec.get("unit", ""),
        spec["comparator"],
    )


def target_key(indicator: Indicator) -> tuple:
    """A stored target as drafts and sheets state it: compared to tell whether it changed."""
    return (
        indicator.name,
        indicator.target_value.normalize(),
        indicator.target_value_max.normalize() if indicator.target_value_max is not None else None,
        indicator.unit,
        indicator.comparator,
    )


@dataclass
class Changes:
    new: list[str] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the plan, no longer in the text

    def as_dict(self) -> dict:
        return {
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "missing": self.missing,
        }


def draft_match(data: dict, *, government=None) -> tuple[dict, Changes, Plan | None]:
    """(a copy of data whose items carry the codes of the tasks they match, the changes, plan).

    An item matches the existing task with the same normalised source text (so an inserted
    sentence does not shift every later item onto the wrong task); failing that, the unmatched
    task with the same code (the text was edited in place). Anything else is new and gets a code
    no existing task uses.
    """
    data = copy.deepcopy(data)
    meta = data["plan"]
    plans = Plan.objects.filter(year=meta["year"], title=meta["title"])
    if government is not None:
        plans = plans.filter(government=government)
    else:
        plans = plans.filter(government__name=meta.get("government") or default_government_name())
    plan = plans.first()
    existing = list(plan.tasks.prefetch_related("indicators")) if plan else []
    by_text = {}
    for task in existing:
        by_text.setdefault(normalise(task.source_text), task)
    by_code = {task.code: task for task in existing}
    matched: dict[int, Task] = {}
    items = list(draft_tasks(data))
    for index, item in enumerate(items):
        task = by_text.get(normalise(item["source_text"]))
        if task and task.pk not in {t.pk for t in matched.values()}:
            matched[index] = task
    taken = {t.pk for t in matched.values()}
    for index, item in enumerate(items):
        task = by_code.get(item["code"])
        if index not in matched and task and task.pk not in taken:
            matched[index] = task
            taken.add(task.pk)
    changes = Changes()
    used_codes = {task.code for task in existing}
    for index, item in enumerate(items):
        task = matched.get(index)
        if task is None:
            item["code"] = _free_code(item["code"], used_codes)
            used_codes.add(item["code"])
            changes.new.append(item["code"])
            continue
        item["code"] = task.code
        differences = _differences(task, item)
        if differences:
            changes.changed.append({"code": task.code, "fields": differences})
        else:
            changes.unchanged.append(task.code)
    changes.missing = sorted(task.code for task in existing if task.pk not in taken)
    return data, changes, plan


def _free_code(code: str, used: set[str]) -> str:
    if code not in used:
        return code
    suffix = 2
    while f"{code}-{suffix}" in used:
        suffix += 1
    return f"{code}-{suffix}"


def _differences(task: Task, item: dict) -> list[str]:
    fields = []
    if normalise(task.source_text) != normalise(item["source_text"]):
        fields.append("source_text")
    stored = [target_key(i) for i in sorted(task.indicators.all(), key=lambda i: i.position)]
    if stored != [_indicator_key(spec) for spec in item.get("indicators", [])]:
        fields.append("indicators")
    return fields
