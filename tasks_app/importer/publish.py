"""Publishing a draft: the plan created or brought up to date from it, then published.

A draft is published only when nothing is missing (draft_checks.draft_problems: every item has
a lead department, every target a unit); the office's assignments in the draft are then written
to the tasks through plans.bulk.TaskBatch, as task_assign writes them.
"""

import datetime as dt

from django.db import models, transaction
from django.utils.translation import gettext as _

from tasks_app.audit import services as audit_services
from tasks_app.common import clock
from tasks_app.common.errors import Conflict, PreconditionFailed
from tasks_app.importer.draft_checks import EditLookups, draft_problems, problems_message
from tasks_app.importer.drafts import Changes, draft_match, draft_tasks
from tasks_app.importer.services import require_office
from tasks_app.models import (
    Department,
    ImportDraft,
    Indicator,
    Plan,
    User,
)
from tasks_app.plans import services as plans_services
from tasks_app.plans.bulk import TaskBatch, indicators_bulk_delete, indicators_bulk_update


@transaction.atomic
def import_draft_publish(
    *,
    actor: User | None,
    draft: ImportDraft,
    version: int | None = None,
    allow_incomplete: bool = False,
) -> tuple[Plan, dict]:
    """Create or update the plan from the draft and publish it; (plan, changes).

    Refused while something is missing (allow_incomplete: the command line's system import,
    whose departments come later from a 任务分解表), or when version is given and the draft has
    been edited since. Publishing the same text twice changes nothing the second time. On a plan
    that is already published, a changed target or deadline is refused: they then change only
    through a change request.
    """
    require_office(actor)
    draft = ImportDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status == ImportDraft.Status.PUBLISHED:
        raise Conflict("draft_already_published", _("该草稿已发布,请重新导入以比对变更。"))
    if version is not None and version != draft.version:
        raise PreconditionFailed()
    problems = draft_problems(draft.data, EditLookups.load(government_id=draft.government_id))
    if problems and not allow_incomplete:
        raise Conflict("draft_incomplete", problems_message(problems))
    # A draft publishes into its own government: the uploading office's, or the one the command
    # line named (import_report --government NAME).
    government = draft.government
    data, changes, existing_plan = draft_match(draft.data, government=government)
    if existing_plan and existing_plan.status == Plan.Status.PUBLISHED:
        _refuse_target_changes(changes)
        _refuse_deadline_changes(existing_plan, data)
    plan, result = plans_services.plan_load(actor=actor, data=data, government=government)
    _indicators_as_stated(actor, plan, data)
    assigned = _assignments_as_drafted(actor, plan, data)
    plans_services.plan_publish(actor=actor, plan=plan)
    summary = {
        **changes.as_dict(),
        "assigned": assigned,
        "created": result.created,
        "updated": result.updated,
    }
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


def _refuse_deadline_changes(plan: Plan, data: dict) -> None:
    stored = dict(plan.tasks.filter(deadline__isnull=False).values_list("code", "deadline"))
    codes = [
        item["code"]
        for item in draft_tasks(data)
        if item["code"] in stored
        and (item.get("assignment") or {}).get("deadline")
        and item["assignment"]["deadline"] != stored[item["code"]].isoformat()
    ]
    if codes:
        raise Conflict(
            "published_deadlines_changed",
            _("计划已发布,以下任务的完成时限有变化,须通过变更申请办理:%(codes)s")
            % {"codes": "、".join(codes[:20])},
        )


def _assignments_as_drafted(actor: User | None, plan: Plan, data: dict) -> list[str]:
    """The office's assignments in the draft written to the tasks; the codes of the tasks whose
    assignment changed. What the draft leaves empty, the task keeps (a re-imported task its lead,
    co-departments, leader or deadline)."""
    wanted = {
        item["code"]: item["assignment"] for item in draft_tasks(data) if item.get("assignment")
    }
    if not wanted:
        return []
    ids = dict(plan.tasks.filter(code__in=list(wanted)).values_list("code", "pk"))
    batch = TaskBatch.lock(actor=actor, plan=plan, task_ids=list(ids.values()))
    departments = Department.objects.filter(government_id=plan.government_id).in_bulk()
    leaders = User.objects.filter(government_id=plan.government_id).in_bulk(
        {a.get("responsible_leader") for a in wanted.values()}
        | {task.responsible_leader_id for task in batch.tasks.values()}
    )
    changed = []
    for code, assignment in wanted.items():
        task = batch.tasks[ids[code]]
        stored = (
            task.lead_department_id,
            batch.co_department_ids(task),
            task.responsible_leader_id,
            task.deadline,
        )
        deadline = assignment.get("deadline")
        drafted = (
            assignment.get("lead_department"),
            sorted(assignment.get("co_departments") or []),
            assignment.get("responsible_leader"),
            dt.date.fromisoformat(deadline) if deadline else None,
        )
        lead, co, leader, deadline = (d or s for d, s in zip(drafted, stored, strict=True))
        co = [pk for pk in co if pk in departments and pk != lead]
        if (lead, co, leader, deadline) == stored:
            continue
        batch.task_assign(
            task,
            lead_department=departments.get(lead),
            co_departments=[departments[pk] for pk in co],
            responsible_leader=leaders.get(leader),
            start_date=task.start_date,
            deadline=deadline,
        )
        changed.append(code)
    batch.save()
    return changed


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
