"""Publishing a plan's progress to the public (政务公开): frozen, hashed, recorded in the ledger."""

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, ServiceError
from tasks_app.common.services import require, require_acts_for
from tasks_app.models import Plan, PlanStatus, PublicSnapshot, User
from tasks_app.public import selectors

TITLE_MAX = 200


def _people_named(narratives: dict[str, str]) -> set[str]:
    """Codes of tasks whose public narrative names a person who has an account: below the
    department, nobody is named in public, whatever the approved wording says."""
    names = {name for name in User.objects.values_list("display_name", flat=True) if len(name) >= 2}
    return {code for code, text in narratives.items() if any(name in text for name in names)}


@transaction.atomic
def public_snapshot_publish(*, actor: User, plan: Plan, title: str = "") -> PublicSnapshot:
    """Freeze the plan's public progress now: canonical JSON, its SHA-256 in a ledger event
    (whose seq and hash the public page shows), then the row, which is never changed again."""
    require_acts_for(actor, plan.government_id)
    require(permissions.is_office(actor), _("只有督查室可以发布公开进展。"))
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.PUBLISHED:
        raise Conflict("plan_not_published", _("计划尚未发布,不能公开进展。"))
    title = (title or "").strip() or _("%(title)s落实情况") % {"title": plan.title}
    if len(title) > TITLE_MAX or "<" in title:
        raise ServiceError("invalid", _("公开标题不能超过200字,且不能含HTML。"), field="title")
    now, as_of = clock.now(), clock.today()
    withheld = _people_named(selectors.approved_narratives(plan))
    payload = selectors.snapshot_payload(plan=plan, title=title, as_of=as_of, withheld=withheld)
    content = selectors.canonical_bytes(payload)
    digest = selectors.sha256_hex(content)
    event = audit_log(
        actor=actor,
        action=selectors.PUBLISH_ACTION,
        obj=plan,
        after={
            "sha256": digest,
            "title": title,
            "as_of": as_of.isoformat(),
            "bytes": len(content),
            "tasks": len(payload["tasks"]),
            "narratives_withheld": sorted(withheld),
        },
    )
    return PublicSnapshot.objects.create(
        plan=plan,
        title=title,
        as_of=as_of,
        content=content.decode("utf-8"),
        sha256=digest,
        ledger_seq=event.seq,
        ledger_hash=event.hash,
        published_at=now,
        published_by=actor,
    )
