"""Lead and co-department suggestions for a work item, from a keyword mapping kept as data.

Suggestions are shown to the supervision office next to each item; nothing assigns them unless
the office accepts them (one click on the draft page). The keyword file names departments as the
government does (经济发展局); DepartmentMatcher finds the department a name means in this system,
also when its name carries a bracketed suffix (经济发展局(示例)) or is registered as an alias.
"""

import json
import re
from functools import cache
from typing import Generic, TypeVar

from tasks_app.plans.plan_data import DATA_DIR

KEYWORDS_FILE = DATA_DIR / "department_keywords.json"
MAX_CO = 2


@cache
def keyword_map() -> dict[str, list[str]]:
    with open(KEYWORDS_FILE, encoding="utf-8") as handle:
        return json.load(handle)["departments"]


def suggest_departments(text: str) -> dict:
    """{"lead": name or "", "co": [names], "keywords": [matched keywords]} for text."""
    scores: list[tuple[int, int, str, list[str]]] = []
    for order, (department, words) in enumerate(keyword_map().items()):
        hits = [word for word in words if word in text]
        if hits:
            scores.append((-len(hits), order, department, hits))
    scores.sort()
    if not scores:
        return {"lead": "", "co": [], "keywords": []}
    lead, *others = scores
    return {
        "lead": lead[2],
        "co": [item[2] for item in others[:MAX_CO]],
        "keywords": [word for item in scores[: MAX_CO + 1] for word in item[3]],
    }


Dept = TypeVar("Dept")
_SUFFIX = re.compile(r"\s*[(\uff08][^()\uff08\uff09]*[)\uff09]\s*$")


def base_name(name: str) -> str:
    """The name without its bracketed suffixes: 经济发展局(示例) -> 经济发展局."""
    name = name.strip()
    while (stripped := _SUFFIX.sub("", name)) != name and stripped:
        name = stripped
    return name


class DepartmentMatcher(Generic[Dept]):
    """Suggested names -> departments of names (exact names and aliases -> department)."""

    def __init__(self, names: dict[str, Dept]):
        self.names = names
        by_base: dict[str, list[Dept]] = {}
        for name, department in names.items():
            found = by_base.setdefault(base_name(name), [])
            if department not in found:
                found.append(department)
        # A base name two departments share (经济发展局(示例) and 经济发展局(旧)) means neither.
        self.by_base = {name: found[0] for name, found in by_base.items() if len(found) == 1}

    def get(self, name: str) -> Dept | None:
        if not name:
            return None
        return self.names.get(name) or self.by_base.get(base_name(name))

    def suggested(self, suggestions: dict) -> tuple[Dept | None, list[Dept]]:
        """(lead, co-departments) of an item's suggestions that exist in the system."""
        lead = self.get(suggestions.get("lead", ""))
        co = []
        for name in suggestions.get("co", []):
            department = self.get(name)
            if department is not None and department != lead and department not in co:
                co.append(department)
        return lead, co
