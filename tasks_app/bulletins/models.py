"""督查通报 as the supervision office issues it: numbered, dated, signed by an office, frozen.

A plan's BulletinSeries holds how its bulletins are headed (文号 pattern, issuing office); each
Bulletin is a draft until the office issues it, and then carries its 期号 (第N期, 1, 2, 3 ... per
plan), its 文号, its issue date and the numbers as of its date, frozen as JSON: later reports,
later rule changes and renamed departments never change an issued bulletin.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.common import clock
from tasks_app.plans.models import Plan, User

DEFAULT_PATTERN = "高新督〔{year}〕{n}号"
DEFAULT_OFFICE = "珠海高新区党政办公室(督查室)"


class BulletinSeries(models.Model):
    """How a plan's bulletins are numbered and signed (one row per plan, made on first use)."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="bulletin_series"
    )
    number_pattern = models.CharField(
        _("文号格式"),
        max_length=60,
        default=DEFAULT_PATTERN,
        help_text=_("{year} 为印发年份,{n} 为期号,例如:高新督〔{year}〕{n}号"),
    )
    issuing_office = models.CharField(_("印发单位"), max_length=100, default=DEFAULT_OFFICE)

    class Meta:
        verbose_name = _("督查通报设置")
        verbose_name_plural = _("督查通报设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(number_pattern__contains="{n}"), name="bulletinseries_pattern_has_n"
            ),
        ]

    def __str__(self):
        return f"{self.plan} · {self.number_pattern}"


class Bulletin(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ISSUED = "issued", _("已印发")

    plan = models.ForeignKey(
        Plan, verbose_name=_("计划"), on_delete=models.PROTECT, related_name="bulletins"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    as_of = models.DateField(_("统计日期"))
    opinion = models.TextField(_("督查意见"), max_length=5000, blank=True)
    number = models.PositiveIntegerField(_("期号"), null=True, blank=True)
    document_number = models.CharField(_("文号"), max_length=80, blank=True)
    issuing_office = models.CharField(_("印发单位"), max_length=100, blank=True)
    issue_date = models.DateField(_("印发日期"), null=True, blank=True)
    numbers = models.JSONField(_("冻结的数据"), encoder=DjangoJSONEncoder, null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("起草时间"), default=clock.now)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("督查通报")
        verbose_name_plural = _("督查通报")
        ordering = ["plan", "-number", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="bulletin_one_number_per_plan"),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "issued"]), name="bulletin_state_valid"
            ),
            # Issued means numbered, dated, signed and frozen; a draft has none of these.
            models.CheckConstraint(
                condition=(
                    Q(state="issued")
                    & Q(number__isnull=False)
                    & Q(issue_date__isnull=False)
                    & Q(numbers__isnull=False)
                    & ~Q(document_number="")
                    & ~Q(issuing_office="")
                )
                | (Q(state="draft") & Q(number__isnull=True) & Q(numbers__isnull=True)),
                name="bulletin_issued_is_complete",
            ),
        ]

    def __str__(self):
        if self.state == self.State.ISSUED:
            return f"督查通报 第{self.number}期 {self.document_number}"
        return f"督查通报(草稿)截至{self.as_of:%Y-%m-%d}"
