from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.plans.models import Department, Plan, User
from tasks_app.plans.tenants import GovernmentOwned, government_field

# --- report import ---


class ImportDraftStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class ImportDraft(GovernmentOwned):
    """A plan drafted from a work report's text, reviewed and published by the supervision office.

    `data` holds the draft in the format of tasks_app/data/plan_2020.json, plus each item's
    department suggestions and the office's assignments; publishing passes it to
    services.plan_load. Every edit bumps `version`: an edit made on an older version is refused,
    so two tabs cannot overwrite each other's work (importer/draft_edits.py).

    A draft belongs to the government of the office that uploaded it (the command line's
    --government NAME, else the default government) and publishes into that government.
    """

    Status = ImportDraftStatus

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    government = government_field("import_drafts")
    source_name = models.CharField(_("源文件"), max_length=200)
    encoding = models.CharField(_("文件编码"), max_length=20)
    data = models.JSONField(_("草稿内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportDraftStatus.choices, default=ImportDraftStatus.DRAFT
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("导入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("计划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_drafts",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    changes = models.JSONField(_("发布时的变更"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("导入草稿")
        verbose_name_plural = _("导入草稿")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportDraftStatus.values), name="importdraft_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="importdraft_year_sane"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="importdraft_published_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display()})"


class DepartmentAlias(models.Model):
    """Another name a spreadsheet uses for a department (经发局 for 经济发展局), unique within
    the department's government (whose government it copies)."""

    government = government_field("department_aliases")
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="aliases"
    )
    alias = models.CharField(_("别名"), max_length=100)

    class Meta:
        verbose_name = _("部门别名")
        verbose_name_plural = _("部门别名")
        ordering = ["alias"]
        constraints = [
            models.UniqueConstraint(
                fields=["government", "alias"], name="departmentalias_unique_per_government"
            ),
        ]

    def __str__(self):
        return f"{self.alias} → {self.department}"

    def save(self, *args, **kwargs):
        if self.government_id is None:
            self.government_id = self.department.government_id
        super().save(*args, **kwargs)
