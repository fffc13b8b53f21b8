"""The office's edits to a draft, recorded as data: draft + edits = the register it published.

The shipped 2020 register (data/plan_2020.json) is the importer's draft of the seed report plus
data/plan_2020_edits.json, so the two cannot drift apart: a test rebuilds the register from the
report and the edits. An edit names what it changes by text or code, never by list position:

  {"op": "split", "area": "1.2", "before": "15家以上超10亿元"}   (a new item starts there)
  {"op": "merge", "area": "1.1", "before": "推进与港澳深度合作"}  (it joins the item before)
  {"op": "title", "item": "1.1.02", "title": "..."}
  {"op": "source_text", "item": "1.1.02", "source_text": "..."}
  {"op": "indicators", "item": "1.2.04" or "H11", "indicators": [...]}

Splits and merges come first; codes are then renumbered, and the other edits name the new codes.
"""

import json
import re
from pathlib import Path

from tasks_app.importer import indicators
from tasks_app.importer.drafts import normalise
from tasks_app.importer.items import ITEM_PUNCTUATION
from tasks_app.importer.text import number_codes, parse_report

INDICATOR_KEYS = ("name", "value", "value_max", "unit", "comparator", "text")
ANCHOR = 12
CONNECTIVES = " ,，;；和"


def plan_from_edits_file(path: Path) -> dict:
    """{"report": file beside it, "plan": {...}, "edits": [...]} -> plan data (plan_2020.json)."""
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    text = (Path(path).parent / spec["report"]).read_text(encoding="utf-8")
    meta = spec["plan"]
    draft = parse_report(text, year=meta["year"], title=meta["title"])
    return apply_edits(draft, spec["edits"], plan=meta)


def rerecorded_edits_file(path: Path, register: dict) -> str:
    """The edits file at path with its edits recorded afresh from today's draft, as its text.

    Written back whenever the parser's item boundaries change, the list keeps only the edits the
    office still has to make (a test says when it is due)."""
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    text = (Path(path).parent / spec["report"]).read_text(encoding="utf-8")
    draft = parse_report(text, year=spec["plan"]["year"], title=spec["plan"]["title"])
    spec["edits"] = record_edits(draft, register)
    return json.dumps(spec, ensure_ascii=False, indent=1)


def apply_edits(draft: dict, edits: list[dict], *, plan: dict) -> dict:
    data = plan_data(draft, plan)
    for edit in edits:
        if edit["op"] in ("split", "merge"):
            area = _area(data, edit["area"])
            (_split if edit["op"] == "split" else _merge)(area, edit["before"])
    _renumber(data)
    items = {item["code"]: item for item in _items(data)}
    for edit in edits:
        if edit["op"] in ("title", "source_text", "indicators"):
            items[edit["item"]][edit["op"]] = edit[edit["op"]]
    return data


def plan_data(draft: dict, plan: dict) -> dict:
    """The draft in the plan file's format: no suggestions, indicators without their kind."""
    heads = [
        {key: head[key] for key in ("code", "group", "title", "source_text")}
        | {"indicators": _plain(head["indicators"])}
        for head in draft["headline_targets"]
    ]
    sections = [
        {
            "number": section["number"],
            "title": section["title"],
            "key_areas": [
                {
                    "number": area["number"],
                    "title": area["title"],
                    "tasks": [_task(task) for task in area["tasks"]],
                }
                for area in section["key_areas"]
            ],
        }
        for section in draft["sections"]
    ]
    return {"plan": dict(plan), "headline_targets": heads, "sections": sections}


def record_edits(draft: dict, register: dict) -> list[dict]:
    """The edits that turn draft into register (whose sections and key areas it shares)."""
    data = plan_data(draft, register["plan"])
    edits = []
    for section, wanted_section in zip(data["sections"], register["sections"], strict=True):
        for area, wanted in zip(section["key_areas"], wanted_section["key_areas"], strict=True):
            edits += _boundary_edits(f"{section['number']}.{area['number']}", area, wanted)
    rebuilt = apply_edits(draft, edits, plan=register["plan"])
    have = {item["code"]: item for item in _items(rebuilt)}
    for item in _items(register):
        for field in ("source_text", "title", "indicators"):
            if have[item["code"]][field] != item[field]:
                edits.append({"op": field, "item": item["code"], field: item[field]})
    return edits


# --- Applying ---------------------------------------------------------------------------------


def _area(data: dict, number: str) -> dict:
    section_number, area_number = (int(part) for part in number.split("."))
    section = data["sections"][section_number - 1]
    return section["key_areas"][area_number - 1]


def _split(area: dict, before: str) -> None:
    for index, task in enumerate(area["tasks"]):
        at = task["source_text"].find(before)
        if at > 0:
            left = task["source_text"][:at].rstrip(CONNECTIVES)
            right = task["source_text"][at:]
            area["tasks"][index : index + 1] = [_rebuilt(left), _rebuilt(right)]
            return
    raise ValueError(f"split: no item contains “{before}”")


def _merge(area: dict, before: str) -> None:
    for index, task in enumerate(area["tasks"][1:], start=1):
        if task["source_text"].startswith(before):
            previous = area["tasks"][index - 1]
            area["tasks"][index - 1 : index + 1] = [
                _rebuilt(previous["source_text"] + task["source_text"])
            ]
            return
    raise ValueError(f"merge: no item starts with “{before}”")


def _rebuilt(source: str) -> dict:
    return _task(
        {
            "code": "",
            "title": source.rstrip(ITEM_PUNCTUATION)[:200],
            "source_text": source,
            "indicators": indicators.extract(source),
        }
    )


def _renumber(data: dict) -> None:
    number_codes(data)


def _task(task: dict) -> dict:
    return {
        "code": task["code"],
        "title": task["title"],
        "source_text": task["source_text"],
        "indicators": _plain(task["indicators"]),
    }


def _plain(found: list[dict]) -> list[dict]:
    return [{key: item[key] for key in INDICATOR_KEYS} for item in found]


def _items(data: dict):
    yield from data["headline_targets"]
    for section in data["sections"]:
        for area in section["key_areas"]:
            yield from area["tasks"]


# --- Recording --------------------------------------------------------------------------------


def _boundary_edits(number: str, area: dict, wanted: dict) -> list[dict]:
    """Splits where the register starts an item the draft does not, merges the other way."""
    have, joined = _starts(area["tasks"])
    target = _mapped_starts(joined, [normalise(t["source_text"]) for t in wanted["tasks"]])
    if target is None:
        raise ValueError(f"key area {number}: the register's text is not the draft's")
    edits = []
    for task, start in zip(area["tasks"], have, strict=True):
        if start not in target:
            edits.append({"op": "merge", "area": number, "before": _anchor(task, area)})
    for task, start in zip(wanted["tasks"], target, strict=True):
        if start not in have:
            edits.append({"op": "split", "area": number, "before": _anchor(task, area)})
    return edits


def _starts(tasks: list[dict]) -> tuple[list[int], str]:
    starts, joined = [], ""
    for task in tasks:
        starts.append(len(joined))
        joined += normalise(task["source_text"])
    return starts, joined


def _mapped_starts(joined: str, pieces: list[str]) -> list[int] | None:
    """Where each piece starts in joined, allowing joined connectives the pieces dropped (和)."""
    starts, at = [], 0
    for piece in pieces:
        while (
            joined[at : at + 1] and joined[at] in CONNECTIVES and not piece.startswith(joined[at])
        ):
            at += 1
        if not joined.startswith(piece, at):
            return None
        starts.append(at)
        at += len(piece)
    return starts


def _anchor(task: dict, area: dict) -> str:
    """The shortest opening of task's text (from 12 characters) that names one place in area."""
    text = task["source_text"]
    whole = "".join(t["source_text"] for t in area["tasks"])
    size = ANCHOR
    while size < len(text) and len(re.findall(re.escape(text[:size]), whole)) > 1:
        size += 4
    return text[:size]
