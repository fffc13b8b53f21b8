from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.common import clock
from tasks_app.plans.models import Department, Indicator, Task, TaskStatus, User


class ReviewState(models.TextChoices):
    SIGNOFF = "signoff", _("待部门负责人审核")
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("已通过")
    RETURNED = "returned", _("已退回")


class StatusUpdate(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    period = models.DateField(_("报送期"), help_text=_("报送周期的第一天"))
    status = models.CharField(_("状态"), max_length=20, choices=TaskStatus.choices)
    progress = models.PositiveSmallIntegerField(_("进度(%)"))
    narrative = models.TextField(_("进展情况"), max_length=5000)
    public_narrative = models.TextField(
        _("公开口径"),
        max_length=2000,
        blank=True,
        default="",
        db_default="",  # rows written by COPY or raw SQL (bench, data fixes) need none
        help_text=_("可向社会公开的进展表述;督查室审核通过后方可公开,不写个人姓名"),
    )
    explanation = models.TextField(
        _("情况说明"),
        max_length=2000,
        blank=True,
        default="",
        db_default="",  # rows written by COPY or raw SQL (bench, data fixes) need none
        help_text=_("红灯任务报送时须说明滞后原因和措施"),
    )
    author = models.ForeignKey(
        User, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="status_updates"
    )
    review_state = models.CharField(
        _("审核状态"), max_length=20, choices=ReviewState.choices, default=ReviewState.SUBMITTED
    )
    revision = models.PositiveSmallIntegerField(_("报送次数"), default=1)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("填报时间"), default=clock.now)
    submitted_at = models.DateTimeField(_("最近报送时间"), default=clock.now)

    class Meta:
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        ordering = ["task", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["task", "period"], name="statusupdate_one_per_period"),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="statusupdate_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="statusupdate_progress_0_100",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values),
                name="statusupdate_review_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["submitted_at"],
                name="statusupdate_review_queue_idx",
                condition=Q(review_state="submitted"),
            ),
            # The reminder sweep's reports awaiting review or resubmission, every minute.
            models.Index(
                fields=["task"],
                name="statusupdate_waiting_idx",
                condition=Q(review_state__in=["returned", "submitted", "signoff"]),
            ),
        ]

    def __str__(self):
        return f"{self.task.code} {self.period:%Y-%m}"


class IndicatorValue(models.Model):
    """An indicator's actual value as reported in one status update."""

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    value = models.DecimalField(_("实际值"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("指标实际值")
        verbose_name_plural = _("指标实际值")
        constraints = [
            models.UniqueConstraint(fields=["update", "indicator"], name="indicatorvalue_unique"),
        ]

    def __str__(self):
        return f"{self.indicator_id}: {self.value}"


class UpdateDecision(models.Model):
    """A decision on one submission (revision) of a status update, once per revision; a return
    says why. The office's Review and the department head's SignOff, each with its choices."""

    revision = models.PositiveSmallIntegerField(_("审核的报送次数"))
    created_at = models.DateTimeField(_("审核时间"), default=clock.now)

    class Meta:
        abstract = True
        ordering = ["update", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["update", "revision"], name="%(class)s_once_per_revision"
            ),
            models.CheckConstraint(
                condition=~Q(decision="returned") | ~Q(reason=""),
                name="%(class)s_return_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} #{self.update_id}.{self.revision}"


class Review(UpdateDecision):
    """The supervision office's decision on one submission of a status update."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("通过")
        RETURNED = "returned", _("退回")

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(_("审核结果"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("理由"), max_length=1000, blank=True)
    reviewer = models.ForeignKey(
        User, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta(UpdateDecision.Meta):
        verbose_name = _("审核")
        verbose_name_plural = _("审核")
        constraints = [
            *UpdateDecision.Meta.constraints,
            models.CheckConstraint(
                condition=Q(decision__in=["accepted", "returned"]), name="review_decision_valid"
            ),
        ]


class SignOff(UpdateDecision):
    """The department head's decision (部门负责人审核) on one submission, before the office's."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("同意报送")
        RETURNED = "returned", _("退回")

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="signoffs")
    decision = models.CharField(_("审核结果"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("意见"), max_length=1000, blank=True)
    signer = models.ForeignKey(
        User, verbose_name=_("部门负责人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta(UpdateDecision.Meta):
        verbose_name = _("部门审核")
        verbose_name_plural = _("部门审核")
        constraints = [
            *UpdateDecision.Meta.constraints,
            models.CheckConstraint(
                condition=Q(decision__in=["approved", "returned"]), name="signoff_decision_valid"
            ),
        ]


class Evidence(models.Model):
    """A file attached to a status update, stored under a generated name."""

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), default=clock.now)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["update", "created_at"]

    def __str__(self):
        return self.original_name


class Contribution(models.Model):
    """A co-department's part for one period, seen by the lead department when it reports."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="contributions")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("报送期"))
    narrative = models.TextField(_("配合情况"), max_length=5000)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("填报时间"), default=clock.now)

    class Meta:
        verbose_name = _("配合单位报送")
        verbose_name_plural = _("配合单位报送")
        ordering = ["task", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "department", "period"], name="contribution_one_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.department} {self.period:%Y-%m}"


class Instruction(models.Model):
    """A leader's instruction (批示) on a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="instructions")
    leader = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("批示内容"), max_length=2000)
    created_at = models.DateTimeField(_("批示时间"), default=clock.now)
    read_at = models.DateTimeField(_("部门阅知时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        ordering = ["task", "-created_at"]

    def __str__(self):
        return self.text[:40]


class InstructionFeedback(models.Model):
    """落实反馈: the lead department answers a leader's instruction; a thread per instruction."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="feedback")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        User, verbose_name=_("反馈人"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("落实情况"), max_length=2000)
    created_at = models.DateTimeField(_("反馈时间"), default=clock.now)

    class Meta:
        verbose_name = _("批示落实反馈")
        verbose_name_plural = _("批示落实反馈")
        ordering = ["instruction", "created_at", "id"]

    def __str__(self):
        return self.text[:40]


class ChangeRequest(models.Model):
    """After publication a deadline or a target changes only through an approved request."""

    class Field(models.TextChoices):
        DEADLINE = "deadline", _("完成时限")
        TARGET_VALUE = "target_value", _("目标值")

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="change_requests")
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="change_requests"
    )
    field = models.CharField(_("变更项"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("原值"), max_length=40)
    new_value = models.CharField(_("新值"), max_length=40)
    reason = models.TextField(_("理由"), max_length=1000)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(field="target_value") & Q(indicator__isnull=False))
                | (Q(field="deadline") & Q(indicator__isnull=True)),
                name="changerequest_indicator_iff_target",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "approved", "rejected"]),
                name="changerequest_state_valid",
            ),
            models.UniqueConstraint(
                fields=["task", "field", "indicator"],
                condition=Q(state="pending"),
                name="changerequest_one_pending",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return f"{self.get_field_display()} {self.old_value} → {self.new_value}"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key"),
        ]

    # --- Audit ledger ---

    def __str__(self):
        return self.key
