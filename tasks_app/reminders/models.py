from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.common import clock
from tasks_app.plans.models import Department, Plan, Task, User
from tasks_app.plans.tenants import default_government_id, government_field

# --- Reminders ---


class ReminderLevel(models.TextChoices):
    REMIND = "remind", _("提醒")
    CHASE = "chase", _("催办")
    ESCALATE = "escalate", _("督办")


class ReminderRepeat(models.TextChoices):
    ONCE = "once", _("一次")
    DAILY = "daily", _("每个工作日")
    WEEKLY = "weekly", _("每5个工作日")


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    IN_APP = "in_app", _("站内通知")
    WEBHOOK = "webhook", _("部门群机器人")


class ReminderStep(models.Model):
    """One rung of the reminder ladder: when (working days from the due day), whom, how.

    Steps with no plan are their government's default ladder; a plan with steps of its own uses
    only those. A government with no default ladder of its own uses the default government's
    (GAOXIN_GOVERNMENT): a new government starts with the seed's ladder and replaces it by adding
    steps of its own. A plan's steps belong to the plan's government.
    """

    government = government_field("reminder_steps")
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("计划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminder_steps",
        help_text=_("留空为默认阶梯,适用于未单独设置的计划"),
    )
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(
        _("级别"), max_length=10, choices=ReminderLevel.choices, default=ReminderLevel.REMIND
    )
    offset = models.SmallIntegerField(
        _("相对到期日(工作日)"), help_text=_("负数为到期前,0为到期当日,正数为逾期后")
    )
    repeat = models.CharField(
        _("重复"), max_length=10, choices=ReminderRepeat.choices, default=ReminderRepeat.ONCE
    )
    to_contact = models.BooleanField(_("部门联络员"), default=False)
    to_head = models.BooleanField(_("部门负责人"), default=False)
    to_leader = models.BooleanField(_("责任领导"), default=False)
    to_office = models.BooleanField(_("督查室"), default=False)
    by_email = models.BooleanField(_("邮件"), default=True)
    by_in_app = models.BooleanField(_("站内通知"), default=True)
    by_webhook = models.BooleanField(_("部门群机器人"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("提醒阶梯")
        verbose_name_plural = _("提醒阶梯")
        ordering = ["plan", "offset", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=ReminderLevel.values), name="reminderstep_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(repeat__in=ReminderRepeat.values), name="reminderstep_repeat_valid"
            ),
            models.CheckConstraint(
                condition=Q(offset__gte=-30) & Q(offset__lte=60), name="reminderstep_offset_sane"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.government_id is None:
            self.government_id = (
                self.plan.government_id if self.plan_id else default_government_id()
            )
        super().save(*args, **kwargs)


class Reminder(models.Model):
    """The decision to remind about one item on one day: at most one per (task, step, item, day).

    `item` names what falls due ("deadline", "report:2020-01-01", "milestone:7", ...); `remind_on`
    is the working day this rung of the ladder fires for it. Created insert-or-ignore by the sweep.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    step = models.ForeignKey(ReminderStep, on_delete=models.CASCADE, related_name="reminders")
    item = models.CharField(_("事项"), max_length=40)
    due_date = models.DateField(_("到期日"))
    remind_on = models.DateField(_("提醒日"))
    level = models.CharField(_("级别"), max_length=10, choices=ReminderLevel.choices)
    assembled_at = models.DateTimeField(_("编入摘要时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-remind_on", "task"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "step", "item", "remind_on"], name="reminder_once_per_day"
            ),
            models.CheckConstraint(
                condition=Q(level__in=ReminderLevel.values), name="reminder_level_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["remind_on"],
                name="reminder_unassembled_idx",
                condition=Q(assembled_at__isnull=True),
            ),
            # The sweep looks up which of today's candidates an earlier sweep already decided
            # (covering on PostgreSQL: the lookup reads the index only).
            models.Index(
                fields=["remind_on", "step"],
                include=["task", "item"],
                name="reminder_day_step_idx",
            ),
        ]

    def __str__(self):
        return f"{self.task.code} {self.item} {self.remind_on}"


class Digest(models.Model):
    """Everything one recipient hears about on one day through one channel, as one message.

    The recipient is a user (email, in-app) or a department (its group-robot webhooks).
    Items join a digest only while it is open; the first delivery claim seals it.
    """

    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="digests"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="digests"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    day = models.DateField(_("日期"))
    sealed_at = models.DateTimeField(_("封存时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("提醒摘要")
        verbose_name_plural = _("提醒摘要")
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "day"],
                condition=Q(recipient__isnull=False),
                name="digest_one_per_user_channel_day",
            ),
            models.UniqueConstraint(
                fields=["department", "channel", "day"],
                condition=Q(department__isnull=False),
                name="digest_one_per_department_channel_day",
            ),
            models.CheckConstraint(
                condition=(Q(recipient__isnull=False) & Q(department__isnull=True))
                | (Q(recipient__isnull=True) & Q(department__isnull=False) & Q(channel="webhook")),
                name="digest_user_or_department_webhook",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="digest_channel_valid"
            ),
        ]

    def __str__(self):
        return f"{self.recipient or self.department} {self.channel} {self.day}"


class DigestItem(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="digest_items")
    # Who and how, copied from the digest: a reminder reaches each recipient once per channel,
    # even when two sweeps put it towards different days' digests.
    recipient_key = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "recipient_key", "channel"], name="digestitem_once"
            ),
        ]

    def __str__(self):
        return f"digest {self.digest_id} item {self.pk}"


class DepartmentWebhook(models.Model):
    class Kind(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")

    government = government_field("department_webhooks")  # the department's
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="webhooks"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True, help_text=_("钉钉“加签”安全设置的 SEC 密钥")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门群机器人")
        verbose_name_plural = _("部门群机器人")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["wecom", "dingtalk"]), name="webhook_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.department} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.government_id is None:
            self.government_id = self.department.government_id
        super().save(*args, **kwargs)


class Notification(models.Model):
    """An in-app message (the bell): a day's digest, a chase, a report awaiting review."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=20)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), max_length=20000)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    digest = models.OneToOneField(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    # What the notification is about ("update:<id>", "change:<id>"): handling it clears it.
    ref = models.CharField(_("事项"), max_length=40, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("时间"), default=clock.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["ref"],
                name="notification_unread_ref_idx",
                condition=Q(read_at__isnull=True) & ~Q(ref=""),
            ),
        ]

    def __str__(self):
        return self.title


class ManualChase(models.Model):
    """催办 by the supervision office: one task, or every open task of a department."""

    chased_by = models.ForeignKey(
        User, verbose_name=_("催办人"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="chases"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="chases")
    note = models.TextField(_("催办说明"), max_length=1000)
    created_at = models.DateTimeField(_("催办时间"), default=clock.now)

    class Meta:
        verbose_name = _("人工催办")
        verbose_name_plural = _("人工催办")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["department", "created_at"], name="chase_recent_idx")]

    def __str__(self):
        return f"chase {self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    """One message on one channel, claimed with a lease and retried with backoff.

    A digest's message is rendered from its items when sent; an event's (chase, review) is
    stored in subject/body when it is created. `key` makes creation insert-or-ignore.
    """

    Status = DeliveryStatus

    key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook = models.ForeignKey(
        DepartmentWebhook,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=clock.now)
    claimed_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    provider_id = models.CharField(_("平台消息编号"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("发送")
        verbose_name_plural = _("发送")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(channel="webhook") | Q(webhook__isnull=False),
                name="delivery_webhook_has_hook",
            ),
            models.CheckConstraint(
                condition=Q(channel="webhook") | Q(recipient__isnull=False),
                name="delivery_user_channel_has_recipient",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self):
        return self.key


class DeliveryAttempt(models.Model):
    """Each try of a delivery: when, the result, the provider's message id or the error."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("第几次"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    started_at = models.DateTimeField(_("开始时间"))
    # Written before the provider is called: a worker killed mid-send leaves the row with no
    # finish and no result (None: interrupted), so every try is on record.
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ok = models.BooleanField(_("成功"), null=True)
    provider_id = models.CharField(_("平台消息编号"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="deliveryattempt_unique"),
        ]

    def __str__(self):
        return f"attempt {self.pk}"
