"""Governments as tenants: every plan, department, user and task will belong to one (0023, 0024).

Existing rows move to the default government (settings.GAOXIN_GOVERNMENT, the seed's 珠海高新区);
a plan whose free-text government label named another keeps it, as a government of its own.
On PostgreSQL composite foreign keys keep a task's government equal to its plan's and its lead
department's, and a user's and a department's parent's equal to their department's.
"""

import django.db.models.deletion
from django.db import migrations, models


def government_fk(related_name, *, null=False):
    return models.ForeignKey(
        blank=True,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="tasks_app.government",
        verbose_name="政府",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0021_plan_rules_public_snapshots"),
    ]

    operations = [
        migrations.CreateModel(
            name="Government",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True, verbose_name="名称")),
                (
                    "code",
                    models.SlugField(
                        blank=True,
                        help_text="英文字母、数字或连字符,供接口和命令行使用",
                        max_length=40,
                        null=True,
                        unique=True,
                        verbose_name="代码",
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("province", "省级"),
                            ("city", "市级"),
                            ("district", "区县级"),
                            ("zone", "功能区"),
                        ],
                        default="district",
                        max_length=20,
                        verbose_name="层级",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="tasks_app.government",
                        verbose_name="上级政府",
                    ),
                ),
            ],
            options={
                "verbose_name": "政府",
                "verbose_name_plural": "政府",
                "ordering": ["name"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("level__in", ["province", "city", "district", "zone"])),
                        name="government_level_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("parent", models.F("id")), _negated=True),
                        name="government_not_own_parent",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True),
                        name="government_name_not_blank",
                    ),
                ],
            },
        ),
        migrations.AddField("department", "government", government_fk("departments", null=True)),
        migrations.AddField("user", "government", government_fk("users", null=True)),
        migrations.RemoveConstraint("plan", "plan_unique_year_title"),
        migrations.RenameField("plan", "government", "government_label"),
        migrations.AddField("plan", "government", government_fk("plans", null=True)),
        migrations.AddField(
            "task",
            "government",
            models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tasks",
                to="tasks_app.government",
                verbose_name="政府",
            ),
        ),
    ]
