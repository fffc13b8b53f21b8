"""The public pages (/public/): no login, nothing user-dependent, cached and rate limited.

Anonymous readers get the published snapshots, each snapshot's canonical JSON, an index of them
and the ledger checkpoints; the office gets a page to publish a snapshot.
"""

import functools
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from tasks_app.audit import ledger
from tasks_app.common import permissions, rls
from tasks_app.common.errors import ServiceError
from tasks_app.models import PlanStatus
from tasks_app.plans import selectors as plans_selectors
from tasks_app.public import selectors, services

LIST_SECONDS = 60  # lists and feeds: kept this long by browsers and proxies


def rate_limited(view):
    """At most PUBLIC_RATE_PER_MINUTE requests a minute per client address (shared cache), then
    429: the pages are anonymous, so nothing else stops a client hammering them."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        # REMOTE_ADDR is the client's address: TrustedProxyMiddleware set it from a trusted proxy.
        address = request.META.get("REMOTE_ADDR", "")[:45]
        key = f"public-rate:{address}:{int(time.time() // 60)}"
        cache.add(key, 0, timeout=90)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            count = 1
        if count > settings.PUBLIC_RATE_PER_MINUTE:
            response = HttpResponse(_("访问过于频繁,请稍后再试。"), status=429)
            response["Retry-After"] = "60"
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        return view(request, *args, **kwargs)

    return wrapped


def published_governments_only(view):
    """On PostgreSQL the page reads the governments that published a snapshot, whoever asks,
    and writes nothing (row-level security, tasks_app.common.rls.public_context)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with rls.public_context():
            return view(request, *args, **kwargs)

    return wrapped


def _public(view, seconds: int):
    """Anonymous, GET only, rate limited; browsers and proxies may keep it `seconds`. Nothing
    on these pages depends on who asks, so a shared cache may serve it to anyone."""
    view = published_governments_only(view)
    return rls.public_view(
        rate_limited(require_GET(cache_control(public=True, max_age=seconds)(view)))
    )


def _page(template: str, context: dict) -> HttpResponse:
    """Rendered without the request: no session or user is read, so no `Vary: Cookie`, and a
    shared cache may hand the page to anyone."""
    context["has_sample_data"] = plans_selectors.has_sample_data()
    return HttpResponse(render_to_string(f"tasks_app/public/{template}", context))


def _rows(snapshots) -> list:
    snapshots = list(snapshots)
    hashes = selectors.published_hashes(snapshots)
    for snapshot in snapshots:
        key = (snapshot.plan.government_id, snapshot.ledger_seq)
        snapshot.published_sha256 = hashes.get(key, "")
    return snapshots


def _index(request):
    return _page("index.html", {"snapshots": _rows(selectors.public_snapshots())})


def _plan(request, plan_id: int):
    plan = selectors.public_plan(plan_id)
    snapshots = _rows(selectors.public_snapshots().filter(plan=plan))
    return _page("plan.html", {"plan": plan, "snapshots": snapshots})


def _snapshot(request, plan_id: int, seq: int):
    [snapshot] = _rows([selectors.public_snapshot(plan_id, seq)])
    data = selectors.parsed(snapshot)
    return _page("snapshot.html", {"snapshot": snapshot, "data": data})


def _snapshot_json(request, plan_id: int, seq: int):
    snapshot = selectors.public_snapshot(plan_id, seq)
    response = HttpResponse(
        snapshot.content.encode("utf-8"), content_type="application/json; charset=utf-8"
    )
    name = f"gaoxin-public-{snapshot.plan.year}-plan{plan_id}-seq{snapshot.ledger_seq}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _by_seq(view: str):
    """Links made before each government had its own chain named a snapshot by seq alone:
    they lead to it (301) while one snapshot has that seq; 404 once governments share it."""

    def by_seq(request, seq: int):
        snapshot = selectors.public_snapshot_by_seq(seq)
        return redirect(view, plan_id=snapshot.plan_id, seq=seq, permanent=True)

    return by_seq


def _snapshots_json(request):
    rows = _rows(selectors.public_snapshots())
    return JsonResponse(
        {
            "snapshots": [
                {
                    "plan_id": s.plan_id,
                    "plan": s.plan.title,
                    "government_id": s.plan.government_id,
                    "title": s.title,
                    "as_of": s.as_of.isoformat(),
                    "sha256": s.published_sha256,
                    "ledger_seq": s.ledger_seq,
                    "ledger_hash": s.ledger_hash,
                    "url": request.build_absolute_uri(
                        reverse("public-snapshot-json", args=[s.plan_id, s.ledger_seq])
                    ),
                }
                for s in rows
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _checkpoints_json(request):
    """The hourly ledger checkpoints, oldest first; the feed only ever grows."""
    return JsonResponse(
        {"checkpoints": ledger.checkpoints_export()}, json_dumps_params={"ensure_ascii": False}
    )


index = _public(_index, LIST_SECONDS)
plan_page = _public(_plan, LIST_SECONDS)
snapshot_page = _public(_snapshot, LIST_SECONDS)
snapshot_json = _public(_snapshot_json, 86400)  # frozen: it never changes
snapshots_json = _public(_snapshots_json, LIST_SECONDS)
snapshot_page_by_seq = _public(_by_seq("public-snapshot"), 86400)
snapshot_json_by_seq = _public(_by_seq("public-snapshot-json"), 86400)
checkpoints_json = _public(_checkpoints_json, LIST_SECONDS)


# --- The office publishes ---------------------------------------------------------------------


def _require_office(user) -> None:
    if not permissions.is_office(user):
        raise Http404


@login_required
def manage(request):
    _require_office(request.user)
    plans = permissions.visible_plans(request.user).filter(status=PlanStatus.PUBLISHED)
    plans = plans.order_by("-year", "title")
    return render(request, "tasks_app/public/manage.html", {"plans": plans})


@login_required
@require_POST
def publish(request, plan_id: int):
    _require_office(request.user)
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    try:
        snapshot = services.public_snapshot_publish(
            actor=request.user, plan=plan, title=request.POST.get("title", "")
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("public-manage")
    messages.success(request, _("已发布公开进展快照。"))
    return redirect("public-snapshot", plan_id=snapshot.plan_id, seq=snapshot.ledger_seq)
