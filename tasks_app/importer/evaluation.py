"""Measure the report parser on a folder of reports: structure, and targets against labels.

A label file (tests/data/labels_*.json) names its report ("source"), the year and every
quantitative target of the year with value, unit, comparator and the verbatim clause ("text").
A label is found when an indicator not yet matched has the same value, unit and comparator and
its clause contains the label's text or lies within it.
"""

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tasks_app.importer.decoding import decode_report
from tasks_app.importer.drafts import draft_counts, normalise
from tasks_app.importer.text import parse_report

MIN_SECTIONS, MIN_ITEMS = 3, 30


@dataclass
class ReportResult:
    name: str
    year: int
    draft: dict
    crashed: str = ""
    recall: float | None = None
    precision: float | None = None
    missed: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    labels: int = 0
    hits: int = 0
    found: int = 0

    @property
    def kind(self) -> str:
        return self.draft.get("document", {}).get("kind", "work_report")

    @property
    def counts(self) -> dict:
        return draft_counts(self.draft)

    @property
    def plausible(self) -> bool:
        counts = self.counts
        return (
            not self.crashed
            and bool(self.draft["plan_part"]["heading"])
            and counts["sections"] >= MIN_SECTIONS
            and counts["tasks"] - len(self.draft["headline_targets"]) >= MIN_ITEMS
        )


def report_year(name: str, default: int = 2020) -> int:
    found = re.search(r"(20\d\d)", name)
    return int(found[1]) if found else default


def draft_indicators(draft: dict) -> list[dict]:
    found = [i for item in draft["headline_targets"] for i in item["indicators"]]
    for section in draft["sections"]:
        for area in section["key_areas"]:
            for task in area["tasks"]:
                found += task["indicators"]
    return found


def _key(item: dict) -> tuple:
    try:
        value = Decimal(str(item["value"])).normalize()
    except InvalidOperation:
        value = item["value"]
    return value, item["unit"], item["comparator"]


def score(draft: dict, targets: list[dict]) -> tuple[float, float, list, list]:
    """(recall, precision, labels not found, indicators matching no label)."""
    found = draft_indicators(draft)
    used, missed = set(), []
    for target in targets:
        match = next(
            (
                index
                for index, item in enumerate(found)
                if index not in used
                and _key(item) == _key(target)
                and (target["text"] in item["text"] or item["text"] in target["text"])
            ),
            None,
        )
        if match is None:
            missed.append(target)
        else:
            used.add(match)
    extra = [item for index, item in enumerate(found) if index not in used]
    return len(used) / max(1, len(targets)), len(used) / max(1, len(found)), missed, extra


def read_labels(folder: Path | None) -> dict[str, dict]:
    """{report file name: label data} of the label files in folder."""
    if folder is None:
        return {}
    labels = {}
    for path in sorted(folder.glob("labels_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        labels[data["source"]] = data
    return labels


def evaluate(folder: Path, labels: dict[str, dict]) -> list[ReportResult]:
    results = []
    for path in sorted(folder.glob("*.txt")):
        label = labels.get(path.name)
        year = int(label["year"]) if label else report_year(path.name)
        try:
            text, _ = decode_report(path.read_bytes())
            draft = parse_report(text, year=year)
        except Exception as error:  # noqa: BLE001 - the evaluation counts crashes, it does not stop
            draft = parse_report("", year=year)
            results.append(ReportResult(path.name, year, draft, crashed=repr(error)))
            continue
        result = ReportResult(path.name, year, draft, crashed=draft.get("error", ""))
        if label:
            result.recall, result.precision, result.missed, result.extra = score(
                draft, label["targets"]
            )
            result.labels = len(label["targets"])
            result.hits = result.labels - len(result.missed)
            result.found = result.hits + len(result.extra)
        results.append(result)
    return results


def same_boundaries(draft: dict, register: dict) -> float:
    """The share of the register's work items that the draft has with the same boundaries."""
    drafted = {normalise(task["source_text"]) for task in _tasks(draft)}
    wanted = [normalise(task["source_text"]) for task in _tasks(register)]
    return sum(text in drafted for text in wanted) / max(1, len(wanted))


def _tasks(data: dict):
    for section in data["sections"]:
        for area in section["key_areas"]:
            yield from area["tasks"]
