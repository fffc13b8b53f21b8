"""Public progress (政务公开): frozen snapshots of a plan's progress that anyone can verify."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.plans.models import Plan


class PublicSnapshot(models.Model):
    """One published snapshot, frozen: `content` is the canonical JSON the public downloads,
    `sha256` its hash, and `ledger_seq` the audit event that recorded that hash when it was
    published: the seq in the chain of the plan's government (each government has its own, so
    two governments' snapshots may share a seq; a snapshot is named by its plan and seq). The
    table is append-only on PostgreSQL (migration 0022)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("计划"), on_delete=models.PROTECT, related_name="public_snapshots"
    )
    title = models.CharField(_("公开标题"), max_length=200)
    as_of = models.DateField(_("截至日期"))
    content = models.TextField(_("公开内容(规范JSON)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    ledger_seq = models.BigIntegerField(_("审计日志序号"))
    ledger_hash = models.CharField(_("审计日志哈希"), max_length=64)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("公开进展快照")
        verbose_name_plural = _("公开进展快照")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "ledger_seq"], name="publicsnapshot_one_per_plan_seq"
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="publicsnapshot_sha256_hex"
            ),
            models.CheckConstraint(
                condition=Q(ledger_seq__gte=1), name="publicsnapshot_ledger_seq_positive"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.as_of:%Y-%m-%d})"
