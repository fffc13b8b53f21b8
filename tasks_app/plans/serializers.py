from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tasks_app.common.serializers import (
    DepartmentRefSerializer,
    IdField,
    UserRefSerializer,
    reject_html,
)
from tasks_app.models import (
    Department,
    Indicator,
    Light,
    Milestone,
    Task,
    TaskStatus,
    User,
)
from tasks_app.reporting.serializers import (
    ChangeRequestSerializer,
    ContributionSerializer,
    InstructionSerializer,
    StatusUpdateSerializer,
)


class TaskListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    light = serializers.ChoiceField(choices=Light.choices)
    lead_department = DepartmentRefSerializer(allow_null=True)
    co_departments = DepartmentRefSerializer(many=True)
    responsible_leader = UserRefSerializer(allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue")

    class Meta:
        model = Task
        fields = [
            "id",
            "code",
            "title",
            "kind",
            "plan",
            "section",
            "key_area",
            "lead_department",
            "co_departments",
            "responsible_leader",
            "start_date",
            "deadline",
            "report_frequency",
            "status",
            "status_label",
            "progress",
            "expected_progress",
            "light",
            "overdue",
            "received_at",
            "version",
        ]


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "id",
            "name",
            "unit",
            "comparator",
            "baseline",
            "target_value",
            "target_value_max",
            "original_target_value",
            "latest_actual",
            "source_text",
        ]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_date", "done_date", "is_sample"]


class ScheduleSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    expected_progress = serializers.IntegerField()
    lag = serializers.IntegerField()
    light = serializers.ChoiceField(choices=Light.choices)
    overdue = serializers.BooleanField()
    days_overdue = serializers.IntegerField()
    due_soon = serializers.BooleanField()
    self_reported_status = serializers.ChoiceField(choices=TaskStatus.choices)
    disagreement = serializers.CharField(allow_null=True)


class TaskDetailSerializer(TaskListSerializer):
    indicators = IndicatorSerializer(many=True)
    milestones = MilestoneSerializer(many=True)
    instructions = InstructionSerializer(many=True)
    updates = StatusUpdateSerializer(many=True)
    contributions = ContributionSerializer(many=True)
    change_requests = ChangeRequestSerializer(many=True)
    schedule = ScheduleSerializer()

    class Meta(TaskListSerializer.Meta):
        fields = TaskListSerializer.Meta.fields + [
            "source_text",
            "original_deadline",
            "received_by",
            "indicators",
            "milestones",
            "instructions",
            "updates",
            "contributions",
            "change_requests",
            "schedule",
        ]


# --- Input ----------------------------------------------------------------------------------


class TaskFilterSerializer(serializers.Serializer):
    plan = IdField(required=False)
    section = IdField(required=False)
    department = IdField(required=False)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    light = serializers.ChoiceField(choices=Light.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    due_before = serializers.DateField(required=False)


class TaskPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, validators=[reject_html])
    lead_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    responsible_leader = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role="leader"), required=False, allow_null=True
    )
    start_date = serializers.DateField(required=False, allow_null=True)
    deadline = serializers.DateField(required=False, allow_null=True)
    report_frequency = serializers.ChoiceField(choices=Task.ReportFrequency.choices, required=False)

    def __init__(self, *args, **kwargs):
        """context government_id: the task's government; another government's department or
        leader is then no such row (400 on the field)."""
        super().__init__(*args, **kwargs)
        government_id = self.context.get("government_id")
        for name in ("lead_department", "responsible_leader"):
            field = self.fields[name]
            field.queryset = field.queryset.filter(government_id=government_id)

    def validate(self, attrs):
        start, deadline = attrs.get("start_date"), attrs.get("deadline")
        if start and deadline and deadline < start:
            raise serializers.ValidationError(
                {
                    "deadline": [
                        serializers.ErrorDetail(
                            _("完成时限不能早于开始日期。"), code="deadline_before_start"
                        )
                    ]
                }
            )
        return attrs


class PlanRulesSerializer(serializers.Serializer):
    """A plan's 减负 rules: each is off unless turned on with the office's reason."""

    ranking_enabled = serializers.BooleanField()
    ranking_reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )
    evidence_required = serializers.BooleanField()
    evidence_reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )
