"""Lead and co-department suggestions for a work item, from a keyword mapping kept as data.

Suggestions are shown to the supervision office next to each item; nothing assigns them.
"""

import json
from functools import cache

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
