"""我的任务: the list with search, filters, sorting and saved filters; bulk 签收 and 催办; the
list as CSV/XLSX; bulk 通过 in the review queue. Thin: selectors read, services write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import ValidationError
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tasks_app.common import permissions
from tasks_app.common.errors import ServiceError
from tasks_app.common.spreadsheets import append_row, csv_chunks, xlsx_bytes
from tasks_app.models import SavedFilter
from tasks_app.reminders import chasing
from tasks_app.reporting import selectors as reporting_selectors
from tasks_app.workbench import selectors, services
from tasks_app.workbench.forms import SavedFilterForm, WorkbenchFilterForm, ticked_task_ids

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000


def _filter_form(request) -> WorkbenchFilterForm:
    see_all = request.user.role in permissions.SEE_ALL_ROLES
    return WorkbenchFilterForm(
        request.GET,
        see_all=see_all,
        government_ids=permissions.readable_government_ids(request.user),
    )


def _page(tasks, query, number):
    """One page of the list, each task with its next report; sorting by the next report needs
    every task's, so that sort reads the whole list (two more queries either way)."""
    if query.sort_key == "next":
        rows = selectors.with_next_reports(list(tasks))
        rows = selectors.sorted_by_next_report(rows, descending=query.descending)
        return Paginator(rows, PAGE_SIZE).get_page(number)
    page = Paginator(tasks, PAGE_SIZE).get_page(number)
    selectors.with_next_reports(list(page))
    return page


@login_required
def workbench(request):
    form = _filter_form(request)
    query = form.query()
    tasks = selectors.workbench_tasks(user=request.user, query=query)
    user = request.user
    context = {
        "form": form,
        "page": _page(tasks, query, request.GET.get("page")),
        "sort": query.sort,
        "query_string": form.query_string(),
        "query_without_sort": form.query_string(with_sort=False),
        "saved_filters": SavedFilter.objects.filter(user=user),
        "saved_filter_form": SavedFilterForm(initial={"query": form.query_string()}),
        "is_department": permissions.is_department_member(user),
        "see_all": form.see_all,
        "can_receive": permissions.is_department_member(user),
        "can_chase": permissions.is_office(user),
        "filtered": any(v for k, v in form.cleaned_data.items() if k != "sort"),
        "rule_plans": reporting_selectors.workbench_rule_plans(user=user),
    }
    return render(request, "tasks_app/workbench.html", context)


def _back(request, fallback: str = "workbench"):
    """Back to the list the action was taken from (its filters and page), on this site only."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def bulk_receive(request):
    """签收 of the ticked tasks: one request, one receipt (and one ledger event) per task."""
    try:
        ids = ticked_task_ids(request.POST)
        received = services.task_receive_many(actor=request.user, task_ids=ids)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        skipped = len(ids) - len(received)
        text = _("已签收 %(n)s 项。") % {"n": len(received)}
        if skipped:
            text += _("另有 %(n)s 项此前已签收。") % {"n": skipped}
        messages.success(request, text)
    return _back(request)


@login_required
@require_POST
def bulk_chase(request):
    """催办 of the ticked tasks (督查室): each task's lead department is chased."""
    if not permissions.is_office(request.user):
        raise PermissionDenied
    try:
        ids = ticked_task_ids(request.POST)
        tasks = list(permissions.visible_tasks(request.user).filter(pk__in=ids).order_by("pk"))
        chased, skipped = chasing.chase_tasks(
            actor=request.user, tasks=tasks, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        if chased:
            messages.success(request, _("已催办 %(n)s 项。") % {"n": len(chased)})
        for task, reason in skipped:
            messages.error(request, f"{task.code}:{reason}")
    return _back(request)


# --- The list as a spreadsheet ----------------------------------------------------------------


def _export_rows(request):
    query = _filter_form(request).query()
    tasks = selectors.workbench_tasks(user=request.user, query=query)
    tasks = list(tasks.prefetch_related("indicators")[:EXPORT_MAX_ROWS])
    tasks = selectors.with_next_reports(tasks)
    if query.sort_key == "next":
        tasks = selectors.sorted_by_next_report(tasks, descending=query.descending)
    return [selectors.export_row(task) for task in tasks]


@login_required
def workbench_export(request):
    """The current list (every page, same filters and order) as CSV or XLSX, through the one
    spreadsheet writer (formula cells neutralised, numbers as numbers)."""
    format = request.GET.get("format", "csv")
    rows = _export_rows(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"gaoxin-workbench-{stamp}.{'xlsx' if format == 'xlsx' else 'csv'}"
    if format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=_("我的任务"))
        sheet.append(list(selectors.EXPORT_HEADER))
        for row in rows:
            append_row(sheet, row)
        response = HttpResponse(
            xlsx_bytes(workbook),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            csv_chunks(selectors.EXPORT_HEADER, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Saved filters ------------------------------------------------------------------------------


@login_required
@require_POST
def saved_filter_save(request):
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写筛选名称(不超过40字)。"))
        return redirect("workbench")
    # Only what the filter bar understands is kept: read the query back through its form.
    query = WorkbenchFilterForm(
        _query_dict(form.cleaned_data["query"]),
        see_all=request.user.role in permissions.SEE_ALL_ROLES,
        government_ids=permissions.readable_government_ids(request.user),
    ).query_string()
    try:
        services.saved_filter_save(actor=request.user, name=form.cleaned_data["name"], query=query)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("workbench")
    messages.success(request, _("已保存筛选“%(name)s”。") % {"name": form.cleaned_data["name"]})
    return redirect(f"/workbench/?{query}" if query else "/workbench/")


def _query_dict(text: str) -> QueryDict:
    return QueryDict(text.lstrip("?"))


@login_required
@require_POST
def saved_filter_delete(request, filter_id: int):
    saved = get_object_or_404(SavedFilter, pk=filter_id, user=request.user)
    services.saved_filter_delete(actor=request.user, saved=saved)
    messages.success(request, _("已删除筛选“%(name)s”。") % {"name": saved.name})
    return redirect("workbench")


# --- Review queue: bulk 通过 ---------------------------------------------------------------------


@login_required
@require_POST
def review_accept_many(request):
    """通过 of the ticked reports, all or none; a report of 已完成 is reviewed one by one."""
    if not permissions.is_office(request.user):
        raise PermissionDenied
    values = request.POST.getlist("update")
    ids = sorted({int(v) for v in values if v.isascii() and v.isdigit()})
    if not ids or len(ids) != len(set(values)):
        messages.error(request, _("请先勾选要通过的报送。"))
        return _back(request, "review-queue")
    try:
        accepted = services.status_update_accept_many(actor=request.user, update_ids=ids)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已通过 %(n)s 条报送。") % {"n": len(accepted)})
    return _back(request, "review-queue")
