"""Publishing a draft: the plan created or brought up to date from it, then published."""

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.audit import ledger_batch
from tasks_app.audit import services as audit_services
from tasks_app.common.errors import Conflict
from tasks_app.importer.breakdown_apply import _bulk_update, _set_fields
from tasks_app.importer.drafts import Changes, draft_match, draft_tasks
from tasks_app.importer.services import require_office
from tasks_app.models import (
    ImportDraft,
    Indicator,
    Plan,
    User,
)
from tasks_app.plans import services as plans_services

# --- Publishing -------------------------------------------------------------------------------


@transaction.atomic
def import_draft_publish(*, actor: User | None, draft: ImportDraft) -> tuple[Plan, dict]:
    """Create or update the plan from the draft and publish it; (plan, changes).

    Publishing the same text twice changes nothing the second time. On a plan that is already
    published, a changed target is refused: targets then change only through a change request.
    """
    require_office(actor)
    draft = ImportDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status == ImportDraft.Status.PUBLISHED:
        raise Conflict("draft_already_published", _("该草稿已发布,请重新导入以比对变更。"))
    data, changes, existing_plan = draft_match(draft.data)
    if existing_plan and existing_plan.status == Plan.Status.PUBLISHED:
        _refuse_target_changes(changes)
    plan, result = plans_services.plan_load(actor=actor, data=data)
    _drop_surplus_indicators(actor, plan, data)
    _store_kinds(actor, plan, data)
    plans_services.plan_publish(actor=actor, plan=plan)
    summary = {**changes.as_dict(), "created": result.created, "updated": result.updated}
    audit_services.update_audited(
        actor,
        "importdraft.publish",
        draft,
        status=ImportDraft.Status.PUBLISHED,
        plan=plan,
        published_at=timezone.now(),
        changes=summary,
    )
    return plan, summary


def _refuse_target_changes(changes: Changes) -> None:
    codes = [item["code"] for item in changes.changed if "indicators" in item["fields"]]
    if codes:
        raise Conflict(
            "published_targets_changed",
            _("计划已发布,以下任务的目标值有变化,须通过变更申请办理:%(codes)s")
            % {"codes": "、".join(codes[:20])},
        )


def _drop_surplus_indicators(actor: User | None, plan: Plan, data: dict) -> None:
    """plan_load upserts indicators by position; a target the text no longer states goes."""
    counts = {item["code"]: len(item.get("indicators", [])) for item in draft_tasks(data)}
    stored = _indicators_by_code(plan)
    for code, count in counts.items():
        for indicator in stored.get(code, []):
            if indicator.position <= count:
                continue
            before = audit_services.snapshot(
                indicator, ["name", "target_value", "unit", "comparator"]
            )
            audit_services.audit_log(
                actor=actor, action="indicator.delete", obj=indicator, before=before
            )
            indicator.delete()


def _store_kinds(actor: User | None, plan: Plan, data: dict) -> None:
    """Each indicator's kind from the text, as update_audited would set it one by one."""
    stored = _indicators_by_code(plan)
    events = ledger_batch.EventBatch(actor)
    changed = []
    for item in draft_tasks(data):
        kinds = [spec.get("kind", "") for spec in item.get("indicators", [])]
        if not any(kinds):
            continue
        for indicator, kind in zip(stored.get(item["code"], []), kinds, strict=False):
            if _set_fields(events, "indicator.update", indicator, {"kind": kind or ""}):
                changed.append(indicator)
    _bulk_update(Indicator, changed, ["kind"])
    events.write()


def _indicators_by_code(plan: Plan) -> dict[str, list[Indicator]]:
    """Task code -> the plan's indicators of that task by position, in one query."""
    found: dict[str, list[Indicator]] = {}
    indicators = (
        Indicator.objects.filter(plan=plan, task__isnull=False)
        .annotate(task_code=models.F("task__code"))
        .order_by("task_id", "position")
    )
    for indicator in indicators:
        found.setdefault(indicator.task_code, []).append(indicator)
    return found
