"""Writes for 督查通报: the series' numbering, drafts, and issuing (numbered, frozen, audited)."""

import datetime as dt
import hashlib
import json
import string

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, update_audited
from tasks_app.bulletins import selectors
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, NotFound, PreconditionFailed, ServiceError
from tasks_app.common.services import require, require_acts_for
from tasks_app.models import Bulletin, BulletinSeries, Plan, User

PLACEHOLDERS = {"year", "n"}


def document_number(pattern: str, *, year: int, number: int) -> str:
    """The 文号 for the pattern: {year} is the issue year, {n} the 期号."""
    return pattern.format(year=year, n=number)


def _check_pattern(pattern: str) -> str:
    pattern = pattern.strip()
    try:
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name}
        document_number(pattern, year=2020, number=1)
    except (ValueError, IndexError, KeyError):
        fields = None
    if fields is None or "n" not in fields or not fields <= PLACEHOLDERS:
        raise ServiceError(
            "invalid_pattern",
            _("文号格式只能使用 {year}(年份)和 {n}(期号),且须包含 {n}。"),
            field="number_pattern",
        )
    return pattern


def _check_reads(actor: User, plan: Plan) -> None:
    """A 督查通报 may cover any plan the office reads: its own government's, and (roll-up) those
    of the governments below it, whose numbers it freezes as for its own."""
    if plan.government_id not in permissions.readable_government_ids(actor):
        raise NotFound("not_found", _("未找到。"))


def _check_as_of(as_of: dt.date) -> None:
    if as_of > clock.today():
        raise ServiceError("as_of_in_future", _("统计日期不能晚于今天。"), field="as_of")


@transaction.atomic
def bulletin_series_update(
    *, actor: User, plan: Plan, number_pattern: str, issuing_office: str
) -> BulletinSeries:
    # The series (文号, 印发单位) is the plan's own office's: the level above does not set it.
    require_acts_for(actor, plan.government_id)
    require(permissions.is_office(actor), _("只有督查室可以设置督查通报。"))
    pattern = _check_pattern(number_pattern)
    office = issuing_office.strip()
    if not office:
        raise ServiceError("office_required", _("请填写印发单位。"), field="issuing_office")
    series = BulletinSeries.objects.select_for_update().filter(plan=plan).first()
    if series is None:
        return create_audited(
            actor,
            "bulletin_series.create",
            BulletinSeries,
            plan=plan,
            number_pattern=pattern,
            issuing_office=office,
        )
    update_audited(
        actor, "bulletin_series.update", series, number_pattern=pattern, issuing_office=office
    )
    return series


@transaction.atomic
def bulletin_draft(*, actor: User, plan: Plan, as_of: dt.date, opinion: str = "") -> Bulletin:
    require(permissions.is_office(actor), _("只有督查室可以起草督查通报。"))
    _check_reads(actor, plan)
    _check_as_of(as_of)
    return create_audited(
        actor,
        "bulletin.draft",
        Bulletin,
        plan=plan,
        as_of=as_of,
        opinion=opinion.strip(),
        created_by=actor,
    )


def _draft_locked(bulletin: Bulletin, expected_version: int) -> Bulletin:
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.state != Bulletin.State.DRAFT:
        raise Conflict("already_issued", _("该通报已印发,不能再修改。"))
    if bulletin.version != expected_version:
        raise PreconditionFailed()
    return bulletin


@transaction.atomic
def bulletin_draft_update(
    *, actor: User, bulletin: Bulletin, expected_version: int, as_of: dt.date, opinion: str
) -> Bulletin:
    require(permissions.is_office(actor), _("只有督查室可以修改督查通报。"))
    _check_reads(actor, bulletin.plan)
    bulletin = _draft_locked(bulletin, expected_version)
    _check_as_of(as_of)
    if update_audited(actor, "bulletin.update", bulletin, as_of=as_of, opinion=opinion.strip()):
        Bulletin.objects.filter(pk=bulletin.pk).update(version=bulletin.version + 1)
        bulletin.version += 1
    return bulletin


def numbers_digest(numbers: dict) -> str:
    """SHA-256 of the frozen numbers (canonical JSON): the ledger keeps it, not the numbers."""
    text = json.dumps(numbers, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def bulletin_issue(*, actor: User, bulletin: Bulletin, expected_version: int) -> Bulletin:
    """印发: the next 期号 of the plan, the 文号 from the series' pattern, today's date, and the
    numbers as of the bulletin's date frozen; one ledger event with the numbers' digest."""
    require(permissions.is_office(actor), _("只有督查室可以印发督查通报。"))
    _check_reads(actor, bulletin.plan)
    bulletin = _draft_locked(bulletin, expected_version)
    if not bulletin.opinion.strip():
        raise ServiceError("opinion_required", _("印发前请填写督查意见。"), field="opinion")
    _check_as_of(bulletin.as_of)
    # The series row is the lock that numbers a plan's bulletins one at a time.
    series, _created = BulletinSeries.objects.get_or_create(plan=bulletin.plan)
    series = BulletinSeries.objects.select_for_update().get(pk=series.pk)
    issued = Bulletin.objects.filter(plan=bulletin.plan, number__isnull=False)
    number = max(issued.values_list("number", flat=True), default=0) + 1
    today = clock.today()
    numbers = selectors.bulletin_numbers(plan=bulletin.plan, as_of=bulletin.as_of)
    values = {
        "state": Bulletin.State.ISSUED,
        "number": number,
        "document_number": document_number(series.number_pattern, year=today.year, number=number),
        "issuing_office": series.issuing_office,
        "issue_date": today,
        "issued_by": actor,
        "issued_at": clock.now(),
        "numbers": numbers,
        "version": bulletin.version + 1,
    }
    for name, value in values.items():
        setattr(bulletin, name, value)
    bulletin.save(update_fields=list(values))
    audit_log(
        actor=actor,
        action="bulletin.issue",
        obj=bulletin,
        before={"state": Bulletin.State.DRAFT},
        after={
            "state": Bulletin.State.ISSUED,
            "number": number,
            "document_number": bulletin.document_number,
            "issuing_office": bulletin.issuing_office,
            "issue_date": today.isoformat(),
            "as_of": bulletin.as_of.isoformat(),
            "numbers_sha256": numbers_digest(numbers),
        },
    )
    return bulletin
