"""The nouns of 督查督办: who is responsible for which piece of the work report, and how it goes.

Invariants live here as database constraints, so that no code path (admin, shell, bulk update)
can store a progress of 150 or a deadline before the start.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
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


class User(AbstractUser):
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


class PlanKind(models.TextChoices):
    WORK_REPORT = "work_report", _("政府工作报告")
    LIVELIHOOD = "livelihood", _("民生实事")
    OTHER = "other", _("其他清单")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Plan(models.Model):
    Kind = PlanKind

    Status = PlanStatus

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    government = models.CharField(_("政府"), max_length=100, blank=True)
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
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("计划")
        verbose_name_plural = _("计划")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["year", "title"], name="plan_unique_year_title"),
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

    @property
    def numeral(self) -> str:
        return chinese_numeral(self.number)

    def __str__(self):
        return f"({self.numeral}){self.title}"


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


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", _("每周")
    BIWEEKLY = "biweekly", _("每半月")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")


class Task(models.Model):
    Kind = TaskKind

    ReportFrequency = ReportFrequency

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
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
            models.Index(fields=["lead_department", "status"], name="task_lead_status_idx"),
            models.Index(fields=["plan", "light"], name="task_plan_light_idx"),
            models.Index(fields=["deadline"], name="task_deadline_idx"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


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
        return f"{self.name} {self.get_comparator_display()} {self.target_value.normalize():f}{self.unit}"


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


class ReviewState(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("已通过")
    RETURNED = "returned", _("已退回")


class StatusUpdate(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    period = models.DateField(_("报送期"), help_text=_("报送周期的第一天"))
    status = models.CharField(_("状态"), max_length=20, choices=TaskStatus.choices)
    progress = models.PositiveSmallIntegerField(_("进度(%)"))
    narrative = models.TextField(_("进展情况"), max_length=5000)
    author = models.ForeignKey(
        User, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="status_updates"
    )
    review_state = models.CharField(
        _("审核状态"), max_length=20, choices=ReviewState.choices, default=ReviewState.SUBMITTED
    )
    revision = models.PositiveSmallIntegerField(_("报送次数"), default=1)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("最近报送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        ordering = ["task", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["task", "period"], name="statusupdate_one_per_period"),
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="statusupdate_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="statusupdate_progress_0_100",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values),
                name="statusupdate_review_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["submitted_at"],
                name="statusupdate_review_queue_idx",
                condition=Q(review_state="submitted"),
            ),
            # The reminder sweep's reports awaiting review or resubmission, every minute.
            models.Index(
                fields=["task"],
                name="statusupdate_waiting_idx",
                condition=Q(review_state__in=["returned", "submitted"]),
            ),
        ]

    def __str__(self):
        return f"{self.task.code} {self.period:%Y-%m}"


class IndicatorValue(models.Model):
    """An indicator's actual value as reported in one status update."""

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    value = models.DecimalField(_("实际值"), max_digits=18, decimal_places=4)

    class Meta:
        verbose_name = _("指标实际值")
        verbose_name_plural = _("指标实际值")
        constraints = [
            models.UniqueConstraint(fields=["update", "indicator"], name="indicatorvalue_unique"),
        ]

    def __str__(self):
        return f"{self.indicator_id}: {self.value}"


class AuditEvent(models.Model):
    """One event of the ledger, as it happened: appended by tasks_app.ledger, never edited.

    Hash-chained: ``hash`` is SHA-256 over the canonical serialization of the event's fields
    (see ledger.HASHED_FIELDS) including ``prev_hash``, the hash of the event at ``seq - 1``.
    On PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (migration 0007).
    """

    seq = models.BigIntegerField(_("序号"), unique=True)
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
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="auditevent_seq_positive"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


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


class Review(models.Model):
    """The supervision office's decision on one submission of a status update."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("通过")
        RETURNED = "returned", _("退回")

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="reviews")
    revision = models.PositiveSmallIntegerField(_("审核的报送次数"))
    decision = models.CharField(_("审核结果"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("理由"), max_length=1000, blank=True)
    reviewer = models.ForeignKey(
        User, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("审核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审核")
        verbose_name_plural = _("审核")
        ordering = ["update", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["update", "revision"], name="review_once_per_revision"),
            models.CheckConstraint(
                condition=Q(decision__in=["accepted", "returned"]), name="review_decision_valid"
            ),
            models.CheckConstraint(
                condition=~Q(decision="returned") | ~Q(reason=""), name="review_return_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} #{self.update_id}.{self.revision}"


class Evidence(models.Model):
    """A file attached to a status update, stored under a generated name."""

    update = models.ForeignKey(StatusUpdate, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["update", "created_at"]

    def __str__(self):
        return self.original_name


class Contribution(models.Model):
    """A co-department's part for one period, seen by the lead department when it reports."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="contributions")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("报送期"))
    narrative = models.TextField(_("配合情况"), max_length=5000)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("配合单位报送")
        verbose_name_plural = _("配合单位报送")
        ordering = ["task", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "department", "period"], name="contribution_one_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.department} {self.period:%Y-%m}"


class Instruction(models.Model):
    """A leader's instruction (批示) on a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="instructions")
    leader = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("批示内容"), max_length=2000)
    created_at = models.DateTimeField(_("批示时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("部门阅知时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        ordering = ["task", "-created_at"]

    def __str__(self):
        return self.text[:40]


class ChangeRequest(models.Model):
    """After publication a deadline or a target changes only through an approved request."""

    class Field(models.TextChoices):
        DEADLINE = "deadline", _("完成时限")
        TARGET_VALUE = "target_value", _("目标值")

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="change_requests")
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="change_requests"
    )
    field = models.CharField(_("变更项"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("原值"), max_length=40)
    new_value = models.CharField(_("新值"), max_length=40)
    reason = models.TextField(_("理由"), max_length=1000)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(field="target_value") & Q(indicator__isnull=False))
                | (Q(field="deadline") & Q(indicator__isnull=True)),
                name="changerequest_indicator_iff_target",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "approved", "rejected"]),
                name="changerequest_state_valid",
            ),
            models.UniqueConstraint(
                fields=["task", "field", "indicator"],
                condition=Q(state="pending"),
                name="changerequest_one_pending",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return f"{self.get_field_display()} {self.old_value} → {self.new_value}"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key"),
        ]

    # --- Audit ledger ---

    def __str__(self):
        return self.key


class AuditChainHead(models.Model):
    """The single row (id 1) naming the ledger's last event; appends lock it to serialise."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="auditchainhead_single_row")]

    def __str__(self):
        return f"{self.seq} {self.hash}"


class AuditCheckpoint(models.Model):
    """The chain head as it was at a moment, kept (and exported) to detect a rewritten chain."""

    seq = models.BigIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.CharField(_("记录人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        ordering = ["-seq", "-id"]

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


class ExportJob(models.Model):
    """One export of the ledger or of progress logs, with its manifest once written."""

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


# --- Reminders ---


class ReminderLevel(models.TextChoices):
    REMIND = "remind", _("提醒")
    CHASE = "chase", _("催办")
    ESCALATE = "escalate", _("督办")


class ReminderRepeat(models.TextChoices):
    ONCE = "once", _("一次")
    DAILY = "daily", _("每个工作日")
    WEEKLY = "weekly", _("每5个工作日")


class Channel(models.TextChoices):
    EMAIL = "email", _("邮件")
    IN_APP = "in_app", _("站内通知")
    WEBHOOK = "webhook", _("部门群机器人")


class ReminderStep(models.Model):
    """One rung of the reminder ladder: when (working days from the due day), whom, how.

    Steps with no plan are the default ladder; a plan with steps of its own uses only those.
    """

    plan = models.ForeignKey(
        Plan,
        verbose_name=_("计划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminder_steps",
        help_text=_("留空为默认阶梯,适用于未单独设置的计划"),
    )
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(
        _("级别"), max_length=10, choices=ReminderLevel.choices, default=ReminderLevel.REMIND
    )
    offset = models.SmallIntegerField(
        _("相对到期日(工作日)"), help_text=_("负数为到期前,0为到期当日,正数为逾期后")
    )
    repeat = models.CharField(
        _("重复"), max_length=10, choices=ReminderRepeat.choices, default=ReminderRepeat.ONCE
    )
    to_contact = models.BooleanField(_("部门联络员"), default=False)
    to_head = models.BooleanField(_("部门负责人"), default=False)
    to_leader = models.BooleanField(_("责任领导"), default=False)
    to_office = models.BooleanField(_("督查室"), default=False)
    by_email = models.BooleanField(_("邮件"), default=True)
    by_in_app = models.BooleanField(_("站内通知"), default=True)
    by_webhook = models.BooleanField(_("部门群机器人"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("提醒阶梯")
        verbose_name_plural = _("提醒阶梯")
        ordering = ["plan", "offset", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=ReminderLevel.values), name="reminderstep_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(repeat__in=ReminderRepeat.values), name="reminderstep_repeat_valid"
            ),
            models.CheckConstraint(
                condition=Q(offset__gte=-30) & Q(offset__lte=60), name="reminderstep_offset_sane"
            ),
        ]

    def __str__(self):
        return self.name


class Reminder(models.Model):
    """The decision to remind about one item on one day: at most one per (task, step, item, day).

    `item` names what falls due ("deadline", "report:2020-01-01", "milestone:7", ...); `remind_on`
    is the working day this rung of the ladder fires for it. Created insert-or-ignore by the sweep.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    step = models.ForeignKey(ReminderStep, on_delete=models.CASCADE, related_name="reminders")
    item = models.CharField(_("事项"), max_length=40)
    due_date = models.DateField(_("到期日"))
    remind_on = models.DateField(_("提醒日"))
    level = models.CharField(_("级别"), max_length=10, choices=ReminderLevel.choices)
    assembled_at = models.DateTimeField(_("编入摘要时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-remind_on", "task"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "step", "item", "remind_on"], name="reminder_once_per_day"
            ),
            models.CheckConstraint(
                condition=Q(level__in=ReminderLevel.values), name="reminder_level_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["remind_on"],
                name="reminder_unassembled_idx",
                condition=Q(assembled_at__isnull=True),
            ),
            # The sweep looks up which of today's candidates an earlier sweep already decided
            # (covering on PostgreSQL: the lookup reads the index only).
            models.Index(
                fields=["remind_on", "step"],
                include=["task", "item"],
                name="reminder_day_step_idx",
            ),
        ]

    def __str__(self):
        return f"{self.task.code} {self.item} {self.remind_on}"


class Digest(models.Model):
    """Everything one recipient hears about on one day through one channel, as one message.

    The recipient is a user (email, in-app) or a department (its group-robot webhooks).
    Items join a digest only while it is open; the first delivery claim seals it.
    """

    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="digests"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="digests"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    day = models.DateField(_("日期"))
    sealed_at = models.DateTimeField(_("封存时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提醒摘要")
        verbose_name_plural = _("提醒摘要")
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "day"],
                condition=Q(recipient__isnull=False),
                name="digest_one_per_user_channel_day",
            ),
            models.UniqueConstraint(
                fields=["department", "channel", "day"],
                condition=Q(department__isnull=False),
                name="digest_one_per_department_channel_day",
            ),
            models.CheckConstraint(
                condition=(Q(recipient__isnull=False) & Q(department__isnull=True))
                | (Q(recipient__isnull=True) & Q(department__isnull=False) & Q(channel="webhook")),
                name="digest_user_or_department_webhook",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="digest_channel_valid"
            ),
        ]

    def __str__(self):
        return f"{self.recipient or self.department} {self.channel} {self.day}"


class DigestItem(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="digest_items")
    # Who and how, copied from the digest: a reminder reaches each recipient once per channel,
    # even when two sweeps put it towards different days' digests.
    recipient_key = models.CharField(max_length=20)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "recipient_key", "channel"], name="digestitem_once"
            ),
        ]

    def __str__(self):
        return f"digest {self.digest_id} item {self.pk}"


class DepartmentWebhook(models.Model):
    class Kind(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="webhooks"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True, help_text=_("钉钉“加签”安全设置的 SEC 密钥")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门群机器人")
        verbose_name_plural = _("部门群机器人")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["wecom", "dingtalk"]), name="webhook_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.department} {self.get_kind_display()}"


class Notification(models.Model):
    """An in-app message (the bell): a day's digest, a chase, a report awaiting review."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=20)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), max_length=20000)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    digest = models.OneToOneField(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.title


class ManualChase(models.Model):
    """催办 by the supervision office: one task, or every open task of a department."""

    chased_by = models.ForeignKey(
        User, verbose_name=_("催办人"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="chases"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="chases")
    note = models.TextField(_("催办说明"), max_length=1000)
    created_at = models.DateTimeField(_("催办时间"), default=timezone.now)

    class Meta:
        verbose_name = _("人工催办")
        verbose_name_plural = _("人工催办")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["department", "created_at"], name="chase_recent_idx")]

    def __str__(self):
        return f"chase {self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    """One message on one channel, claimed with a lease and retried with backoff.

    A digest's message is rendered from its items when sent; an event's (chase, review) is
    stored in subject/body when it is created. `key` makes creation insert-or-ignore.
    """

    Status = DeliveryStatus

    key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    digest = models.ForeignKey(
        Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook = models.ForeignKey(
        DepartmentWebhook,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    claimed_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    provider_id = models.CharField(_("平台消息编号"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("发送")
        verbose_name_plural = _("发送")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(channel="webhook") | Q(webhook__isnull=False),
                name="delivery_webhook_has_hook",
            ),
            models.CheckConstraint(
                condition=Q(channel="webhook") | Q(recipient__isnull=False),
                name="delivery_user_channel_has_recipient",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self):
        return self.key


class DeliveryAttempt(models.Model):
    """Each try of a delivery: when, the result, the provider's message id or the error."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("第几次"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"))
    ok = models.BooleanField(_("成功"))
    provider_id = models.CharField(_("平台消息编号"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="deliveryattempt_unique"),
        ]

    def __str__(self):
        return f"attempt {self.pk}"


# --- report import ---


class ImportDraftStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class ImportDraft(models.Model):
    """A plan drafted from a work report's text, reviewed and published by the supervision office.

    `data` holds the draft in the format of tasks_app/data/plan_2020.json, plus each item's
    department suggestions; publishing passes it to services.plan_load.
    """

    Status = ImportDraftStatus

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    government = models.CharField(_("政府"), max_length=100, blank=True)
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
    """Another name a spreadsheet uses for a department (经发局 for 经济发展局)."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="aliases"
    )
    alias = models.CharField(_("别名"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("部门别名")
        verbose_name_plural = _("部门别名")
        ordering = ["alias"]

    def __str__(self):
        return f"{self.alias} → {self.department}"
