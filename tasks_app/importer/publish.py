"""Publishing a draft: the plan created or brought up to date from it, then published."""

from django.db import models, transaction
from django.utils.translation import gettext as _

from tasks_app.audit import services as audit_services
from tasks_app.common import clock
from tasks_app.common.errors import Conflict
from tasks_app.importer.drafts import Changes, draft_match, draft_tasks
from tasks_app.importer.services import require_office
from tasks_app.models import (
    ImportDraft,
    Indicator,
    Plan,
    User,
)
from tasks_app.plans import services as plans_services
from tasks_app.plans.bulk import indicators_bulk_delete, indicators_bulk_update


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
    _indicators_as_stated(actor, plan, data)
    plans_services.plan_publish(actor=actor, plan=plan)
    summary = {**changes.as_dict(), "created": result.created, "updated": result.updated}
    audit_services.update_audited(
        actor,
        "importdraft.publish",
        draft,
        status=ImportDraft.Status.PUBLISHED,
        plan=plan,
        published_at=clock.now(),
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


def _indicators_as_stated(actor: User | None, plan: Plan, data: dict) -> None:
    """plan_load upserts indicators by position: a target the text no longer states goes, and
    each that stays takes its kind from the text (each change audited, in two bulk batches)."""
    stored = _indicators_by_code(plan)
    surplus, kinds = [], []
    for item in draft_tasks(data):
        specs = item.get("indicators", [])
        indicators = stored.get(item["code"], [])
        surplus += [i for i in indicators if i.position > len(specs)]
        if any(spec.get("kind") for spec in specs):
            kept = [i for i in indicators if i.position <= len(specs)]
            kinds += [
                (indicator, {"kind": spec.get("kind") or ""})
                for indicator, spec in zip(kept, specs, strict=False)
            ]
    indicators_bulk_delete(actor=actor, indicators=surplus)
    indicators_bulk_update(actor=actor, changes=kinds)


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
