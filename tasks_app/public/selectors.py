"""What the public sees: the snapshot payload of a plan, and the published snapshots.

Only published plans; per task only title, code, place in the plan, lead department, status,
progress, deadline, the public narrative of its latest report the office accepted, and its
indicators' targets and actuals. No person (leaders, authors, reviewers) and no evidence file
is ever part of it.
"""

import datetime as dt
import hashlib
import json
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from tasks_app.audit import ledger
from tasks_app.models import (
    AuditEvent,
    Indicator,
    Plan,
    PlanStatus,
    PublicSnapshot,
    ReviewState,
    StatusUpdate,
    Task,
    TaskStatus,
)

FORMAT = "gaoxin-public-snapshot/1"
PUBLISH_ACTION = "public_snapshot.publish"
STATUS_LABELS = {value: str(label) for value, label in TaskStatus.choices}


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _indicator(indicator: Indicator) -> dict:
    return {
        "name": indicator.name,
        "unit": indicator.unit,
        "comparator": indicator.comparator,
        "target": _number(indicator.target_value),
        "target_max": _number(indicator.target_value_max),
        "actual": _number(indicator.latest_actual),
    }


def _tasks(plan: Plan) -> QuerySet[Task]:
    accepted = StatusUpdate.objects.filter(
        task=OuterRef("pk"), review_state=ReviewState.ACCEPTED
    ).order_by("-period", "-id")
    return (
        plan.tasks.select_related("section", "key_area", "lead_department")
        .prefetch_related(Prefetch("indicators", queryset=Indicator.objects.order_by("position")))
        .annotate(approved_public_narrative=Subquery(accepted.values("public_narrative")[:1]))
        .order_by("position", "code")
    )


def _task(task: Task, narrative: str) -> dict:
    return {
        "code": task.code,
        "title": task.title,
        "kind": task.kind,
        "section": task.section.title if task.section else "",
        "key_area": task.key_area.title if task.key_area else "",
        "lead_department": task.lead_department.name if task.lead_department else "",
        "status": task.status,
        "status_label": STATUS_LABELS.get(task.status, task.status),
        "progress": task.progress,
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "public_narrative": narrative,
        "indicators": [_indicator(i) for i in task.indicators.all()],
    }


def snapshot_payload(
    *, plan: Plan, title: str, as_of: dt.date, withheld: set[str] = frozenset()
) -> dict:
    """The plan's public progress as plain data; narratives of tasks in `withheld` are left
    out (they named a person)."""
    tasks = []
    for task in _tasks(plan):
        narrative = task.approved_public_narrative or ""
        tasks.append(_task(task, "" if task.code in withheld else narrative))
    return {
        "format": FORMAT,
        "plan": {
            "id": plan.pk,
            "year": plan.year,
            "title": plan.title,
            "government": plan.government.name,
        },
        "title": title,
        "as_of": as_of.isoformat(),
        "tasks": tasks,
    }


def approved_narratives(plan: Plan) -> dict[str, str]:
    """Task code -> the public narrative of its latest accepted report (non-empty only)."""
    return {
        task.code: task.approved_public_narrative
        for task in _tasks(plan)
        if task.approved_public_narrative
    }


def canonical_bytes(payload: dict) -> bytes:
    """The one serialization that is published and hashed (the ledger's canonical JSON)."""
    return ledger.canonical(payload).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- The public pages ---------------------------------------------------------------------


def public_snapshots() -> QuerySet[PublicSnapshot]:
    """Every snapshot of a plan that is still published, newest first."""
    return (
        PublicSnapshot.objects.filter(plan__status=PlanStatus.PUBLISHED)
        .select_related("plan")
        .defer("content")
        .order_by("-published_at", "-id")
    )


def public_plan(plan_id: int) -> Plan:
    """A published plan with at least one snapshot; anything else is 404, like no plan."""
    plan = Plan.objects.filter(
        pk=plan_id, status=PlanStatus.PUBLISHED, public_snapshots__isnull=False
    ).first()
    if plan is None:
        raise Http404
    return plan


def public_snapshot(plan_id: int, seq: int) -> PublicSnapshot:
    """A published plan's snapshot recorded at seq of its government's chain; else 404."""
    found = (
        PublicSnapshot.objects.filter(
            plan_id=plan_id, ledger_seq=seq, plan__status=PlanStatus.PUBLISHED
        )
        .select_related("plan")
        .first()
    )
    if found is None:
        raise Http404
    return found


def public_snapshot_by_seq(seq: int) -> PublicSnapshot:
    """The one published snapshot at seq, for links made before each government had its own
    chain (/public/snapshots/<seq>/); 404 when none, or when governments share the seq."""
    found = list(
        PublicSnapshot.objects.filter(ledger_seq=seq, plan__status=PlanStatus.PUBLISHED)
        .select_related("plan")
        .defer("content")[:2]
    )
    if len(found) != 1:
        raise Http404
    return found[0]


def parsed(snapshot: PublicSnapshot) -> dict:
    """The snapshot's content as data, for its page (the download is the stored bytes)."""
    return json.loads(snapshot.content)


def published_hashes(snapshots: list[PublicSnapshot]) -> dict[tuple[int, int], str]:
    """(government id, seq) -> the SHA-256 the ledger recorded at publication (not the row's own
    copy): a row changed behind the application's back cannot change what the pages say was
    published. Each snapshot's event is looked up in its own plan's government's chain."""
    keys = {(s.plan.government_id, s.ledger_seq) for s in snapshots}
    events = AuditEvent.objects.filter(
        government_id__in={g for g, _seq in keys},
        seq__in={seq for _g, seq in keys},
        action=PUBLISH_ACTION,
    ).values_list("government_id", "seq", "after")
    return {
        (g, seq): (after or {}).get("sha256", "")
        for g, seq, after in events
        if (g, seq) in keys  # the product of the two lists holds other governments' seqs
    }
