"""督查通报 pages for the supervision office: draft -> preview -> issue; the issued list; the
A4 print page and the .docx of an issued bulletin. Everyone else: 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tasks_app.bulletins import selectors, services, word
from tasks_app.bulletins.forms import DraftForm, SeriesForm
from tasks_app.common import clock, permissions
from tasks_app.common.errors import ServiceError
from tasks_app.models import Bulletin


def _office(request) -> None:
    if not permissions.is_office(request.user):
        raise PermissionDenied


def _numbers(bulletin: Bulletin) -> dict:
    """The frozen numbers of an issued bulletin; a draft's are computed now (the preview)."""
    if bulletin.state == Bulletin.State.ISSUED:
        return bulletin.numbers
    return selectors.bulletin_numbers(plan=bulletin.plan, as_of=bulletin.as_of)


def _form_errors(form, error: ServiceError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _bulletins(user):
    """Bulletins of the plans the user reads (another government's: 404)."""
    return Bulletin.objects.select_related("plan").filter(plan__in=permissions.visible_plans(user))


@login_required
def bulletin_home(request):
    """The newest plan's bulletins (its page links to the other plans)."""
    _office(request)
    plan = permissions.visible_plans(request.user).order_by("-year", "-pk").first()
    if plan is None:
        raise Http404
    return redirect("bulletin-list", plan_id=plan.pk)


@login_required
def bulletin_list(request, plan_id: int):
    _office(request)
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    series = selectors.bulletin_series_of(plan)
    series_form = SeriesForm(
        initial={"number_pattern": series.number_pattern, "issuing_office": series.issuing_office}
    )
    draft_form = DraftForm(initial={"as_of": clock.today()})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "series":
                series_form = SeriesForm(request.POST)
                if series_form.is_valid():
                    services.bulletin_series_update(
                        actor=request.user, plan=plan, **series_form.cleaned_data
                    )
                    messages.success(request, _("通报设置已保存。"))
                    return redirect("bulletin-list", plan_id=plan.pk)
            else:
                draft_form = DraftForm(request.POST)
                if draft_form.is_valid():
                    bulletin = services.bulletin_draft(
                        actor=request.user, plan=plan, **draft_form.cleaned_data
                    )
                    return redirect("bulletin-detail", pk=bulletin.pk)
        except ServiceError as error:
            _form_errors(
                series_form if request.POST.get("action") == "series" else draft_form, error
            )
    bulletins = list(selectors.bulletin_list(plan=plan))
    context = {
        "plan": plan,
        "plans": list(permissions.visible_plans(request.user).order_by("-year", "title")),
        "series": series,
        "series_form": series_form,
        "draft_form": draft_form,
        "issued": [b for b in bulletins if b.state == Bulletin.State.ISSUED],
        "drafts": [b for b in bulletins if b.state == Bulletin.State.DRAFT],
        "example_number": services.document_number(
            series.number_pattern, year=clock.today().year, number=1
        ),
    }
    return render(request, "tasks_app/bulletins/list.html", context)


def _post_detail(request, bulletin: Bulletin, form: DraftForm):
    version = int(request.POST.get("version") or 0)
    if request.POST.get("action") == "issue":
        bulletin = services.bulletin_issue(
            actor=request.user, bulletin=bulletin, expected_version=version
        )
        messages.success(request, _("已印发:%(n)s") % {"n": bulletin.document_number})
        return redirect("bulletin-detail", pk=bulletin.pk)
    if form.is_valid():
        services.bulletin_draft_update(
            actor=request.user, bulletin=bulletin, expected_version=version, **form.cleaned_data
        )
        messages.success(request, _("草稿已保存。"))
        return redirect("bulletin-detail", pk=bulletin.pk)
    return None


@login_required
def bulletin_detail(request, pk: int):
    _office(request)
    bulletin = get_object_or_404(_bulletins(request.user), pk=pk)
    form = DraftForm(initial={"as_of": bulletin.as_of, "opinion": bulletin.opinion})
    if request.method == "POST":
        form = DraftForm(request.POST)
        try:
            answer = _post_detail(request, bulletin, form)
            if answer is not None:
                return answer
        except ServiceError as error:
            _form_errors(form, error)
            bulletin.refresh_from_db()
    context = {
        "bulletin": bulletin,
        "plan": bulletin.plan,
        "form": form,
        "numbers": _numbers(bulletin),
        "next_number": services.document_number(
            selectors.bulletin_series_of(bulletin.plan).number_pattern,
            year=clock.today().year,
            number=bulletin.plan.bulletins.exclude(number=None).count() + 1,
        ),
    }
    return render(request, "tasks_app/bulletins/detail.html", context)


@login_required
def bulletin_print(request, pk: int):
    _office(request)
    bulletin = get_object_or_404(_bulletins(request.user), pk=pk)
    context = {"bulletin": bulletin, "plan": bulletin.plan, "numbers": _numbers(bulletin)}
    return render(request, "tasks_app/bulletins/print.html", context)


@login_required
def bulletin_download(request, pk: int):
    _office(request)
    bulletin = get_object_or_404(_bulletins(request.user), pk=pk)
    if bulletin.state != Bulletin.State.ISSUED:
        raise Http404
    response = HttpResponse(
        word.bulletin_docx(bulletin),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    name = f"bulletin-{bulletin.plan.year}-{bulletin.number:03d}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
