"""Every write of the review routine: packs prepared and held, 议定事项 recorded as tasks,
confidence ratings given and their quarters closed. One transaction and one ledger event each."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, snapshot, update_audited
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, ServiceError
from tasks_app.common.services import require, require_acts_for
from tasks_app.models import (
    Confidence,
    ConfidenceRating,
    Department,
    PackState,
    Plan,
    PlanStatus,
    RatingQuarterClose,
    StocktakeDecision,
    StocktakePack,
    Task,
    TaskKind,
)
from tasks_app.plans.services import task_schedule_refresh
from tasks_app.stocktakes.quarters import quarter_end, quarter_of
from tasks_app.stocktakes.selectors import pack_contents


def _office(actor) -> None:
    require(permissions.is_office(actor), _("只有督查室可以操作调度会和把握度评定。"))


# --- Packs ------------------------------------------------------------------------------------


def pack_prepare(*, actor, plan: Plan, as_of: dt.date, title: str = "") -> StocktakePack:
    """A pack in preparation; it opens with the last held pack's decisions."""
    require_acts_for(actor, plan.government_id)
    _office(actor)
    if plan.status != PlanStatus.PUBLISHED:
        raise Conflict("plan_not_published", _("计划发布后才能召开调度会。"))
    if as_of > clock.today():
        raise ServiceError("as_of_in_future", _("数据截至日期不能晚于今天。"), field="as_of")
    previous = (
        StocktakePack.objects.filter(plan=plan, state=PackState.HELD, as_of__lte=as_of)
        .order_by("-as_of", "-id")
        .first()
    )
    title = title.strip() or _("%(date)s 调度会") % {"date": as_of.isoformat()}
    with transaction.atomic():
        return create_audited(
            actor,
            "stocktake.prepare",
            StocktakePack,
            plan=plan,
            title=title[:200],
            as_of=as_of,
            previous=previous,
            prepared_by=actor,
        )


def pack_hold(*, actor, pack: StocktakePack) -> StocktakePack:
    """The meeting is held: the pack's numbers are computed once more and stored for good."""
    require_acts_for(actor, pack.plan.government_id)
    _office(actor)
    with transaction.atomic():
        pack = StocktakePack.objects.select_for_update().get(pk=pack.pk)
        if pack.state == PackState.HELD:
            raise Conflict("pack_held", _("该调度会已召开,材料已冻结。"))
        contents = pack_contents(plan=pack.plan, as_of=pack.as_of, previous=pack.previous)
        update_audited(
            actor,
            "stocktake.hold",
            pack,
            state=PackState.HELD,
            contents=contents,
            held_at=clock.now(),
            held_by=actor,
        )
    return pack


# --- 议定事项 -------------------------------------------------------------------------------------


def _decision_code(pack: StocktakePack) -> str:
    return f"YD{pack.pk}-{pack.decisions.count() + 1}"


def decision_record(
    *,
    actor,
    pack: StocktakePack,
    title: str,
    lead_department: Department,
    deadline: dt.date,
    concerns: list[Task] | None = None,
) -> StocktakeDecision:
    """A 议定事项 becomes a task of the pack's plan (kind 议定事项): received, reported, reminded
    and escalated like every task."""
    require_acts_for(actor, pack.plan.government_id)
    _office(actor)
    title, today = title.strip(), clock.today()
    if not title:
        raise ServiceError("title_required", _("请填写议定事项。"), field="title")
    if deadline < today:
        raise ServiceError("deadline_past", _("完成时限不能早于今天。"), field="deadline")
    concerns = list(concerns or [])
    if any(t.plan_id != pack.plan_id for t in concerns):
        raise ServiceError("concerns_other_plan", _("涉及任务须属于本计划。"), field="concerns")
    with transaction.atomic():
        pack = StocktakePack.objects.select_for_update().get(pk=pack.pk)
        last = Task.objects.filter(plan=pack.plan).order_by("-position").first()
        task = create_audited(
            actor,
            "task.create",
            Task,
            plan=pack.plan,
            code=_decision_code(pack),
            title=title[:200],
            source_text=_("%(pack)s 议定:%(title)s") % {"pack": pack.title, "title": title},
            kind=TaskKind.DECISION,
            position=(last.position + 1) if last else 1,
            lead_department=lead_department,
            start_date=min(today, deadline),
            deadline=deadline,
        )
        task_schedule_refresh(task=task)
        decision = StocktakeDecision.objects.create(pack=pack, task=task, recorded_by=actor)
        decision.concerns.set(concerns)
        audit_log(
            actor=actor,
            action="stocktake.decide",
            obj=decision,
            after=snapshot(decision, ["pack", "task", "concerns"]),
        )
    return decision


# --- Confidence ratings -----------------------------------------------------------------------


def _close_past_quarters(today: dt.date) -> None:
    """Quarters that ended are closed for good (the database then refuses any change)."""
    current = quarter_of(today)
    past = (
        ConfidenceRating.objects.filter(quarter__lt=current)
        .exclude(quarter__in=RatingQuarterClose.objects.values("quarter"))
        .values_list("quarter", flat=True)
        .distinct()
    )
    for quarter in sorted(set(past)):
        RatingQuarterClose.objects.get_or_create(quarter=quarter)


def rating_record(*, actor, task: Task, level: str, reason: str) -> ConfidenceRating:
    """This quarter's rating of the task by this rater; given again, it replaces the earlier
    one while the quarter is open (the ledger keeps both)."""
    require_acts_for(actor, task.government_id)
    _office(actor)
    reason = reason.strip()
    if level not in Confidence.values:
        raise ServiceError("level_invalid", _("请选择把握程度。"), field="level")
    if not reason:
        raise ServiceError("reason_required", _("请说明理由。"), field="reason")
    now = clock.now()
    quarter = quarter_of(clock.today())
    with transaction.atomic():
        _close_past_quarters(clock.today())
        if RatingQuarterClose.objects.filter(quarter=quarter).exists():
            raise Conflict("quarter_closed", _("本季度评定已关闭,不能再修改。"))
        rating = (
            ConfidenceRating.objects.select_for_update()
            .filter(task=task, quarter=quarter, rater=actor)
            .first()
        )
        if rating is None:
            return create_audited(
                actor,
                "rating.create",
                ConfidenceRating,
                task=task,
                quarter=quarter,
                level=level,
                reason=reason[:1000],
                rater=actor,
                created_at=now,
                updated_at=now,
            )
        if rating.level != level or rating.reason != reason:
            update_audited(
                actor, "rating.update", rating, level=level, reason=reason[:1000], updated_at=now
            )
        return rating


def rating_edit(*, actor, rating: ConfidenceRating, level: str, reason: str) -> ConfidenceRating:
    """Edit a given rating: only its rater, and only while its quarter is open."""
    _office(actor)
    require(rating.rater_id == actor.pk, _("只能修改本人的评定。"))
    if rating.quarter != quarter_of(clock.today()) or clock.today() > quarter_end(rating.quarter):
        raise Conflict("quarter_closed", _("该季度评定已关闭,不能再修改。"))
    return rating_record(actor=actor, task=rating.task, level=level, reason=reason)


def rating_quarter_close(*, actor, quarter: dt.date) -> RatingQuarterClose:
    _office(actor)
    quarter = quarter_of(quarter)
    with transaction.atomic():
        closed = RatingQuarterClose.objects.filter(quarter=quarter).first()
        if closed is not None:
            return closed
        return create_audited(
            actor, "rating.quarter_close", RatingQuarterClose, quarter=quarter, closed_by=actor
        )
