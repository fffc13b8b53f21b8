"""调度会 stocktake packs, their 议定事项, and the office's quarterly confidence ratings."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.common import clock
from tasks_app.plans.models import Plan, Task, User


class PackState(models.TextChoices):
    DRAFT = "draft", _("准备中")
    HELD = "held", _("已召开")


class StocktakePack(models.Model):
    """The papers of one 调度会: computed while in preparation, frozen when the meeting is held
    (`contents` then holds every number shown, and nothing is recomputed)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="stocktake_packs")
    title = models.CharField(_("会议名称"), max_length=200)
    as_of = models.DateField(_("数据截至"))
    state = models.CharField(
        _("状态"), max_length=10, choices=PackState.choices, default=PackState.DRAFT
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("上次调度会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contents = models.JSONField(_("冻结内容"), null=True, blank=True)
    prepared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    held_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(_("召开时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("调度会材料")
        verbose_name_plural = _("调度会材料")
        ordering = ["plan", "-as_of", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=PackState.values), name="stocktakepack_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state=PackState.DRAFT)
                | (Q(contents__isnull=False) & Q(held_at__isnull=False)),
                name="stocktakepack_held_is_frozen",
            ),
            models.CheckConstraint(
                condition=~Q(previous=models.F("pk")), name="stocktakepack_not_own_previous"
            ),
        ]

    def __str__(self):
        return f"{self.title}({self.as_of})"


class StocktakeDecision(models.Model):
    """A 议定事项: the task it became (kind 议定事项) and the tasks it concerns."""

    pack = models.ForeignKey(StocktakePack, on_delete=models.PROTECT, related_name="decisions")
    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="stocktake_decision")
    concerns = models.ManyToManyField(
        Task, verbose_name=_("涉及任务"), blank=True, related_name="stocktake_decisions_about"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("记录时间"), default=clock.now)

    class Meta:
        verbose_name = _("议定事项")
        verbose_name_plural = _("议定事项")
        ordering = ["pack", "id"]

    def __str__(self):
        return f"{self.pack_id}: {self.task_id}"


class Confidence(models.TextChoices):
    HIGH = "high", _("高")
    FAIRLY_HIGH = "fairly_high", _("较高")
    MEDIUM = "medium", _("中")
    FAIRLY_LOW = "fairly_low", _("较低")
    LOW = "low", _("低")


# The probability of on-time delivery each level stands for (the Brier score uses these).
CONFIDENCE_PROBABILITY = {
    Confidence.HIGH: 0.9,
    Confidence.FAIRLY_HIGH: 0.7,
    Confidence.MEDIUM: 0.5,
    Confidence.FAIRLY_LOW: 0.3,
    Confidence.LOW: 0.1,
}


class ConfidenceRating(models.Model):
    """One rater's judgement of a task's delivery, for one quarter (the quarter's first day).

    Editable until the quarter closes; after that PostgreSQL refuses any change (migration 0023's
    trigger) and the service says why."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="confidence_ratings")
    quarter = models.DateField(_("季度"))
    level = models.CharField(_("把握程度"), max_length=12, choices=Confidence.choices)
    reason = models.TextField(_("理由"), max_length=1000)
    rater = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("评定时间"), default=clock.now)
    updated_at = models.DateTimeField(_("修改时间"), default=clock.now)

    class Meta:
        verbose_name = _("把握度评定")
        verbose_name_plural = _("把握度评定")
        ordering = ["-quarter", "task", "rater"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "quarter", "rater"], name="confidencerating_once_per_quarter"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Confidence.values), name="confidencerating_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(quarter__month__in=(1, 4, 7, 10)) & Q(quarter__day=1),
                name="confidencerating_quarter_first_day",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="confidencerating_reason_given"),
        ]

    def __str__(self):
        return f"{self.task_id} {self.quarter} {self.level}"


class RatingQuarterClose(models.Model):
    """A quarter whose ratings are closed: written once, never undone."""

    quarter = models.DateField(_("季度"), unique=True)
    closed_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("关闭时间"), default=clock.now)

    class Meta:
        verbose_name = _("已关闭的评定季度")
        verbose_name_plural = _("已关闭的评定季度")

    def __str__(self):
        return f"{self.quarter}"
