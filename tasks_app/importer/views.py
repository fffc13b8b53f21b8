"""Pages of the supervision office for importing: report text -> draft -> edits -> publish;
breakdown sheets.

Only the office (督查室, 系统管理员) sees these pages; everyone else gets 403. Each edit of a
draft is one form post carrying the draft's version (draft_edits.import_draft_edit).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tasks_app.common import permissions
from tasks_app.common.errors import ServiceError
from tasks_app.importer import (
    breakdown,
    breakdown_apply,
    draft_edits,
    draft_page,
    drafts,
    publish,
)
from tasks_app.importer import services as importer_services
from tasks_app.importer.decoding import MAX_TEXT_BYTES
from tasks_app.models import Department, DepartmentAlias, ImportDraft, Plan

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("工作报告文本(TXT,UTF-8 或 GBK)"))
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    government = forms.CharField(label=gettext_lazy("政府"), max_length=100, required=False)
    title = forms.CharField(
        label=gettext_lazy("计划名称"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("留空则为“政府+年度+政府工作报告”"),
    )


class OwnGovernmentForm(forms.Form):
    """Choices from the office's own government only: another government's id is invalid."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.filter(government_id=user.government_id)


class BreakdownUploadForm(OwnGovernmentForm):
    plan = forms.ModelChoiceField(label=gettext_lazy("计划"), queryset=Plan.objects.all())
    file = forms.FileField(label=gettext_lazy("任务分解表(.xlsx 或 .csv)"))


class AliasForm(OwnGovernmentForm):
    department = forms.ModelChoiceField(
        label=gettext_lazy("部门"), queryset=Department.objects.all()
    )
    alias = forms.CharField(label=gettext_lazy("别名"), max_length=100)


def _own_drafts(user):
    return ImportDraft.objects.filter(government_id=user.government_id)


def _require_office(user) -> None:
    if not permissions.is_office(user):
        raise PermissionDenied


def _read_upload(uploaded) -> bytes:
    """The upload's bytes; an oversized file is refused before it is read into memory."""
    if uploaded.size > MAX_TEXT_BYTES:
        raise ServiceError("file_too_large", _("文件超过5 MB,请检查后重新上传。"), field="file")
    return uploaded.read()


@login_required
def index(request):
    _require_office(request.user)
    return _render_index(request)


def _render_index(
    request, *, report_form=None, breakdown_form=None, alias_form=None, row_errors=None, status=200
):
    own = {"government_id": request.user.government_id}
    context = {
        # The draft belongs to the office's government; the name only words the plan's title.
        "report_form": report_form
        or ReportUploadForm(initial={"government": request.user.government.name}),
        "breakdown_form": breakdown_form or BreakdownUploadForm(user=request.user),
        "alias_form": alias_form or AliasForm(user=request.user),
        "drafts": _own_drafts(request.user).select_related("plan", "created_by")[:50],
        "plans": Plan.objects.filter(**own),
        "aliases": DepartmentAlias.objects.filter(**own).select_related("department"),
        "row_errors": row_errors,
        "max_mb": MAX_TEXT_BYTES // (1024 * 1024),
    }
    return render(request, "tasks_app/imports/index.html", context, status=status)


@login_required
@require_POST
def report_upload(request):
    _require_office(request.user)
    form = ReportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_index(request, report_form=form, status=400)
    uploaded = form.cleaned_data["file"]
    try:
        draft = drafts.import_draft_create(
            actor=request.user,
            data=_read_upload(uploaded),
            source_name=uploaded.name,
            year=form.cleaned_data["year"],
            title=form.cleaned_data["title"],
            government=form.cleaned_data["government"],
        )
    except ServiceError as error:
        form.add_error("file" if error.field in (None, "file") else error.field, error.message)
        return _render_index(request, report_form=form, status=error.status)
    return redirect("imports-draft", draft_id=draft.pk)


@login_required
def draft_detail(request, draft_id: int):
    _require_office(request.user)
    draft = get_object_or_404(_own_drafts(request.user), pk=draft_id)
    return _render_draft(request, draft)


def _render_draft(request, draft: ImportDraft, *, error: ServiceError | None = None, status=200):
    source = request.POST if request.method == "POST" else request.GET
    context = draft_page.draft_page(draft, page=source.get("p", ""), edit=source.get("edit", ""))
    context["error"] = error
    return render(request, "tasks_app/imports/draft.html", context, status=status)


# What each edit reads from the form: single values, then lists.
EDIT_FIELDS = {
    "text": (["code", "title", "source_text"], []),
    "split": (["code"], []),
    "merge": ([], ["codes"]),
    "move": (["area"], ["codes"]),
    "delete": ([], ["codes"]),
    "add": (["area", "text"], []),
    "indicators": (["code"], []),
    "assign": (
        ["lead_department", "responsible_leader", "deadline", "replace"],
        ["codes", "co_departments"],
    ),
    "accept_suggestions": ([], ["codes"]),
}
INDICATOR_COLUMNS = ("name", "comparator", "value", "value_max", "unit", "source")


def _edit_from_form(post) -> dict:
    """The edit a form posts, as draft_edits.edit_apply reads it (only the op's own fields)."""
    op = post.get("op", "")
    singles, lists = EDIT_FIELDS.get(op, ([], []))
    edit = {"op": op}
    edit.update({name: post.get(name, "") for name in singles})
    edit.update({name: post.getlist(name) for name in lists})
    if op == "split":
        edit["parts"] = post.get("parts", "").splitlines()
    if op == "indicators":
        edit["indicators"] = _indicator_rows(post)
    if op == "assign":
        edit["replace"] = edit["replace"] == "1"
    return edit


def _indicator_rows(post) -> list[dict]:
    """The indicator table's rows; a blank row and a row ticked 删除 are left out."""
    columns = {name: post.getlist(f"ind_{name}") for name in INDICATOR_COLUMNS}
    deleted = set(post.getlist("ind_delete"))
    rows = []
    for index in range(len(columns["name"])):
        row = {
            name: (values[index] if index < len(values) else "") for name, values in columns.items()
        }
        blank = not (row["name"].strip() or row["value"].strip() or row["unit"].strip())
        if str(index) not in deleted and not blank:
            rows.append(row)
    return rows


@login_required
@require_POST
def draft_edit(request, draft_id: int):
    _require_office(request.user)
    draft = get_object_or_404(_own_drafts(request.user), pk=draft_id)
    try:
        _, outcome = draft_edits.import_draft_edit(
            actor=request.user,
            draft=draft,
            version=_version(request),
            edit=_edit_from_form(request.POST),
        )
    except ServiceError as error:
        draft.refresh_from_db()
        return _render_draft(request, draft, error=error, status=error.status)
    messages.success(request, outcome.message)
    # An item open for editing stays open after an edit that keeps it one item.
    still_open = request.POST.get("edit") and request.POST.get("op") in STAYS_OPEN
    return redirect(
        _draft_url(draft, request.POST.get("p", ""), outcome.codes[:1], still_open=still_open)
    )


STAYS_OPEN = {"text", "indicators", "assign", "accept_suggestions"}


def _version(request) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1  # no version: as stale as can be


def _draft_url(draft: ImportDraft, page: str, codes: list[str], *, still_open=False) -> str:
    query = {"p": page} if page else {}
    if still_open and codes:
        query["edit"] = codes[0]
    url = reverse("imports-draft", args=[draft.pk])
    return url + ("?" + urlencode(query) if query else "") + (f"#row-{codes[0]}" if codes else "")


@login_required
@require_POST
def draft_publish(request, draft_id: int):
    _require_office(request.user)
    draft = get_object_or_404(_own_drafts(request.user), pk=draft_id)
    try:
        plan, changes = publish.import_draft_publish(
            actor=request.user, draft=draft, version=_version(request)
        )
    except ServiceError as error:
        draft.refresh_from_db()
        return _render_draft(request, draft, error=error, status=error.status)
    messages.success(
        request,
        _("已发布“%(plan)s”:新增 %(new)d 项,变更 %(changed)d 项,未变 %(same)d 项。")
        % {
            "plan": plan,
            "new": len(changes["new"]),
            "changed": len(changes["changed"]),
            "same": len(changes["unchanged"]),
        },
    )
    return redirect("imports-draft", draft_id=draft.pk)


@login_required
@require_POST
def breakdown_upload(request):
    _require_office(request.user)
    form = BreakdownUploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _render_index(request, breakdown_form=form, status=400)
    uploaded = form.cleaned_data["file"]
    try:
        result = breakdown_apply.breakdown_import(
            actor=request.user,
            plan=form.cleaned_data["plan"],
            data=_read_upload(uploaded),
            filename=uploaded.name,
        )
    except breakdown_apply.BreakdownRejected as error:
        form.add_error(None, error.message)
        return _render_index(request, breakdown_form=form, row_errors=error.errors, status=400)
    except ServiceError as error:
        form.add_error(None, error.message)
        return _render_index(request, breakdown_form=form, status=error.status)
    messages.success(
        request,
        _("任务分解表已导入:读取 %(rows)d 行,更新 %(changed)d 项任务。")
        % {"rows": result["rows"], "changed": len(result["changed"])},
    )
    return redirect("imports")


@login_required
def breakdown_export(request, plan_id: int):
    _require_office(request.user)
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    if request.GET.get("format") == "csv":
        response = HttpResponse(breakdown.export_csv(plan), content_type="text/csv; charset=utf-8")
        name = breakdown.export_filename(plan, "csv")
    else:
        response = HttpResponse(breakdown.export_xlsx(plan), content_type=XLSX_TYPE)
        name = breakdown.export_filename(plan, "xlsx")
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
@require_POST
def alias_create(request):
    _require_office(request.user)
    form = AliasForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_index(request, alias_form=form, status=400)
    try:
        importer_services.department_alias_create(
            actor=request.user,
            department=form.cleaned_data["department"],
            alias=form.cleaned_data["alias"],
        )
    except ServiceError as error:
        form.add_error("alias", error.message)
        return _render_index(request, alias_form=form, status=error.status)
    messages.success(request, _("已添加部门别名。"))
    return redirect("imports")
