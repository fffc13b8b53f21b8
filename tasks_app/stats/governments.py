"""Roll-up: the province overview's numbers per government, for the level above.

A city's or province's office, leaders and auditors read the registers of every government below
their own (tasks_app.common.permissions.readable_government_ids); the overview lists each of them
with the sum of its published plans' tallies, so a city sees which district lags before opening
that district's plans (read-only).
"""

from tasks_app.models import Government, Light, TaskStatus


def _empty_tally() -> dict:
    return {
        "total": 0,
        "done": 0,
        "completion_rate": 0.0,
        "overdue": 0,
        "by_status": {status: 0 for status in TaskStatus.values},
        "by_light": {light: 0 for light in Light.values},
    }


def _add(into: dict, row: dict) -> None:
    for key in ("total", "done", "overdue"):
        into[key] += row[key]
    for group in ("by_status", "by_light"):
        for key, count in row[group].items():
            into[group][key] = into[group].get(key, 0) + count


def government_rollup(*, government_ids: list[int], rows: list[dict]) -> list[dict]:
    """Each readable government (the caller's own first, then by name) with its number of published
    plans in `rows` (province_overview's) and their tallies summed; a government without plans
    is listed with zeros."""
    governments = Government.objects.filter(pk__in=government_ids)
    result = {
        g.pk: {"id": g.pk, "name": g.name, "level": g.level, "parent_id": g.parent_id, "plans": 0}
        | _empty_tally()
        for g in governments
    }
    for row in rows:
        entry = result.get(row["government_id"])
        if entry is not None:
            entry["plans"] += 1
            _add(entry, row)
    for entry in result.values():
        total = entry["total"]
        entry["completion_rate"] = round(entry["done"] / total, 4) if total else 0.0
    # The caller's own government is the one whose parent it does not read: first.
    return sorted(result.values(), key=lambda e: (e["parent_id"] in result, e["name"]))
