"""Pages of the desk: the head's sign-off (on the task page and 部门审核), 落实反馈, change
requests. Thin: forms check the shape, the services the rules, errors show on the task page."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks_app.common import permissions
from tasks_app.common.errors import ServiceError
from tasks_app.models import ChangeRequest, Indicator, Instruction, Role, StatusUpdate, Task
from tasks_app.reporting import selectors, services, signoff
from tasks_app.reporting.desk_forms import (
    ChangeDecisionForm,
    ChangeRequestForm,
    FeedbackForm,
    SignOffForm,
)
from tasks_app.reporting.forms import add_service_error
from tasks_app.reporting.views import render_task


def _task(user, task_id: int) -> Task:
    visible = permissions.visible_tasks(user).select_related(
        "plan", "section", "key_area", "lead_department", "responsible_leader", "received_by"
    )
    return get_object_or_404(visible, pk=task_id)


def _failed(request, task: Task, form, error: ServiceError, key: str):
    add_service_error(form, error)
    if error.status != 400:  # refused or already decided: the form may not be on the page now
        messages.error(request, str(error.message))
    return render_task(request, task, status=error.status, **{key: form})


def _done(request, task: Task, message: str, anchor: str = ""):
    messages.success(request, message)
    response = redirect("workbench-task", task_id=task.pk)
    response["Location"] += anchor
    return response


def _posted(request, model, pk: int, form_class, prefix: str):
    """The form posted about one row of a task the user sees (404 otherwise): the row, its task,
    the form (prefix `<prefix>-<row id>`) and the name the task page shows it again under."""
    visible = permissions.visible_tasks(request.user)
    row = get_object_or_404(model.objects.filter(task__in=visible), pk=pk)
    task = _task(request.user, row.task_id)
    return row, task, form_class(request.POST, prefix=f"{prefix}-{row.pk}"), f"{prefix}_{row.pk}"


def _write(request, task: Task, form, key: str, write) -> HttpResponse | None:
    """Check the form and `write(**cleaned_data)`: the task page with the errors (the form under
    `key`) when either fails, None when the write was done."""
    if not form.is_valid():
        return render_task(request, task, status=400, **{key: form})
    try:
        write(**form.cleaned_data)
    except ServiceError as error:
        return _failed(request, task, form, error, key)
    return None


# --- 部门负责人审核 ------------------------------------------------------------------------------


def _signoff_done(decision: str) -> str:
    if decision == "approved":
        return _("已同意,报送已送督查室审核。")
    return _("已退回承办人修改。")


@login_required
@require_POST
def update_signoff(request, update_id: int):
    update, task, form, key = _posted(request, StatusUpdate, update_id, SignOffForm, "signoff")
    write = functools.partial(signoff.status_update_signoff, actor=request.user, update=update)
    if (failed := _write(request, task, form, key, write)) is not None:
        return failed
    message = _signoff_done(form.cleaned_data["decision"])
    if request.POST.get("next") == "queue":
        messages.success(request, f"{task.code} {update.period:%Y-%m}:{message}")
        return redirect("signoff-queue")
    return _done(request, task, message, f"#update-{update.pk}")


@login_required
def signoff_queue(request):
    """部门审核: the head's department's reports waiting for the head, oldest first."""
    if request.user.role != Role.HEAD:
        raise PermissionDenied
    updates = list(selectors.signoff_queue(user=request.user))
    for update in updates:
        update.signoff_form = SignOffForm(prefix=f"signoff-{update.pk}")
    return render(request, "tasks_app/signoff_queue.html", {"updates": updates})


# --- 落实反馈 ------------------------------------------------------------------------------------


@login_required
@require_POST
def instruction_feedback(request, instruction_id: int):
    instruction, task, form, key = _posted(
        request, Instruction, instruction_id, FeedbackForm, "feedback"
    )
    write = functools.partial(
        services.instruction_feedback_create, actor=request.user, instruction=instruction
    )
    if (failed := _write(request, task, form, key, write)) is not None:
        return failed
    return _done(request, task, _("落实反馈已发送给批示领导。"), f"#instruction-{instruction.pk}")


# --- 变更申请 ------------------------------------------------------------------------------------


@login_required
@require_POST
def change_request_create(request, task_id: int):
    task = _task(request.user, task_id)
    indicators = list(task.indicators.order_by("position"))
    form = ChangeRequestForm(request.POST, prefix="change", indicators=indicators)
    if not form.is_valid():
        return render_task(request, task, status=400, change_form=form)
    data = dict(form.cleaned_data)
    indicator_id = data.pop("indicator")
    indicator = Indicator.objects.filter(pk=indicator_id, task=task).first()
    try:
        services.change_request_create(actor=request.user, task=task, indicator=indicator, **data)
    except ServiceError as error:
        return _failed(request, task, form, error, "change_form")
    return _done(request, task, _("变更申请已提交,等待督查室审批。"), "#changes")


@login_required
@require_POST
def change_request_decide(request, change_id: int):
    change, task, form, key = _posted(
        request, ChangeRequest, change_id, ChangeDecisionForm, "decide"
    )
    write = functools.partial(services.change_request_decide, actor=request.user, change=change)
    if (failed := _write(request, task, form, key, write)) is not None:
        return failed
    message = _("变更申请已批准。") if form.cleaned_data["approve"] else _("变更申请已驳回。")
    return _done(request, task, message, "#changes")
