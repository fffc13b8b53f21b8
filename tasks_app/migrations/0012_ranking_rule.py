"""The ranking's (红黑榜) weights and list thresholds as a row per plan that the office edits
(admin → 红黑榜评分规则). No rows are created: a plan without one is scored with the defaults,
which are the weights and thresholds the ranking had before (25/15/10/25/25, 红榜 90, 黑榜 60).
"""

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0011_reminder_sweep_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="RankingRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reporting_weight",
                    models.PositiveSmallIntegerField(default=25, verbose_name="报送率权重"),
                ),
                (
                    "on_time_weight",
                    models.PositiveSmallIntegerField(default=15, verbose_name="按时报送率权重"),
                ),
                (
                    "first_pass_weight",
                    models.PositiveSmallIntegerField(default=10, verbose_name="一次通过率权重"),
                ),
                (
                    "completion_weight",
                    models.PositiveSmallIntegerField(default=25, verbose_name="完成率权重"),
                ),
                (
                    "lights_weight",
                    models.PositiveSmallIntegerField(default=25, verbose_name="亮灯得分权重"),
                ),
                (
                    "red_list_min_score",
                    models.PositiveSmallIntegerField(
                        default=90, help_text="得分不低于此分列入红榜", verbose_name="红榜分数线"
                    ),
                ),
                (
                    "black_list_below_score",
                    models.PositiveSmallIntegerField(
                        default=60, help_text="得分低于此分列入黑榜", verbose_name="黑榜分数线"
                    ),
                ),
                (
                    "plan",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ranking_rule",
                        to="tasks_app.plan",
                        verbose_name="计划",
                    ),
                ),
            ],
            options={
                "verbose_name": "红黑榜评分规则",
                "verbose_name_plural": "红黑榜评分规则",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("reporting_weight__gte", 0),
                            ("on_time_weight__gte", 0),
                            ("first_pass_weight__gte", 0),
                            ("completion_weight__gte", 0),
                            ("lights_weight__gte", 0),
                        ),
                        name="rankingrule_weights_non_negative",
                        violation_error_message="权重不能为负数。",
                    ),
                    models.CheckConstraint(
                        condition=django.db.models.lookups.Exact(
                            django.db.models.expressions.CombinedExpression(
                                django.db.models.expressions.CombinedExpression(
                                    django.db.models.expressions.CombinedExpression(
                                        django.db.models.expressions.CombinedExpression(
                                            models.F("reporting_weight"),
                                            "+",
                                            models.F("on_time_weight"),
                                        ),
                                        "+",
                                        models.F("first_pass_weight"),
                                    ),
                                    "+",
                                    models.F("completion_weight"),
                                ),
                                "+",
                                models.F("lights_weight"),
                            ),
                            100,
                        ),
                        name="rankingrule_weights_sum_100",
                        violation_error_message="各项权重之和须为100。",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("red_list_min_score__lte", 100), ("black_list_below_score__lte", 100)
                        ),
                        name="rankingrule_thresholds_0_100",
                        violation_error_message="分数线须在0到100之间。",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("black_list_below_score__lt", models.F("red_list_min_score"))
                        ),
                        name="rankingrule_black_below_red",
                        violation_error_message="黑榜分数线须低于红榜分数线。",
                    ),
                ],
            },
        ),
    ]
