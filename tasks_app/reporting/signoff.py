"""Department sign-off (部门负责人审核): 承办人 submits, the head approves or returns, the office.

Configurable per plan (``Plan.department_signoff``, off by default). With it on, a report written
by a department's staff waits in state ``signoff`` until one of the department's heads approves
it (it then enters the office's queue, as a submission of that moment) or returns it with a
comment (state ``returned``: the author corrects and resubmits, and the new revision waits for
the head again). A head's own report, and a report of a department without an active head, go
straight to the office: nobody else could sign them. Each decision is a ``SignOff`` row (one
per revision) and a ledger event; a report waiting for its head is a due item of the reminder
ladder (``signoff:<id>:<revision>``, due two working days after submission, to the heads).
With sign-off off nothing here is called, and reports go to the office as before.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import create_audited, update_audited
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, ServiceError
from tasks_app.common.services import require, require_acts_for, version_bump
from tasks_app.models import Plan, ReviewState, Role, SignOff, StatusUpdate, Task, User
from tasks_app.reminders import notifications


def signoff_applies(*, actor: User, task: Task) -> bool:
    """Whether a report by actor on task must pass the department head first."""
    if actor.role == Role.HEAD or task.lead_department_id is None:
        return False
    if hasattr(task, "plan_signoff"):  # read with the task (plans.selectors.task_for_write)
        plan_on = task.plan_signoff
    else:
        plan_on = Plan.objects.filter(pk=task.plan_id, department_signoff=True).exists()
    return plan_on and bool(notifications.department_heads(task.lead_department_id))


def submitted_state(*, actor: User, task: Task) -> str:
    """The state a new report, or a returned one resubmitted, starts in."""
    return ReviewState.SIGNOFF if signoff_applies(actor=actor, task=task) else ReviewState.SUBMITTED


def announce_submission(update: StatusUpdate) -> None:
    """Tell whoever must look at the report next: its head, or the office."""
    if update.review_state == ReviewState.SIGNOFF:
        notifications.notify_signoff_requested(update=update)
    else:
        notifications.notify_report_submitted(update=update)


def is_head_of(user: User, task: Task) -> bool:
    return user.role == Role.HEAD and permissions.leads(user, task)


@transaction.atomic
def status_update_signoff(
    *, actor: User, update: StatusUpdate, decision: str, reason: str = ""
) -> StatusUpdate:
    """The head approves (the report goes to the office) or returns it with a comment."""
    require_acts_for(actor, update.task.government_id)
    require(is_head_of(actor, update.task), _("只有牵头单位的部门负责人可以审核本部门的报送。"))
    update = StatusUpdate.objects.select_for_update().select_related("task").get(pk=update.pk)
    if update.review_state != ReviewState.SIGNOFF:
        raise Conflict("not_awaiting_signoff", _("该报送不在待部门负责人审核状态。"))
    if decision not in SignOff.Decision.values:
        raise ServiceError("invalid_decision", _("审核结果无效。"), field="decision")
    if decision == SignOff.Decision.RETURNED and not reason.strip():
        raise ServiceError("reason_required", _("退回须说明意见。"), field="reason")
    signoff = create_audited(
        actor,
        f"status_update.signoff_{decision}",
        SignOff,
        update=update,
        revision=update.revision,
        decision=decision,
        reason=reason.strip(),
        signer=actor,
    )
    approved = decision == SignOff.Decision.APPROVED
    now = clock.now()
    update_audited(
        actor,
        "status_update.review_state",
        update,
        review_state=ReviewState.SUBMITTED if approved else ReviewState.RETURNED,
        **({"submitted_at": now} if approved else {}),
    )
    version_bump(update)
    notifications.notifications_clear(
        ref=notifications.update_ref(update), kinds=["signoff"], now=now
    )
    if approved:
        notifications.notify_report_submitted(update=update, now=now)
    else:
        notifications.notify_signoff_returned(signoff=signoff, now=now)
    return update
