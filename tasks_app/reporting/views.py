"""Server-rendered pages. Thin: read via selectors, write via the same services as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, ServiceError
from tasks_app.common.quantities import plain_number
from tasks_app.models import (
    Evidence,
    Indicator,
    ReviewState,
    StatusUpdate,
    Task,
)
from tasks_app.reporting import selectors, services, task_desk
from tasks_app.reporting.forms import (
    ContributionForm,
    CorrectionForm,
    InstructionForm,
    ReportForm,
    ReviewForm,
    add_service_error,
)
from tasks_app.workbench.forms import ReviewQueueFilterForm
from tasks_app.workbench.selectors import review_queue_filtered
from tasks_app.workbench.services import needs_evidence

# Evidence shown in the page itself (review queue previews); everything else is downloaded.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})

# --- Task page ------------------------------------------------------------------------------


def _visible_task(user, task_id: int) -> Task:
    tasks = permissions.visible_tasks(user).select_related(
        "plan", "section", "key_area", "lead_department", "responsible_leader", "received_by"
    )
    return get_object_or_404(tasks, pk=task_id)


def _indicators(task: Task) -> list[Indicator]:
    return list(task.indicators.order_by("position"))


def _correction_form(update: StatusUpdate, indicators: list[Indicator]) -> CorrectionForm:
    initial = {
        "version": update.version,
        "status": update.status,
        "progress": update.progress,
        "narrative": update.narrative,
        "explanation": update.explanation,
    }
    initial.update(
        {f"indicator_{v.indicator_id}": plain_number(v.value) for v in update.values.all()}
    )
    return CorrectionForm(prefix=f"correct-{update.pk}", initial=initial, indicators=indicators)


def _mark_instructions_read(user, task: Task) -> set[int]:
    """When the lead department opens the page its unread instructions become read."""
    if not permissions.leads(user, task):
        return set()
    unread = list(task.instructions.filter(read_at__isnull=True))
    for instruction in unread:
        services.instruction_mark_read(actor=user, instruction=instruction)
    return {instruction.pk for instruction in unread}


def _render_task(request, task: Task, *, status: int = 200, **bound):
    """The task page; `bound` holds forms carrying errors, keyed as the context names them."""
    user = request.user
    indicators = _indicators(task)
    history = list(selectors.update_list(task=task))
    leads = permissions.leads(user, task)
    for update in history:
        if leads and update.review_state == ReviewState.RETURNED:
            update.correction_form = bound.get(f"correct_{update.pk}") or _correction_form(
                update, indicators
            )
    next_report = selectors.task_next_report(task=task, reported=[u.period for u in history])
    # The form offers the period the schedule asks for next, once it has begun (a report for a
    # month still to come is refused).
    next_period = next_report.period if next_report else None
    if next_period and next_period > clock.today().replace(day=1):
        next_period = None
    context = {
        "task": task,
        "indicators": indicators,
        "milestones": task.milestones.all(),
        "newly_read": _mark_instructions_read(user, task) if request.method == "GET" else set(),
        "instructions": task.instructions.select_related("leader").order_by("-created_at"),
        "history": history,
        "contributions": task.contributions.select_related("department", "author"),
        "change_requests": task.change_requests.select_related("indicator", "requested_by"),
        "co_departments": task.co_departments.all(),
        "next_report": next_report,
        "leads": leads,
        "co_leads": permissions.co_leads(user, task),
        "is_leader": permissions.is_leader(user) and permissions.acts_for(user, task.government_id),
        "other_government": not permissions.acts_for(user, task.government_id),
    }
    if leads:
        context["report_form"] = bound.get("report_form") or ReportForm(
            prefix="report", indicators=indicators, initial={"period": next_period}
        )
    if context["co_leads"]:
        context["contribution_form"] = bound.get("contribution_form") or ContributionForm(
            prefix="contribution", initial={"period": next_period}
        )
    if context["is_leader"]:
        context["instruction_form"] = bound.get("instruction_form") or InstructionForm(
            prefix="instruction"
        )
    context.update(task_desk.context(user, task, history=history, bound=bound))
    return render(request, "tasks_app/workbench_task.html", context, status=status)


def render_task(request, task: Task, *, status: int = 200, **bound):
    """The task page with forms carrying errors, for the sibling page module (desk_views)."""
    return _render_task(request, task, status=status, **bound)


def _service_failed(request, form, error: ServiceError) -> int:
    add_service_error(form, error)
    if error.status == 403:  # the form may not be on the page for this user: say it on top too
        messages.error(request, str(error.message))
    return error.status


def _done(request, task: Task, message: str):
    messages.success(request, message)
    return redirect("workbench-task", task_id=task.pk)


@login_required
def task_page(request, task_id: int):
    return _render_task(request, _visible_task(request.user, task_id))


@login_required
@require_POST
def task_receive(request, task_id: int):
    task = _visible_task(request.user, task_id)
    try:
        services.task_receive(actor=request.user, task=task)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("workbench-task", task_id=task.pk)
    return _done(request, task, _("已签收。"))


@login_required
@require_POST
def task_report(request, task_id: int):
    task = _visible_task(request.user, task_id)
    form = ReportForm(request.POST, request.FILES, prefix="report", indicators=_indicators(task))
    if not form.is_valid():
        return _render_task(request, task, status=400, report_form=form)
    data = form.cleaned_data
    try:
        services.status_update_submit(
            actor=request.user,
            task=task,
            period=data["period"],
            status=data["status"],
            progress=data["progress"],
            narrative=data["narrative"],
            public_narrative=data["public_narrative"],
            explanation=data["explanation"],
            indicator_values=form.indicator_values(),
            evidence=[data["evidence"]] if data["evidence"] else [],
        )
    except ServiceError as error:
        return _render_task(
            request, task, status=_service_failed(request, form, error), report_form=form
        )
    if task_desk.awaits_signoff(request.user, task):
        return _done(request, task, _("已报送,等待部门负责人审核。"))
    return _done(request, task, _("已报送,等待督查室审核。"))


@login_required
@require_POST
def update_correct(request, update_id: int):
    update = get_object_or_404(
        StatusUpdate.objects.filter(task__in=permissions.visible_tasks(request.user)), pk=update_id
    )
    task = _visible_task(request.user, update.task_id)
    form = CorrectionForm(
        request.POST, request.FILES, prefix=f"correct-{update.pk}", indicators=_indicators(task)
    )
    bound = {f"correct_{update.pk}": form}
    if not form.is_valid():
        return _render_task(request, task, status=400, **bound)
    data = form.cleaned_data
    try:
        services.status_update_correct(
            actor=request.user,
            update=update,
            expected_version=data["version"],
            indicator_values=form.indicator_values(),
            evidence=[data["evidence"]] if data["evidence"] else [],
            status=data["status"],
            progress=data["progress"],
            narrative=data["narrative"],
            explanation=data["explanation"],
        )
    except ServiceError as error:
        return _render_task(request, task, status=_service_failed(request, form, error), **bound)
    if task_desk.awaits_signoff(request.user, task):
        return _done(request, task, _("已修改并重新报送,等待部门负责人审核。"))
    return _done(request, task, _("已修改并重新报送,等待督查室审核。"))


@login_required
@require_POST
def task_contribute(request, task_id: int):
    task = _visible_task(request.user, task_id)
    form = ContributionForm(request.POST, prefix="contribution")
    if not form.is_valid():
        return _render_task(request, task, status=400, contribution_form=form)
    try:
        services.contribution_submit(actor=request.user, task=task, **form.cleaned_data)
    except ServiceError as error:
        return _render_task(
            request, task, status=_service_failed(request, form, error), contribution_form=form
        )
    return _done(request, task, _("配合情况已报送。"))


@login_required
@require_POST
def task_instruct(request, task_id: int):
    task = _visible_task(request.user, task_id)
    form = InstructionForm(request.POST, prefix="instruction")
    if not form.is_valid():
        return _render_task(request, task, status=400, instruction_form=form)
    try:
        services.instruction_create(actor=request.user, task=task, text=form.cleaned_data["text"])
    except ServiceError as error:
        return _render_task(
            request, task, status=_service_failed(request, form, error), instruction_form=form
        )
    return _done(request, task, _("批示已发出。"))


@login_required
def evidence_download(request, evidence_id: int):
    evidence = get_object_or_404(
        Evidence.objects.filter(update__task__in=permissions.visible_tasks(request.user)),
        pk=evidence_id,
    )
    inline = request.GET.get("inline") == "1" and evidence.content_type in INLINE_TYPES
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=not inline,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if inline:  # previewed in the review queue's <iframe>/<img>: framed by our own pages only
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Cache-Control"] = "private, max-age=300"
    return response


# --- 审核队列 ----------------------------------------------------------------------------------


def _render_queue(request, *, status: int = 200, failed: StatusUpdate | None = None, form=None):
    filters = ReviewQueueFilterForm(
        request.GET, government_ids=permissions.readable_government_ids(request.user)
    )
    updates = list(
        review_queue_filtered(selectors.review_queue(user=request.user), **filters.filters())
    )
    for update in updates:
        update.review_form = (
            form if failed and update.pk == failed.pk else ReviewForm(prefix=f"review-{update.pk}")
        )
        update.bulk_acceptable = not needs_evidence(update)
    context = {
        "updates": updates,
        "filters": filters,
        "query_string": request.GET.urlencode(),
    }
    return render(request, "tasks_app/review_queue.html", context, status=status)


def _require_office(user) -> None:
    if not permissions.is_office(user):
        raise PermissionDenied


@login_required
def review_queue(request):
    _require_office(request.user)
    return _render_queue(request)


@login_required
@require_POST
def review_decide(request, update_id: int):
    _require_office(request.user)
    visible = StatusUpdate.objects.filter(task__in=permissions.visible_tasks(request.user))
    update = get_object_or_404(visible.select_related("task"), pk=update_id)
    form = ReviewForm(request.POST, prefix=f"review-{update.pk}")
    if not form.is_valid():
        return _render_queue(request, status=400, failed=update, form=form)
    try:
        services.status_update_review(actor=request.user, update=update, **form.cleaned_data)
    except Conflict as error:  # already decided by someone else: it has left the queue
        messages.error(request, f"{update.task.code} {update.period:%Y-%m}:{error.message}")
        return _back_to_queue(request)
    except ServiceError as error:
        return _render_queue(
            request, status=_service_failed(request, form, error), failed=update, form=form
        )
    done = _("已通过") if form.cleaned_data["decision"] == "accepted" else _("已退回")
    messages.success(request, f"{update.task.code} {update.period:%Y-%m}:{done}")
    return _back_to_queue(request)


def _back_to_queue(request):
    """The queue again, with the filters it was showing."""
    query = request.GET.urlencode()
    return redirect(reverse("review-queue") + (f"?{query}" if query else ""))
