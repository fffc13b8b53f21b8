"""Every write: <entity>_<action>(*, actor, ...), one transaction, one audit row per change.

Nothing outside this module saves a model. A service that finds nothing to change writes nothing,
not even an audit row, so that re-running an import or a demo seed is a no-op.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, json_value, snapshot, update_audited
from tasks_app.common import clock, permissions
from tasks_app.common.errors import Conflict, PreconditionFailed, ServiceError
from tasks_app.common.services import (
    require,
    require_acts_for,
    task_locked,
    version_bump,
    violates_constraint,
)
from tasks_app.models import (
    ChangeRequest,
    Contribution,
    Evidence,
    Indicator,
    IndicatorValue,
    Instruction,
    InstructionFeedback,
    Light,
    Plan,
    Review,
    ReviewState,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.plans.services import task_schedule_refresh
from tasks_app.reminders import notifications
from tasks_app.reporting import evidence_files, signoff


@transaction.atomic
def task_receive(*, actor: User, task: Task) -> Task:
    """签收: the lead department acknowledges the task; the first receipt's time stays."""
    require_acts_for(actor, task.government_id)
    require(permissions.leads(actor, task), _("只有牵头单位可以签收任务。"))
    task = task_locked(task)
    if task.received_at is None:
        update_audited(actor, "task.receive", task, received_at=clock.now(), received_by=actor)
    return task


def _check_period(period: dt.date) -> None:
    today = clock.today()
    if period > today.replace(day=1):
        raise ServiceError("period_in_future", _("报送期不能晚于本月。"), field="period")


def _check_report(task: Task, status: str, progress: int) -> None:
    if status == TaskStatus.DONE and progress != 100:
        raise ServiceError("done_needs_100", _("状态为“已完成”时进度须为100%。"), field="progress")


def _check_explanation(task: Task, explanation: str) -> None:
    # The stored light (recomputed on every write and each night): a red task is explained.
    if task.light == Light.RED and not explanation.strip():
        raise ServiceError(
            "explanation_required",
            _("该任务为红灯,报送前须填写情况说明(滞后原因和下一步措施)。"),
            field="explanation",
        )


def _indicator_rows(task: Task, values: dict[int, Decimal]) -> list[tuple[Indicator, Decimal]]:
    if not values:
        return []
    own = {i.pk: i for i in task.indicators.all()}
    unknown = [pk for pk in values if pk not in own]
    if unknown:
        raise ServiceError(
            "unknown_indicator",
            _("指标不属于该任务:%(ids)s") % {"ids": unknown},
            field="indicator_values",
        )
    return [(own[pk], value) for pk, value in values.items()]


@transaction.atomic
def status_update_submit(
    *,
    actor: User,
    task: Task,
    period: dt.date,
    status: str,
    progress: int,
    narrative: str,
    public_narrative: str = "",
    explanation: str = "",
    indicator_values: dict[int, Decimal] | None = None,
    evidence: Sequence[UploadedFile] = (),
) -> StatusUpdate:
    """A report for a period, with its evidence files: all of it is written, or none of it.

    It goes to the office, or first to the department's head when the plan asks for sign-off
    (reporting.signoff)."""
    require_acts_for(actor, task.government_id)
    require(permissions.leads(actor, task), _("只有牵头单位可以报送进展。"))
    _check_period(period)
    _check_report(task, status, progress)
    _check_explanation(task, explanation)
    rows = _indicator_rows(task, indicator_values or {})
    files = _evidence_checked(evidence)
    # One report per task and period is the database's rule (statusupdate_one_per_period): the
    # INSERT itself is the check, so two clerks racing for a period cannot both win, and a
    # submission takes no lock and no look-up first. The failed INSERT ends the transaction.
    try:
        update = create_audited(
            actor,
            "status_update.submit",
            StatusUpdate,
            task=task,
            period=period,
            status=status,
            progress=progress,
            narrative=narrative,
            public_narrative=public_narrative,
            explanation=explanation.strip(),
            author=actor,
            review_state=signoff.submitted_state(actor=actor, task=task),
        )
    except IntegrityError as error:
        if not violates_constraint(error, "statusupdate_one_per_period"):
            raise
        raise Conflict("duplicate_period", _("该任务本期已报送,请修改已有报送。")) from error
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(update=update, indicator=ind, value=value) for ind, value in rows]
    )
    if rows:
        audit_log(
            actor=actor,
            action="status_update.indicator_values",
            obj=update,
            after={str(ind.pk): json_value(value) for ind, value in rows},
        )
    _evidence_store(actor, update, files)
    signoff.announce_submission(update)
    return update


@transaction.atomic
def status_update_correct(
    *,
    actor: User,
    update: StatusUpdate,
    expected_version: int,
    indicator_values: dict[int, Decimal] | None = None,
    evidence: Sequence[UploadedFile] = (),
    **fields,
) -> StatusUpdate:
    """Correct an update not yet accepted, adding evidence files; a returned one goes back to
    the review queue as a new revision. All of it is written, or none of it."""
    require_acts_for(actor, update.task.government_id)
    require(permissions.leads(actor, update.task), _("只有牵头单位可以修改报送。"))
    update = StatusUpdate.objects.select_for_update().get(pk=update.pk)
    if update.version != expected_version:
        raise PreconditionFailed()
    if update.review_state == ReviewState.ACCEPTED:
        raise Conflict("already_accepted", _("已通过审核的报送不能修改。"))
    _check_report(
        update.task, fields.get("status", update.status), fields.get("progress", update.progress)
    )
    if "explanation" in fields:
        fields["explanation"] = fields["explanation"].strip()
    resubmit = update.review_state == ReviewState.RETURNED
    if resubmit:  # resubmitting is submitting: a red task's report is explained
        _check_explanation(update.task, fields.get("explanation", update.explanation))
    rows = _indicator_rows(update.task, indicator_values or {})
    files = _evidence_checked(evidence)
    extra = (
        {
            "review_state": signoff.submitted_state(actor=actor, task=update.task),
            "revision": update.revision + 1,
            "submitted_at": clock.now(),
        }
        if resubmit
        else {}
    )
    update_audited(
        actor,
        "status_update.resubmit" if resubmit else "status_update.correct",
        update,
        **fields,
        **extra,
    )
    for indicator, value in rows:
        IndicatorValue.objects.update_or_create(
            update=update, indicator=indicator, defaults={"value": value}
        )
    _evidence_store(actor, update, files)
    version_bump(update)
    if resubmit:
        notifications.notifications_clear(ref=notifications.update_ref(update), kinds=["returned"])
        signoff.announce_submission(update)
    return update


@transaction.atomic
def status_update_review(
    *, actor: User, update: StatusUpdate, decision: str, reason: str = ""
) -> StatusUpdate:
    """Accept (the update becomes the task's state of record) or return with a reason."""
    require_acts_for(actor, update.task.government_id)
    require(permissions.is_office(actor), _("只有督查室可以审核报送。"))
    update = StatusUpdate.objects.select_for_update().get(pk=update.pk)
    if update.review_state != ReviewState.SUBMITTED:
        raise Conflict("not_awaiting_review", _("该报送不在待审核状态。"))
    if decision == Review.Decision.RETURNED and not reason.strip():
        raise ServiceError("reason_required", _("退回须说明理由。"), field="reason")
    if decision == Review.Decision.ACCEPTED and update.status == TaskStatus.DONE:
        # A plan's rule (Plan.evidence_required), off unless the office turned it on.
        if update.task.plan.evidence_required and not update.evidence.exists():
            raise ServiceError("evidence_required", _("“已完成”须附佐证材料后方可通过。"))
    review = create_audited(
        actor,
        f"status_update.{decision}",
        Review,
        update=update,
        revision=update.revision,
        decision=decision,
        reason=reason.strip(),
        reviewer=actor,
    )
    update_audited(actor, "status_update.review_state", update, review_state=decision)
    version_bump(update)
    # The office's notification about this report has been acted on: it leaves every bell.
    notifications.notifications_clear(ref=notifications.update_ref(update), kinds=["review"])
    if review.decision == Review.Decision.ACCEPTED:
        _make_state_of_record(actor, update)
        notifications.notify_report_accepted(review=review)
    else:
        notifications.notify_report_returned(review=review)
    return update


def _make_state_of_record(actor: User, update: StatusUpdate) -> None:
    task = task_locked(update.task)
    if update_audited(
        actor, "task.state_of_record", task, status=update.status, progress=update.progress
    ):
        version_bump(task)
    for value in update.values.select_related("indicator"):
        update_audited(actor, "indicator.actual", value.indicator, latest_actual=value.value)
    task_schedule_refresh(task=task)


# --- Evidence -------------------------------------------------------------------------------

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def _evidence_extension(name: str, uploaded: UploadedFile, size: int) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if size == 0:
        raise ServiceError("file_empty", _("文件为空。"), field="file")
    if size > EVIDENCE_MAX_BYTES:
        raise ServiceError("file_too_large", _("文件不能超过10MB。"), field="file")
    if extension not in evidence_files.ALLOWED:
        raise ServiceError(
            "file_type_not_allowed", _("只接受 PDF、图片(PNG/JPG)和 Office 文档。"), field="file"
        )
    uploaded.seek(0)
    if not evidence_files.matches(extension, uploaded.read(EVIDENCE_MAX_BYTES)):
        raise ServiceError("file_content_mismatch", _("文件内容与扩展名不符。"), field="file")
    return extension


def _evidence_checked(uploads: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """Each file with its extension, once all are accepted: a refusal comes before any write."""
    checked = []
    for uploaded in uploads:
        uploaded.seek(0)
        checked.append((uploaded, _evidence_extension(uploaded.name, uploaded, uploaded.size)))
    return checked


def _evidence_store(
    actor: User, update: StatusUpdate, files: list[tuple[UploadedFile, str]]
) -> list[Evidence]:
    return [_evidence_save(actor, update, uploaded, extension) for uploaded, extension in files]


def _evidence_save(actor: User, update: StatusUpdate, uploaded, extension: str) -> Evidence:
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    evidence = Evidence(
        update=update,
        original_name=uploaded.name[-200:],
        size=uploaded.size,
        content_type=evidence_files.CONTENT_TYPES[extension],
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    evidence.file.save(f"{uuid.uuid4().hex}.{extension}", uploaded, save=False)
    evidence.save()
    audit_log(
        actor=actor,
        action="evidence.attach",
        obj=evidence,
        after=snapshot(evidence, ["update", "original_name", "size", "sha256", "file"]),
    )
    return evidence


@transaction.atomic
def evidence_attach(*, actor: User, update: StatusUpdate, uploaded: UploadedFile) -> Evidence:
    require_acts_for(actor, update.task.government_id)
    require(permissions.leads(actor, update.task), _("只有牵头单位可以上传佐证材料。"))
    if update.review_state == ReviewState.ACCEPTED:
        raise Conflict("already_accepted", _("已通过审核的报送不能再添加材料。"))
    [evidence] = _evidence_store(actor, update, _evidence_checked([uploaded]))
    return evidence


# --- Co-departments, leaders ------------------------------------------------------------------


@transaction.atomic
def contribution_submit(
    *, actor: User, task: Task, period: dt.date, narrative: str
) -> Contribution:
    require_acts_for(actor, task.government_id)
    require(permissions.co_leads(actor, task), _("只有配合单位可以报送配合情况。"))
    _check_period(period)
    if Contribution.objects.filter(task=task, department=actor.department, period=period).exists():
        raise Conflict("duplicate_period", _("本单位本期已报送配合情况。"))
    return create_audited(
        actor,
        "contribution.submit",
        Contribution,
        task=task,
        department=actor.department,
        period=period,
        narrative=narrative,
        author=actor,
    )


@transaction.atomic
def instruction_create(*, actor: User, task: Task, text: str) -> Instruction:
    require_acts_for(actor, task.government_id)
    require(permissions.is_leader(actor), _("只有区领导可以作出批示。"))
    instruction = create_audited(
        actor, "instruction.create", Instruction, task=task, leader=actor, text=text
    )
    notifications.notify_instruction(instruction=instruction)
    return instruction


@transaction.atomic
def instruction_feedback_create(
    *, actor: User, instruction: Instruction, text: str
) -> InstructionFeedback:
    """落实反馈: the lead department answers a leader's instruction; the leader hears of it."""
    require_acts_for(actor, instruction.task.government_id)
    require(permissions.leads(actor, instruction.task), _("只有牵头单位可以反馈批示落实情况。"))
    if not text.strip():
        raise ServiceError("text_required", _("请填写落实情况。"), field="text")
    feedback = create_audited(
        actor,
        "instruction.feedback",
        InstructionFeedback,
        instruction=instruction,
        department=actor.department,
        author=actor,
        text=text.strip(),
    )
    if instruction.read_at is None:
        update_audited(actor, "instruction.read", instruction, read_at=clock.now())
    notifications.notify_feedback(feedback=feedback)
    return feedback


@transaction.atomic
def instruction_mark_read(*, actor: User, instruction: Instruction) -> Instruction:
    require_acts_for(actor, instruction.task.government_id)
    require(permissions.leads(actor, instruction.task), _("只有牵头单位可以阅知批示。"))
    if instruction.read_at is None:
        update_audited(actor, "instruction.read", instruction, read_at=clock.now())
    return instruction


# What the target column holds, read off the field itself (DECIMAL(18, 4) today).
_TARGET_FIELD = Indicator._meta.get_field("target_value")
TARGET_PLACES = _TARGET_FIELD.decimal_places
TARGET_INTEGER_DIGITS = _TARGET_FIELD.max_digits - TARGET_PLACES


def _parse_change_value(field_name: str, raw: str):
    try:
        value = dt.date.fromisoformat(raw) if field_name == "deadline" else Decimal(raw)
    except (ValueError, ArithmeticError):
        raise ServiceError("invalid_value", _("新值格式不正确。"), field="new_value") from None
    if isinstance(value, Decimal):
        _check_target(value)
    return value


def _check_target(value: Decimal) -> None:
    """NaN, infinities, and numbers the column cannot hold exactly are refused, not rounded."""
    if not value.is_finite() or abs(value) >= Decimal(10) ** TARGET_INTEGER_DIGITS:
        message = _("目标值须为有限数值,且整数部分不超过%(n)s位。") % {"n": TARGET_INTEGER_DIGITS}
        raise ServiceError("invalid_value", message, field="new_value")
    if value != value.quantize(Decimal(1).scaleb(-TARGET_PLACES), rounding="ROUND_DOWN"):
        message = _("目标值最多保留%(n)s位小数。") % {"n": TARGET_PLACES}
        raise ServiceError("invalid_value", message, field="new_value")


@transaction.atomic
def change_request_create(
    *,
    actor: User,
    task: Task,
    field: str,
    new_value: str,
    reason: str,
    indicator: Indicator | None = None,
) -> ChangeRequest:
    # The office decides requests; it does not file them, so no one approves their own.
    require_acts_for(actor, task.government_id)
    require(permissions.leads(actor, task), _("只有牵头单位可以提交变更申请。"))
    if task.plan.status != Plan.Status.PUBLISHED:
        raise Conflict("plan_not_published", _("计划尚未发布,可直接修改,无需变更申请。"))
    if not reason.strip():
        raise ServiceError("reason_required", _("请说明申请变更的理由。"), field="reason")
    if field not in ChangeRequest.Field.values:
        raise ServiceError("invalid_field", _("变更项无效。"), field="field")
    if field == ChangeRequest.Field.DEADLINE:
        indicator = None  # a deadline request names no indicator
    if field == ChangeRequest.Field.TARGET_VALUE and (
        indicator is None or indicator.task_id != task.pk
    ):
        raise ServiceError("indicator_required", _("请选择该任务的指标。"), field="indicator")
    parsed = _parse_change_value(field, new_value)
    current = task.deadline if field == ChangeRequest.Field.DEADLINE else indicator.target_value
    if field == ChangeRequest.Field.DEADLINE and task.start_date and parsed < task.start_date:
        raise ServiceError(
            "deadline_before_start", _("完成时限不能早于开始日期。"), field="new_value"
        )
    if ChangeRequest.objects.filter(
        task=task, field=field, indicator=indicator, state=ChangeRequest.State.PENDING
    ).exists():
        raise Conflict("change_request_pending", _("已有待审批的同类变更申请。"))
    change = create_audited(
        actor,
        "change_request.create",
        ChangeRequest,
        task=task,
        indicator=indicator,
        field=field,
        old_value=str(json_value(current) or ""),
        new_value=str(json_value(parsed)),
        reason=reason.strip(),
        requested_by=actor,
    )
    notifications.notify_change_requested(change=change)
    return change


@transaction.atomic
def change_request_decide(
    *, actor: User, change: ChangeRequest, approve: bool, note: str = ""
) -> ChangeRequest:
    require_acts_for(actor, change.task.government_id)
    require(permissions.is_office(actor), _("只有督查室可以审批变更申请。"))
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.state != ChangeRequest.State.PENDING:
        raise Conflict("already_decided", _("该变更申请已审批。"))
    if not approve and not note.strip():
        raise ServiceError("note_required", _("驳回须填写审批意见。"), field="note")
    state = ChangeRequest.State.APPROVED if approve else ChangeRequest.State.REJECTED
    update_audited(
        actor,
        f"change_request.{state}",
        change,
        state=state,
        decided_by=actor,
        decided_at=clock.now(),
        decision_note=note.strip(),
    )
    if approve:
        _apply_change(actor, change)
    notifications.notifications_clear(
        ref=notifications.change_ref(change), kinds=["change_request"]
    )
    notifications.notify_change_decided(change=change)
    return change


def _apply_change(actor: User, change: ChangeRequest) -> None:
    value = _parse_change_value(change.field, change.new_value)
    if change.field == ChangeRequest.Field.DEADLINE:
        task = task_locked(change.task)
        update_audited(
            actor,
            "task.deadline_change",
            task,
            deadline=value,
            original_deadline=task.original_deadline or task.deadline,
        )
        version_bump(task)
        task_schedule_refresh(task=task)
    else:
        indicator = change.indicator
        update_audited(
            actor,
            "indicator.target_change",
            indicator,
            target_value=value,
            original_target_value=indicator.original_target_value or indicator.target_value,
        )
