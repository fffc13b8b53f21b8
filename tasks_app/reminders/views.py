"""Pages of the reminders feature: the notifications list, marking read, 催办 from the web."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks_app.common import permissions
from tasks_app.common.errors import ServiceError
from tasks_app.reminders import chasing, inbox, services

PAGE_SIZE = 30


@login_required
def notifications(request):
    page = Paginator(inbox.notification_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page}
    if permissions.is_office(request.user):
        context["departments"] = inbox.chaseable_departments(user=request.user).order_by("name")
    return render(request, "tasks_app/reminders/notifications.html", context)


@login_required
@require_POST
def notifications_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isascii() and i.isdigit()] or None
    services.notification_mark_read(actor=request.user, notification_ids=ids)
    return redirect("notifications")


def _chased(request, action, target_url):
    try:
        action()
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已催办。"))
    return redirect(target_url)


@login_required
@require_POST
def task_chase(request, task_id: int):
    task = get_object_or_404(permissions.visible_tasks(request.user), pk=task_id)
    note = request.POST.get("note", "")
    return _chased(
        request,
        lambda: chasing.chase_task(actor=request.user, task=task, note=note),
        f"/workbench/tasks/{task.pk}/#chase",
    )


@login_required
@require_POST
def department_chase(request):
    department = get_object_or_404(
        inbox.chaseable_departments(user=request.user), pk=request.POST.get("department") or 0
    )
    note = request.POST.get("note", "")
    return _chased(
        request,
        lambda: chasing.chase_department(actor=request.user, department=department, note=note),
        "/notifications/",
    )
