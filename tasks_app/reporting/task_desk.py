"""What the task page adds for the person who acts: the head's sign-off forms, the 落实反馈
thread and form under each instruction, change requests (ask, decide, original and current
values) and the note where the department's own status and the computed light disagree."""

from django.utils.translation import gettext as _

from tasks_app.common import permissions
from tasks_app.models import ChangeRequest, Light, Plan, ReviewState, Task, User
from tasks_app.plans.schedule import (
    REPORTED_BEHIND_BUT_ON_SCHEDULE,
    REPORTED_DONE_BUT_INCOMPLETE,
    REPORTED_ON_SCHEDULE_BUT_BEHIND,
)
from tasks_app.plans.selectors import task_schedule
from tasks_app.reporting import selectors, signoff
from tasks_app.reporting.desk_forms import (
    ChangeDecisionForm,
    ChangeRequestForm,
    FeedbackForm,
    SignOffForm,
)


def disagreement_note(task: Task) -> str:
    """The sentence shown where the self-reported status and the computed light disagree."""
    state = task_schedule(task)
    values = {
        "status": task.get_status_display(),
        "light": Light(state.light).label,
        "expected": state.expected_progress,
        "progress": task.progress,
    }
    if state.disagreement == REPORTED_ON_SCHEDULE_BUT_BEHIND:
        return (
            _(
                "自报状态为“%(status)s”,但按序时进度计算为%(light)s"
                "(序时 %(expected)s%%,实际 %(progress)s%%),请核实并作情况说明。"
            )
            % values
        )
    if state.disagreement == REPORTED_DONE_BUT_INCOMPLETE:
        return _("自报“已完成”,但进度为 %(progress)s%%,请核实。") % values
    if state.disagreement == REPORTED_BEHIND_BUT_ON_SCHEDULE:
        return (
            _("自报“滞后”,但按序时进度计算未滞后(序时 %(expected)s%%,实际 %(progress)s%%)。")
            % values
        )
    return ""


def awaits_signoff(user: User, task: Task) -> bool:
    """Whether what this user just submitted waits for the department head."""
    return signoff.signoff_applies(actor=user, task=task)


def _signoff_forms(user: User, task: Task, history: list, bound: dict) -> None:
    if not signoff.is_head_of(user, task):
        return
    for update in history:
        if update.review_state == ReviewState.SIGNOFF:
            update.signoff_form = bound.get(f"signoff_{update.pk}") or SignOffForm(
                prefix=f"signoff-{update.pk}"
            )


def _instructions(user: User, task: Task, leads: bool, bound: dict) -> list:
    instructions = list(selectors.task_instructions(task=task))
    for instruction in instructions:
        if leads:
            instruction.feedback_form = bound.get(f"feedback_{instruction.pk}") or FeedbackForm(
                prefix=f"feedback-{instruction.pk}"
            )
    return instructions


def _change_requests(user: User, task: Task, leads: bool, bound: dict) -> dict:
    changes = list(task.change_requests.select_related("indicator", "requested_by", "decided_by"))
    office = permissions.is_office(user) and permissions.acts_for(user, task.government_id)
    for change in changes:
        if office and change.state == ChangeRequest.State.PENDING:
            change.decision_form = bound.get(f"decide_{change.pk}") or ChangeDecisionForm(
                prefix=f"decide-{change.pk}"
            )
    context = {"change_requests": changes}
    if leads and task.plan.status == Plan.Status.PUBLISHED:
        context["change_form"] = bound.get("change_form") or ChangeRequestForm(
            prefix="change", indicators=list(task.indicators.order_by("position"))
        )
    return context


def context(user: User, task: Task, *, history: list, bound: dict) -> dict:
    leads = permissions.leads(user, task)
    _signoff_forms(user, task, history, bound)
    return {
        "disagreement_note": disagreement_note(task),
        "needs_explanation": leads and task.light == Light.RED,
        "signoff_on": task.plan.department_signoff,
        "instructions": _instructions(user, task, leads, bound),
        **_change_requests(user, task, leads, bound),
    }
