from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tasks_app.plans.models import Government, User
from tasks_app.plans.tenants import GovernmentOwned

# The hash protocol of an event (ledger.payload): 1 = the fields of ledger.HASHED_FIELDS_V1, the
# chains recorded before there were governments; 2 = those and government_id, so that an event
# cannot be moved from one government's chain to another's without its hash changing.
HASH_VERSION = 2


class AuditEvent(models.Model):
    """One event of the ledger, as it happened: appended by tasks_app.ledger, never edited.

    Each government has its own hash chain: ``seq`` counts within the government and ``hash`` is
    SHA-256 over the canonical serialization of the event's fields (see ledger.payload) including
    ``prev_hash``, the hash of the government's event at ``seq - 1``.
    On PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (migration 0007).
    """

    # The government whose chain holds the event (the one of the object it concerns, else its
    # actor's, else the default government). Indexed by the unique (government, seq).
    government = models.ForeignKey(
        Government,
        verbose_name=_("政府"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    seq = models.BigIntegerField(_("序号"))
    hash_version = models.PositiveSmallIntegerField(_("哈希版本"), default=HASH_VERSION)
    prev_hash = models.CharField(_("前一事件哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64)
    # PROTECT: the actor's id is part of the hash, so a user with events is deactivated, never
    # deleted (SET_NULL would rewrite the ledger).
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=20, blank=True)
    actor_department = models.CharField(_("部门"), max_length=100, blank=True)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=50)
    object_id = models.CharField(_("对象编号"), max_length=50)
    object_repr = models.CharField(_("对象"), max_length=200)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    ip = models.CharField(_("IP地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["government_id", "seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="auditevent_seq_positive"),
            models.UniqueConstraint(fields=["government", "seq"], name="auditevent_government_seq"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    """One row per government naming its chain's last event; appends lock it to serialise, so
    the writers of one government queue on it and those of another government do not."""

    government = models.OneToOneField(Government, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.seq} {self.hash}"


class AuditCheckpoint(GovernmentOwned):
    """A government's chain head as it was at a moment, kept (and exported) to detect a
    rewritten chain."""

    government = models.ForeignKey(
        Government, verbose_name=_("政府"), on_delete=models.PROTECT, related_name="+", blank=True
    )
    seq = models.BigIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.CharField(_("记录人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        ordering = ["government_id", "-seq", "-id"]
        indexes = [
            models.Index(fields=["government", "seq"], name="auditcheckpoint_government_seq")
        ]

    def __str__(self):
        return f"{self.seq} {self.hash}"


class ExportKind(models.TextChoices):
    LEDGER = "ledger", _("审计日志")
    PROGRESS = "progress", _("进展日志")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportState(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ExportJob(GovernmentOwned):
    """One export of a government's ledger or progress logs, with its manifest once written."""

    government = models.ForeignKey(
        Government, verbose_name=_("政府"), on_delete=models.PROTECT, related_name="+", blank=True
    )
    kind = models.CharField(_("内容"), max_length=10, choices=ExportKind.choices)
    format = models.CharField(_("格式"), max_length=10, choices=ExportFormat.choices)
    filters = models.JSONField(_("筛选条件"), default=dict)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    background = models.BooleanField(_("后台生成"), default=False)
    state = models.CharField(
        _("状态"), max_length=10, choices=ExportState.choices, default=ExportState.PENDING
    )
    file = models.FileField(_("文件"), upload_to="audit_exports/%Y/%m/", blank=True)
    manifest = models.JSONField(_("清单"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出")
        verbose_name_plural = _("导出")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ExportKind.values), name="exportjob_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="exportjob_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ExportState.values), name="exportjob_state_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind}.{self.format} #{self.pk}"
