"""Writes of the workbench: bulk receipt (签收), bulk acceptance, saved filters.

A bulk action is one transaction: every row is checked first, and one the actor may not act on
refuses the whole request (nothing is written), as a single request would. Each row still gets
its own ledger event, the same as the single action writes.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, snapshot, update_audited
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, NotPermitted, ServiceError
from tasks_app.common.services import require, require_acts_for, violates_constraint
from tasks_app.models import (
    ReviewState,
    SavedFilter,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.reporting import services as reporting_services

SAVED_FILTERS_PER_USER = 20


@transaction.atomic
def task_receive_many(*, actor: User, task_ids: list[int]) -> list[Task]:
    """签收 of many tasks at once: the tasks received now (those already received keep their
    first receipt and are left out). Every id must be a task the actor's department leads."""
    require(permissions.is_department_member(actor), _("只有牵头单位可以签收任务。"))
    tasks = list(
        Task.objects.select_for_update()
        .filter(pk__in=task_ids, lead_department_id=actor.department_id)
        .order_by("pk")
    )
    if len(tasks) != len(set(task_ids)):
        raise NotPermitted(_("所选任务中有不由本单位牵头的任务,未签收任何任务。"))
    now = clock.now()
    received = []
    for task in tasks:
        if task.received_at is None:
            update_audited(actor, "task.receive", task, received_at=now, received_by=actor)
            received.append(task)
    return received


def needs_evidence(update: StatusUpdate) -> bool:
    """A report of 已完成 is accepted only after someone has looked at its evidence: it is
    never accepted in bulk."""
    return update.status == TaskStatus.DONE


@transaction.atomic
def status_update_accept_many(*, actor: User, update_ids: list[int]) -> list[StatusUpdate]:
    """通过 for many submitted reports that need no evidence, all or none."""
    require(permissions.is_office(actor), _("只有督查室可以审核报送。"))
    updates = list(
        StatusUpdate.objects.select_for_update()
        .filter(pk__in=update_ids)
        .select_related("task")
        .order_by("pk")
    )
    if len(updates) != len(set(update_ids)):
        raise ServiceError("not_found", _("所选报送有的已不存在。"))
    for update in updates:
        require_acts_for(actor, update.task.government_id)
        if update.review_state != ReviewState.SUBMITTED:
            raise Conflict(
                "not_awaiting_review",
                _("%(code)s 的报送已不在待审核状态,未通过任何报送。") % {"code": update.task.code},
            )
        if needs_evidence(update):
            raise ServiceError(
                "evidence_review_needed",
                _("%(code)s 报“已完成”,须逐条查看佐证材料后通过。") % {"code": update.task.code},
            )
    return [
        reporting_services.status_update_review(actor=actor, update=update, decision="accepted")
        for update in updates
    ]


# --- Saved filters ----------------------------------------------------------------------------


@transaction.atomic
def saved_filter_save(*, actor: User, name: str, query: str) -> SavedFilter:
    """Save the list's filters under a name; the same name again replaces its filters."""
    name = name.strip()
    if not name:
        raise ServiceError("name_required", _("请填写筛选名称。"), field="name")
    existing = SavedFilter.objects.select_for_update().filter(user=actor, name=name).first()
    if existing is not None:
        update_audited(actor, "saved_filter.update", existing, query=query)
        return existing
    if SavedFilter.objects.filter(user=actor).count() >= SAVED_FILTERS_PER_USER:
        raise ServiceError(
            "too_many_saved_filters",
            _("最多保存%(n)s个筛选,请先删除不用的。") % {"n": SAVED_FILTERS_PER_USER},
            field="name",
        )
    try:
        with transaction.atomic():
            return create_audited(
                actor, "saved_filter.create", SavedFilter, user=actor, name=name, query=query
            )
    except IntegrityError as error:  # saved by the same user in another tab just now
        if not violates_constraint(error, "savedfilter_unique_name"):
            raise
        raise Conflict("duplicate_name", _("已有同名筛选。"), field="name") from error


@transaction.atomic
def saved_filter_delete(*, actor: User, saved: SavedFilter) -> None:
    require(saved.user_id == actor.pk)
    audit_log(
        actor=actor,
        action="saved_filter.delete",
        obj=saved,
        before=snapshot(saved, ["name", "query"]),
    )
    saved.delete()
