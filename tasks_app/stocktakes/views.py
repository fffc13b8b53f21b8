"""调度会 pages and the confidence ratings page. Thin: read via selectors, write via services."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks_app.common import clock, permissions
from tasks_app.common.errors import ServiceError
from tasks_app.models import (
    Confidence,
    Department,
    PackState,
    PlanStatus,
    StocktakePack,
    Task,
)
from tasks_app.stocktakes import calibration, selectors, services
from tasks_app.stocktakes.documents import pack_docx
from tasks_app.stocktakes.quarters import quarter_label, quarter_of

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _may_read(user) -> None:
    if not (user.role in permissions.SEE_ALL_ROLES and user.is_active):
        raise PermissionDenied


def _office_only(user) -> None:
    if not permissions.is_office(user):
        raise PermissionDenied


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


@login_required
def pack_index(request):
    _may_read(request.user)
    plans = permissions.visible_plans(request.user).filter(status=PlanStatus.PUBLISHED)
    plans = plans.order_by("-year", "pk")
    if request.method == "POST":
        _office_only(request.user)
        plan = get_object_or_404(plans, pk=request.POST.get("plan"))
        as_of = _date(request.POST.get("as_of"))
        if as_of is None:
            messages.error(request, _("请填写正确的数据截至日期。"))
            return redirect("stocktakes")
        try:
            pack = services.pack_prepare(
                actor=request.user, plan=plan, as_of=as_of, title=request.POST.get("title", "")
            )
        except ServiceError as error:
            messages.error(request, str(error.message))
            return redirect("stocktakes")
        return redirect("stocktake-pack", pack.pk)
    return render(
        request,
        "tasks_app/stocktakes/index.html",
        {
            "packs": selectors.pack_list(),
            "plans": plans,
            "today": clock.today(),
            "is_office": permissions.is_office(request.user),
        },
    )


def _decision_rows(pack: StocktakePack) -> list[dict]:
    return [
        {
            "task_id": d.task_id,
            "code": d.task.code,
            "title": d.task.title,
            "lead_department": d.task.lead_department.name if d.task.lead_department else "",
            "deadline": d.task.deadline.isoformat() if d.task.deadline else "",
            "received": d.task.received_at is not None,
            "status": d.task.get_status_display(),
            "concerns": ", ".join(t.code for t in d.concerns.all()),
        }
        for d in selectors.pack_decisions(pack=pack)
    ]


def _packs(user):
    """Packs of the plans the user reads (another government's pack: 404)."""
    return selectors.pack_list().filter(plan__in=permissions.visible_plans(user))


def _pack_context(request, pack_id: int) -> dict:
    _may_read(request.user)
    pack = get_object_or_404(_packs(request.user), pk=pack_id)
    return {
        "pack": pack,
        "contents": selectors.pack_view(pack=pack),
        "decisions": _decision_rows(pack),
        "is_office": permissions.is_office(request.user),
        "held": pack.state == PackState.HELD,
    }


@login_required
def pack_page(request, pack_id: int):
    context = _pack_context(request, pack_id)
    pack = context["pack"]
    context["departments"] = Department.objects.filter(
        government_id=pack.plan.government_id
    ).order_by("name")
    context["plan_tasks"] = Task.objects.filter(plan=pack.plan).order_by("position", "code")
    return render(request, "tasks_app/stocktakes/pack.html", context)


@login_required
def pack_print(request, pack_id: int):
    return render(request, "tasks_app/stocktakes/print.html", _pack_context(request, pack_id))


@login_required
def pack_download(request, pack_id: int):
    context = _pack_context(request, pack_id)
    pack = context["pack"]
    body = pack_docx(
        title=pack.title,
        state_label=pack.get_state_display(),
        contents=context["contents"],
        decisions=context["decisions"],
    )
    response = HttpResponse(body, content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="stocktake-{pack.pk}.docx"'
    return response


@login_required
@require_POST
def pack_hold(request, pack_id: int):
    _office_only(request.user)
    pack = get_object_or_404(_packs(request.user), pk=pack_id)
    try:
        services.pack_hold(actor=request.user, pack=pack)
        messages.success(request, _("调度会已召开,材料已冻结。"))
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect("stocktake-pack", pack.pk)


@login_required
@require_POST
def decision_add(request, pack_id: int):
    _office_only(request.user)
    pack = get_object_or_404(_packs(request.user), pk=pack_id)
    department = Department.objects.filter(
        pk=request.POST.get("lead_department") or 0, government_id=pack.plan.government_id
    ).first()
    deadline = _date(request.POST.get("deadline"))
    if department is None or deadline is None:
        messages.error(request, _("请选择牵头单位并填写完成时限。"))
        return redirect("stocktake-pack", pack.pk)
    concerns = Task.objects.filter(plan=pack.plan, pk__in=request.POST.getlist("concerns"))
    try:
        decision = services.decision_record(
            actor=request.user,
            pack=pack,
            title=request.POST.get("title", ""),
            lead_department=department,
            deadline=deadline,
            concerns=list(concerns),
        )
        messages.success(request, _("已记录议定事项 %(code)s。") % {"code": decision.task.code})
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect("stocktake-pack", pack.pk)


# --- Confidence ratings -----------------------------------------------------------------------


@login_required
def ratings_page(request):
    _office_only(request.user)
    plans = permissions.visible_plans(request.user).filter(status=PlanStatus.PUBLISHED)
    plans = plans.order_by("-year", "pk")
    plan = plans.filter(pk=request.GET.get("plan") or 0).first() or plans.first()
    tasks = (
        list(Task.objects.filter(plan=plan).select_related("lead_department").order_by("position"))
        if plan
        else []
    )
    latest = calibration.latest_ratings(t.pk for t in tasks)
    for task in tasks:
        task.confidence = latest.get(task.pk)
    today = clock.today()
    return render(
        request,
        "tasks_app/stocktakes/ratings.html",
        {
            "plans": plans,
            "plan": plan,
            "tasks": tasks,
            "levels": Confidence.choices,
            "quarter": quarter_label(quarter_of(today)),
            "calibration": calibration.calibration(as_of=today),
        },
    )


@login_required
@require_POST
def rating_add(request, task_id: int):
    _office_only(request.user)
    task = get_object_or_404(permissions.visible_tasks(request.user), pk=task_id)
    try:
        services.rating_record(
            actor=request.user,
            task=task,
            level=request.POST.get("level", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("已评定 %(code)s。") % {"code": task.code})
    except ServiceError as error:
        messages.error(request, str(error.message))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = f"{reverse('ratings')}?plan={task.plan_id}"
    return redirect(back)
