"""How a plan's ranking (红黑榜) is scored: weights and list thresholds the office edits.

A plan without a RankingRule row is scored with the defaults, which are the weights and
thresholds the ranking used before they became editable.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from tasks_app.plans.models import Plan

SCORE_KEYS = ("reporting", "on_time", "first_pass", "completion", "lights")


DEFAULT_WEIGHTS = {"reporting": 25, "on_time": 15, "first_pass": 10, "completion": 25, "lights": 25}


def _weight(key: str, label):
    return models.PositiveSmallIntegerField(label, default=DEFAULT_WEIGHTS[key])


class RankingRule(models.Model):
    plan = models.OneToOneField(
        Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="ranking_rule"
    )
    reporting_weight = _weight("reporting", _("报送率权重"))
    on_time_weight = _weight("on_time", _("按时报送率权重"))
    first_pass_weight = _weight("first_pass", _("一次通过率权重"))
    completion_weight = _weight("completion", _("完成率权重"))
    lights_weight = _weight("lights", _("亮灯得分权重"))
    red_list_min_score = models.PositiveSmallIntegerField(
        _("红榜分数线"), default=90, help_text=_("得分不低于此分列入红榜")
    )
    black_list_below_score = models.PositiveSmallIntegerField(
        _("黑榜分数线"), default=60, help_text=_("得分低于此分列入黑榜")
    )

    class Meta:
        verbose_name = _("红黑榜评分规则")
        verbose_name_plural = _("红黑榜评分规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(reporting_weight__gte=0)
                & Q(on_time_weight__gte=0)
                & Q(first_pass_weight__gte=0)
                & Q(completion_weight__gte=0)
                & Q(lights_weight__gte=0),
                name="rankingrule_weights_non_negative",
                violation_error_message=_("权重不能为负数。"),
            ),
            models.CheckConstraint(
                condition=Exact(
                    F("reporting_weight")
                    + F("on_time_weight")
                    + F("first_pass_weight")
                    + F("completion_weight")
                    + F("lights_weight"),
                    100,
                ),
                name="rankingrule_weights_sum_100",
                violation_error_message=_("各项权重之和须为100。"),
            ),
            models.CheckConstraint(
                condition=Q(red_list_min_score__lte=100) & Q(black_list_below_score__lte=100),
                name="rankingrule_thresholds_0_100",
                violation_error_message=_("分数线须在0到100之间。"),
            ),
            models.CheckConstraint(
                condition=Q(black_list_below_score__lt=F("red_list_min_score")),
                name="rankingrule_black_below_red",
                violation_error_message=_("黑榜分数线须低于红榜分数线。"),
            ),
        ]

    def __str__(self):
        return str(self.plan)

    @property
    def weights(self) -> dict[str, int]:
        return {key: getattr(self, f"{key}_weight") for key in SCORE_KEYS}
