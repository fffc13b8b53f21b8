"""The nouns of 督查督办: who is responsible for which piece of the work report, and how it goes.

Invariants live here as database constraints, so that no code path (admin, shell, bulk update)
can store a progress of 150 or a deadline before the start.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks_app.plans.tenants import (
    Government,
    GovernmentLevel,
    GovernmentOwned,
    UserManager,
    government_field,
)

__all__ = ["Government", "GovernmentLevel"]


class Department(GovernmentOwned):
    government = government_field("departments")
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_sample = models.BooleanField(_("示例"), default=False)
    contact_person = models.ForeignKey(
        "User",
        verbose_name=_("联络员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("接收报送提醒的部门联络员"),
    )

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["government", "name"], name="department_unique_name_per_government"
            ),
            models.UniqueConstraint(fields=["id", "government"], name="department_id_government"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="department_not_own_parent"
            ),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    STAFF = "staff", _("承办人")
    HEAD = "head", _("部门负责人")
    SUPERVISOR = "supervisor", _("督查室")
    LEADER = "leader", _("区领导")
    AUDITOR = "auditor", _("审计人员")
    ADMIN = "admin", _("系统管理员")


DEPARTMENT_ROLES = (Role.STAFF, Role.HEAD)


class User(GovernmentOwned, AbstractUser):
    government = government_field("users")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.STAFF)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    is_sample = models.BooleanField(_("示例"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            # Department staff and heads always belong to a department: their scope is it.
            models.CheckConstraint(
                condition=~Q(role__in=DEPARTMENT_ROLES) | Q(department__isnull=False),
                name="user_department_role_has_department",
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    def save(self, *args, **kwargs):
        # `createsuperuser` knows nothing of roles: a superuser outside any department is the
        # system administrator (the default role, staff, needs a department).
        if self.is_superuser and self.role == Role.STAFF and self.department_id is None:
            self.role = Role.ADMIN
        super().save(*args, **kwargs)


class PlanKind(models.TextChoices):
    WORK_REPORT = "work_report", _("政府工作报告")
    LIVELIHOOD = "livelihood", _("民生实事")
    OTHER = "other", _("其他清单")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Plan(GovernmentOwned):
    Kind = PlanKind

    Status = PlanStatus

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    government = government_field("plans")
    kind = models.CharField(
        _("类型"), max_length=20, choices=PlanKind.choices, default=PlanKind.WORK_REPORT
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    report_date = models.DateField(_("报告日期"), null=True, blank=True)
    report_day = models.PositiveSmallIntegerField(
        _("每月报送日"), default=5, help_text=_("每月几日前报送上一报送期的进展(1-28)")
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    department_signoff = models.BooleanField(
        _("部门负责人审核"),
        default=False,
        db_default=False,
        help_text=_("开启后,承办人的报送须经本部门负责人同意,再送督查室审核"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # 减负 rules as data: off unless the office turns them on and says why (shown to departments).
    # db_default too: rows written by COPY or raw SQL (bench) get the rules off, like new plans.
    ranking_enabled = models.BooleanField(_("启用红黑榜"), default=False, db_default=False)
    ranking_reason = models.TextField(_("启用红黑榜的理由"), blank=True, default="", db_default="")
    evidence_required = models.BooleanField(
        _("已完成须附佐证材料"), default=False, db_default=False
    )
    evidence_reason = models.TextField(
        _("要求佐证材料的理由"), blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("计划")
        verbose_name_plural = _("计划")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["government", "year", "title"], name="plan_unique_year_title"
            ),
            models.UniqueConstraint(fields=["id", "government"], name="plan_id_government"),
            models.CheckConstraint(condition=Q(kind__in=PlanKind.values), name="plan_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="plan_year_sane"
            ),
            models.CheckConstraint(
                condition=Q(report_day__gte=1) & Q(report_day__lte=28), name="plan_report_day_1_28"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="plan_published_has_time",
            ),
            models.CheckConstraint(
                condition=Q(ranking_enabled=False) | ~Q(ranking_reason=""),
                name="plan_ranking_on_has_reason",
                violation_error_message=_("启用红黑榜须说明理由。"),
            ),
            models.CheckConstraint(
                condition=Q(evidence_required=False) | ~Q(evidence_reason=""),
                name="plan_evidence_on_has_reason",
                violation_error_message=_("要求佐证材料须说明理由。"),
            ),
        ]

    def __str__(self):
        return self.title


class Section(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="sections")
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("标题"), max_length=200)

    class Meta:
        verbose_name = _("方面")
        verbose_name_plural = _("方面")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="section_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="section_number_positive"),
        ]

    def __str__(self):
        return f"({self.numeral}){self.title}"

    @property
    def numeral(self) -> str:
        return chinese_numeral(self.number)


class KeyArea(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="key_areas")
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("标题"), max_length=200)

    class Meta:
        verbose_name = _("重点领域")
        verbose_name_plural = _("重点领域")
        ordering = ["section", "number"]
        constraints = [
            models.UniqueConstraint(fields=["section", "number"], name="keyarea_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="keyarea_number_positive"),
        ]

    def __str__(self):
        return self.title


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未启动")
    ON_SCHEDULE = "on_schedule", _("序时推进")
    BEHIND = "behind", _("滞后")
    DONE = "done", _("已完成")
    ONGOING = "ongoing", _("持续推进")


class Light(models.TextChoices):
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


class TaskKind(models.TextChoices):
    WORK_ITEM = "work_item", _("具体工作")
    HEADLINE_TARGET = "headline_target", _("主要目标")
    LIVELIHOOD = "livelihood", _("民生实事")
    DECISION = "decision", _("议定事项")  # decided at a 调度会 (tasks_app.stocktakes)


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", _("每周")
    BIWEEKLY = "biweekly", _("每半月")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")


class TaskQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Tasks made without a government get their plan's, as save() gives them."""
        objs = list(objs)
        plan_ids = {task.plan_id for task in objs if task.government_id is None}
        if plan_ids:
            governments = dict(
                Plan.objects.filter(pk__in=plan_ids).values_list("pk", "government_id")
            )
            for task in objs:
                if task.government_id is None:
                    task.government_id = governments.get(task.plan_id)
        return super().bulk_create(objs, *args, **kwargs)


class Task(models.Model):
    Kind = TaskKind

    ReportFrequency = ReportFrequency

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    # The plan's government, copied (save() and every bulk writer set it; on PostgreSQL a
    # composite foreign key keeps it equal to the plan's): the key of the tenant's rows.
    government = models.ForeignKey(
        Government, verbose_name=_("政府"), on_delete=models.PROTECT, related_name="tasks"
    )
    code = models.CharField(_("编号"), max_length=30)
    title = models.CharField(_("任务"), max_length=200)
    source_text = models.TextField(_("报告原文"))
    kind = models.CharField(
        _("类型"), max_length=20, choices=TaskKind.choices, default=TaskKind.WORK_ITEM
    )
    section = models.ForeignKey(
        Section,
        verbose_name=_("方面"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    key_area = models.ForeignKey(
        KeyArea,
        verbose_name=_("重点领域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    position = models.PositiveIntegerField(_("排序"), default=0)
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_tasks",
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name=_("配合单位"), blank=True, related_name="co_tasks"
    )
    responsible_leader = models.ForeignKey(
        User,
        verbose_name=_("责任领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tasks",
        limit_choices_to={"role": Role.LEADER},
    )
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    deadline = models.DateField(_("完成时限"), null=True, blank=True)
    report_frequency = models.CharField(
        _("报送频次"),
        max_length=20,
        choices=ReportFrequency.choices,
        default=ReportFrequency.MONTHLY,
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    received_by = models.ForeignKey(
        User,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_deadline = models.DateField(
        _("原完成时限"),
        null=True,
        blank=True,
        help_text=_("计划发布后经变更申请调整时限的,保留最初的时限"),
    )
    # Derived: recomputed by services on every write and by the daily schedule refresh.
    expected_progress = models.PositiveSmallIntegerField(_("序时进度(%)"), default=0)
    light = models.CharField(_("亮灯"), max_length=10, choices=Light.choices, default=Light.GREEN)
    schedule_as_of = models.DateField(_("计算日期"), null=True, blank=True)
    assignment_is_sample = models.BooleanField(_("示例分工"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["plan", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="task_unique_code"),
            models.CheckConstraint(condition=Q(kind__in=TaskKind.values), name="task_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(report_frequency__in=ReportFrequency.values),
                name="task_report_frequency_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="task_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(deadline__isnull=True)
                | Q(deadline__gte=models.F("start_date")),
                name="task_deadline_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="work_item") | Q(key_area__isnull=False),
                name="task_work_item_has_key_area",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(progress=100), name="task_done_is_100"
            ),
            models.CheckConstraint(condition=Q(light__in=Light.values), name="task_light_valid"),
            models.CheckConstraint(
                condition=Q(expected_progress__lte=100), name="task_expected_progress_0_100"
            ),
        ]
        indexes = [
            models.Index(fields=["government", "plan"], name="task_government_plan_idx"),
            models.Index(fields=["lead_department", "status"], name="task_lead_status_idx"),
            models.Index(fields=["plan", "light"], name="task_plan_light_idx"),
            models.Index(fields=["deadline"], name="task_deadline_idx"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        if self.government_id is None and self.plan_id is not None:
            self.government_id = self.plan.government_id
        super().save(*args, **kwargs)


# After publication these change only through a change request approved by the office
# (deadline, targets) or a reviewed report (status, progress): never by a direct edit.
CHANGE_CONTROLLED = {
    "task": ("deadline", "original_deadline", "status", "progress"),
    "indicator": ("target_value", "target_value_max", "original_target_value"),
}


def is_published(obj) -> bool:
    """Whether a task or indicator belongs to a published plan."""
    plan = getattr(obj, "plan", None)
    return plan is not None and plan.status == PlanStatus.PUBLISHED


class Comparator(models.TextChoices):
    GTE = "gte", "≥"
    GT = "gt", ">"
    LTE = "lte", "≤"
    LT = "lt", "<"
    EQ = "eq", "="
    APPROX = "approx", _("约")
    GROWTH = "growth", _("增长")
    BETWEEN = "between", _("区间")


class IndicatorKind(models.TextChoices):
    """What a target measures; the comparator says how it is judged."""

    GROWTH = "growth", _("增速")
    LEVEL = "level", _("水平值")
    FLOOR = "floor", _("下限")
    CEILING = "ceiling", _("上限")
    APPROX = "approx", _("约数")
    COUNT = "count", _("新增数量")
    RANGE = "range", _("区间")


class Indicator(models.Model):
    Comparator = Comparator

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="indicators"
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    name = models.CharField(_("指标"), max_length=100)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    comparator = models.CharField(
        _("比较方式"), max_length=10, choices=Comparator.choices, default=Comparator.EQ
    )
    baseline = models.DecimalField(
        _("基数"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    target_value = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4)
    target_value_max = models.DecimalField(
        _("目标上限"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    original_target_value = models.DecimalField(
        _("原目标值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    latest_actual = models.DecimalField(
        _("最新实际值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    source_text = models.CharField(_("原文"), max_length=300)
    kind = models.CharField(
        _("指标类型"), max_length=10, choices=IndicatorKind.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["plan", "task", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(comparator__in=Comparator.values), name="indicator_comparator_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(comparator="between") & Q(target_value_max__gte=models.F("target_value"))
                )
                | (~Q(comparator="between") & Q(target_value_max__isnull=True)),
                name="indicator_range_only_between",
            ),
            models.UniqueConstraint(
                fields=["plan", "task", "position"], name="indicator_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["", *IndicatorKind.values]), name="indicator_kind_valid"
            ),
        ]

    def __str__(self):
        target = f"{self.target_value.normalize():f}{self.unit}"
        return f"{self.name} {self.get_comparator_display()} {target}"


class Milestone(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due_date = models.DateField(_("计划完成日期"))
    done_date = models.DateField(_("实际完成日期"), null=True, blank=True)
    is_sample = models.BooleanField(_("示例"), default=False)

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")
        ordering = ["task", "due_date"]
        constraints = [
            models.UniqueConstraint(fields=["task", "due_date", "title"], name="milestone_unique"),
        ]

    def __str__(self):
        return f"{self.title} ({self.due_date:%Y-%m-%d})"


_NUMERALS = "零一二三四五六七八九十"


def chinese_numeral(number: int) -> str:
    """1..99 as 一 … 九十九, the way reports number their sections."""
    if number <= 10:
        return _NUMERALS[number]
    tens, ones = divmod(number, 10)
    return (_NUMERALS[tens] if tens > 1 else "") + "十" + (_NUMERALS[ones] if ones else "")


class CalendarDay(models.Model):
    """An exception to the Monday-Friday week: a holiday, or an adjusted working weekend day.

    Seeded from the chinese-calendar package for the years it knows; the supervision office adds
    each new year's arrangement when the State Council publishes it (in the autumn).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("休息日")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["holiday", "workday"]), name="calendarday_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"
