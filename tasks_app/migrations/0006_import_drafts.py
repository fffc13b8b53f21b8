# Report import: drafts from work-report text, department aliases for breakdown spreadsheets,
# and the kind of an indicator (growth, level, floor, ...).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0005_schedule_refresh_beat")]

    operations = [
        migrations.CreateModel(
            name="DepartmentAlias",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("alias", models.CharField(max_length=100, unique=True, verbose_name="别名")),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="aliases",
                        to="tasks_app.department",
                        verbose_name="部门",
                    ),
                ),
            ],
            options={
                "verbose_name": "部门别名",
                "verbose_name_plural": "部门别名",
                "ordering": ["alias"],
            },
        ),
        migrations.CreateModel(
            name="ImportDraft",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                ("title", models.CharField(max_length=200, verbose_name="名称")),
                ("government", models.CharField(blank=True, max_length=100, verbose_name="政府")),
                ("source_name", models.CharField(max_length=200, verbose_name="源文件")),
                ("encoding", models.CharField(max_length=20, verbose_name="文件编码")),
                ("data", models.JSONField(verbose_name="草稿内容")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "草稿"), ("published", "已发布")],
                        default="draft",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="导入时间")),
                (
                    "published_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="发布时间"),
                ),
                ("changes", models.JSONField(blank=True, null=True, verbose_name="发布时的变更")),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="导入人",
                    ),
                ),
                (
                    "plan",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="import_drafts",
                        to="tasks_app.plan",
                        verbose_name="计划",
                    ),
                ),
            ],
            options={
                "verbose_name": "导入草稿",
                "verbose_name_plural": "导入草稿",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddConstraint(
            model_name="importdraft",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "published"])),
                name="importdraft_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="importdraft",
            constraint=models.CheckConstraint(
                condition=models.Q(("year__gte", 2000), ("year__lte", 2100)),
                name="importdraft_year_sane",
            ),
        ),
        migrations.AddConstraint(
            model_name="importdraft",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "published"), _negated=True),
                    ("published_at__isnull", False),
                    _connector="OR",
                ),
                name="importdraft_published_has_time",
            ),
        ),
        migrations.AddField(
            model_name="indicator",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("growth", "增速"),
                    ("level", "水平值"),
                    ("floor", "下限"),
                    ("ceiling", "上限"),
                    ("approx", "约数"),
                    ("count", "新增数量"),
                    ("range", "区间"),
                ],
                default="",
                max_length=10,
                verbose_name="指标类型",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicator",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        ["", "growth", "level", "floor", "ceiling", "approx", "count", "range"],
                    )
                ),
                name="indicator_kind_valid",
            ),
        ),
    ]
