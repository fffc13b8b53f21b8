"""Reminders: the ladder, decisions, digests, deliveries, in-app notifications, webhooks.

Schema first, then two data steps with real names: the default ladder of the issue, and the
beat entry that runs the short reminder sweep every minute (the database holds the schedule).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CHANNELS = [("email", "邮件"), ("in_app", "站内通知"), ("webhook", "部门群机器人")]
LEVELS = [("remind", "提醒"), ("chase", "催办"), ("escalate", "督办")]
STATUSES = [("pending", "待发送"), ("sending", "发送中"), ("sent", "已发送"), ("failed", "发送失败")]
REPEATS = [("once", "一次"), ("daily", "每个工作日"), ("weekly", "每5个工作日")]

SWEEP_TASK = "tasks_app.reminders_sweep"

# The default ladder: (name, level, offset, repeat, audience, channels).
DEFAULT_LADDER = [
    ("到期前3个工作日提醒联络员", "remind", -3, "once", {"to_contact"}, {"by_email", "by_in_app"}),
    ("到期当日提醒联络员和部门负责人", "remind", 0, "once", {"to_contact", "to_head"},
     {"by_email", "by_in_app", "by_webhook"}),
    ("逾期每个工作日催办部门负责人", "chase", 1, "daily", {"to_head"},
     {"by_email", "by_in_app", "by_webhook"}),
    ("逾期3个工作日督办责任领导和督查室", "escalate", 3, "once", {"to_leader", "to_office"},
     {"by_email", "by_in_app"}),
    ("此后每周督办", "escalate", 8, "weekly", {"to_leader", "to_office"},
     {"by_email", "by_in_app"}),
]
AUDIENCES = ("to_contact", "to_head", "to_leader", "to_office")
CHANNEL_FLAGS = ("by_email", "by_in_app", "by_webhook")


def create_default_ladder(apps, schema_editor):
    ReminderStep = apps.get_model("tasks_app", "ReminderStep")
    if ReminderStep.objects.filter(plan__isnull=True).exists():
        return
    for name, level, offset, repeat, audience, channels in DEFAULT_LADDER:
        ReminderStep.objects.create(
            name=name, level=level, offset=offset, repeat=repeat,
            **{flag: flag in audience for flag in AUDIENCES},
            **{flag: flag in channels for flag in CHANNEL_FLAGS},
        )


def remove_default_ladder(apps, schema_editor):
    apps.get_model("tasks_app", "ReminderStep").objects.filter(plan__isnull=True).delete()


def create_reminder_sweep_beat(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="提醒扫描(每分钟)",
        defaults={"task": SWEEP_TASK, "interval": every_minute, "expire_seconds": 55},
    )


def remove_reminder_sweep_beat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=SWEEP_TASK).delete()


def fk(to, related_name, on_delete=django.db.models.deletion.CASCADE, null=False, **kwargs):
    return models.ForeignKey(
        to, on_delete=on_delete, related_name=related_name, null=null, blank=null, **kwargs
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0007_audit_ledger"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="department",
            name="contact_person",
            field=models.ForeignKey(
                blank=True, help_text="接收报送提醒的部门联络员", null=True,
                on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                to=settings.AUTH_USER_MODEL, verbose_name="联络员",
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="report_day",
            field=models.PositiveSmallIntegerField(
                default=5, help_text="每月几日前报送上一报送期的进展(1-28)", verbose_name="每月报送日"
            ),
        ),
        migrations.AddConstraint(
            model_name="plan",
            constraint=models.CheckConstraint(
                condition=models.Q(("report_day__gte", 1), ("report_day__lte", 28)),
                name="plan_report_day_1_28",
            ),
        ),
        migrations.CreateModel(
            name="ReminderStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("plan", fk("tasks_app.plan", "reminder_steps", null=True, verbose_name="计划",
                            help_text="留空为默认阶梯,适用于未单独设置的计划")),
                ("name", models.CharField(max_length=50, verbose_name="名称")),
                ("level", models.CharField(choices=LEVELS, default="remind", max_length=10, verbose_name="级别")),
                ("offset", models.SmallIntegerField(help_text="负数为到期前,0为到期当日,正数为逾期后", verbose_name="相对到期日(工作日)")),
                ("repeat", models.CharField(choices=REPEATS, default="once", max_length=10, verbose_name="重复")),
                ("to_contact", models.BooleanField(default=False, verbose_name="部门联络员")),
                ("to_head", models.BooleanField(default=False, verbose_name="部门负责人")),
                ("to_leader", models.BooleanField(default=False, verbose_name="责任领导")),
                ("to_office", models.BooleanField(default=False, verbose_name="督查室")),
                ("by_email", models.BooleanField(default=True, verbose_name="邮件")),
                ("by_in_app", models.BooleanField(default=True, verbose_name="站内通知")),
                ("by_webhook", models.BooleanField(default=False, verbose_name="部门群机器人")),
                ("is_active", models.BooleanField(default=True, verbose_name="启用")),
            ],
            options={
                "verbose_name": "提醒阶梯", "verbose_name_plural": "提醒阶梯",
                "ordering": ["plan", "offset", "id"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("level__in", ["remind", "chase", "escalate"])), name="reminderstep_level_valid"),
                    models.CheckConstraint(condition=models.Q(("repeat__in", ["once", "daily", "weekly"])), name="reminderstep_repeat_valid"),
                    models.CheckConstraint(condition=models.Q(("offset__gte", -30), ("offset__lte", 60)), name="reminderstep_offset_sane"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Reminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("task", fk("tasks_app.task", "reminders")),
                ("step", fk("tasks_app.reminderstep", "reminders")),
                ("item", models.CharField(max_length=40, verbose_name="事项")),
                ("due_date", models.DateField(verbose_name="到期日")),
                ("remind_on", models.DateField(verbose_name="提醒日")),
                ("level", models.CharField(choices=LEVELS, max_length=10, verbose_name="级别")),
                ("assembled_at", models.DateTimeField(blank=True, null=True, verbose_name="编入摘要时间")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="创建时间")),
            ],
            options={
                "verbose_name": "提醒", "verbose_name_plural": "提醒",
                "ordering": ["-remind_on", "task"],
                "constraints": [
                    models.UniqueConstraint(fields=("task", "step", "item", "remind_on"), name="reminder_once_per_day"),
                    models.CheckConstraint(condition=models.Q(("level__in", ["remind", "chase", "escalate"])), name="reminder_level_valid"),
                ],
                "indexes": [
                    models.Index(condition=models.Q(("assembled_at__isnull", True)), fields=["remind_on"], name="reminder_unassembled_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Digest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recipient", fk(settings.AUTH_USER_MODEL, "digests", null=True)),
                ("department", fk("tasks_app.department", "digests", null=True)),
                ("channel", models.CharField(choices=CHANNELS, max_length=10, verbose_name="渠道")),
                ("day", models.DateField(verbose_name="日期")),
                ("sealed_at", models.DateTimeField(blank=True, null=True, verbose_name="封存时间")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="创建时间")),
            ],
            options={
                "verbose_name": "提醒摘要", "verbose_name_plural": "提醒摘要",
                "ordering": ["-day", "id"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("recipient__isnull", False)), fields=("recipient", "channel", "day"), name="digest_one_per_user_channel_day"),
                    models.UniqueConstraint(condition=models.Q(("department__isnull", False)), fields=("department", "channel", "day"), name="digest_one_per_department_channel_day"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("recipient__isnull", False), ("department__isnull", True)),
                            models.Q(("recipient__isnull", True), ("department__isnull", False), ("channel", "webhook")),
                            _connector="OR",
                        ),
                        name="digest_user_or_department_webhook",
                    ),
                    models.CheckConstraint(condition=models.Q(("channel__in", ["email", "in_app", "webhook"])), name="digest_channel_valid"),
                ],
            },
        ),
        migrations.CreateModel(
            name="DigestItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", fk("tasks_app.digest", "items")),
                ("reminder", fk("tasks_app.reminder", "digest_items")),
                ("recipient_key", models.CharField(max_length=20)),
                ("channel", models.CharField(choices=CHANNELS, max_length=10)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("reminder", "recipient_key", "channel"), name="digestitem_once"),
                ],
            },
        ),
        migrations.CreateModel(
            name="DepartmentWebhook",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("department", fk("tasks_app.department", "webhooks", verbose_name="部门")),
                ("kind", models.CharField(choices=[("wecom", "企业微信群机器人"), ("dingtalk", "钉钉群机器人")], max_length=10, verbose_name="类型")),
                ("url", models.URLField(max_length=500, verbose_name="Webhook 地址")),
                ("secret", models.CharField(blank=True, help_text="钉钉“加签”安全设置的 SEC 密钥", max_length=200, verbose_name="加签密钥")),
                ("is_active", models.BooleanField(default=True, verbose_name="启用")),
            ],
            options={
                "verbose_name": "部门群机器人", "verbose_name_plural": "部门群机器人",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("kind__in", ["wecom", "dingtalk"])), name="webhook_kind_valid"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recipient", fk(settings.AUTH_USER_MODEL, "notifications")),
                ("kind", models.CharField(max_length=20, verbose_name="类型")),
                ("title", models.CharField(max_length=200, verbose_name="标题")),
                ("body", models.TextField(max_length=20000, verbose_name="内容")),
                ("task", fk("tasks_app.task", "notifications", null=True)),
                ("digest", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="notification", to="tasks_app.digest")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="时间")),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="已读时间")),
            ],
            options={
                "verbose_name": "站内通知", "verbose_name_plural": "站内通知",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(condition=models.Q(("read_at__isnull", True)), fields=["recipient"], name="notification_unread_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ManualChase",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chased_by", fk(settings.AUTH_USER_MODEL, "+", on_delete=django.db.models.deletion.PROTECT, verbose_name="催办人")),
                ("task", fk("tasks_app.task", "chases", null=True)),
                ("department", fk("tasks_app.department", "chases")),
                ("note", models.TextField(max_length=1000, verbose_name="催办说明")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="催办时间")),
            ],
            options={
                "verbose_name": "人工催办", "verbose_name_plural": "人工催办",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["department", "created_at"], name="chase_recent_idx")],
            },
        ),
        migrations.CreateModel(
            name="Delivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=80, unique=True)),
                ("channel", models.CharField(choices=CHANNELS, max_length=10, verbose_name="渠道")),
                ("status", models.CharField(choices=STATUSES, default="pending", max_length=10, verbose_name="状态")),
                ("digest", fk("tasks_app.digest", "deliveries", null=True)),
                ("recipient", fk(settings.AUTH_USER_MODEL, "deliveries", null=True)),
                ("webhook", fk("tasks_app.departmentwebhook", "deliveries", null=True)),
                ("task", fk("tasks_app.task", "deliveries", null=True)),
                ("subject", models.CharField(blank=True, max_length=200, verbose_name="标题")),
                ("body", models.TextField(blank=True, verbose_name="内容")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数")),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="下次尝试")),
                ("claimed_until", models.DateTimeField(blank=True, null=True, verbose_name="租约到期")),
                ("claim_token", models.CharField(blank=True, max_length=32)),
                ("enqueued_at", models.DateTimeField(blank=True, null=True, verbose_name="入队时间")),
                ("provider_id", models.CharField(blank=True, max_length=200, verbose_name="平台消息编号")),
                ("error", models.TextField(blank=True, verbose_name="错误")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="发送时间")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="创建时间")),
            ],
            options={
                "verbose_name": "发送", "verbose_name_plural": "发送",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("status__in", ["pending", "sending", "sent", "failed"])), name="delivery_status_valid"),
                    models.CheckConstraint(condition=models.Q(("channel__in", ["email", "in_app", "webhook"])), name="delivery_channel_valid"),
                    models.CheckConstraint(condition=models.Q(models.Q(("channel", "webhook"), _negated=True), ("webhook__isnull", False), _connector="OR"), name="delivery_webhook_has_hook"),
                    models.CheckConstraint(condition=models.Q(("channel", "webhook"), ("recipient__isnull", False), _connector="OR"), name="delivery_user_channel_has_recipient"),
                ],
                "indexes": [
                    models.Index(condition=models.Q(("status__in", ["pending", "sending"])), fields=["next_attempt_at"], name="delivery_due_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="DeliveryAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("delivery", fk("tasks_app.delivery", "attempt_log")),
                ("number", models.PositiveSmallIntegerField(verbose_name="第几次")),
                ("channel", models.CharField(choices=CHANNELS, max_length=10, verbose_name="渠道")),
                ("started_at", models.DateTimeField(verbose_name="开始时间")),
                ("finished_at", models.DateTimeField(verbose_name="结束时间")),
                ("ok", models.BooleanField(verbose_name="成功")),
                ("provider_id", models.CharField(blank=True, max_length=200, verbose_name="平台消息编号")),
                ("error", models.TextField(blank=True, verbose_name="错误")),
            ],
            options={
                "verbose_name": "发送记录", "verbose_name_plural": "发送记录",
                "ordering": ["delivery", "number"],
                "constraints": [
                    models.UniqueConstraint(fields=("delivery", "number"), name="deliveryattempt_unique"),
                ],
            },
        ),
        migrations.RunPython(create_default_ladder, remove_default_ladder),
        migrations.RunPython(create_reminder_sweep_beat, remove_reminder_sweep_beat),
    ]
