"""API shapes: input serializers validate, output serializers render. No business rules here."""

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks_app.models import (
    ChangeRequest,
    Contribution,
    Department,
    Evidence,
    Indicator,
    Instruction,
    Light,
    Milestone,
    Review,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)

NARRATIVE_MAX = 5000
_HTML = re.compile(r"<\s*[a-zA-Z!/?]")


def reject_html(value: str) -> str:
    if _HTML.search(value):
        raise serializers.ValidationError(
            _("内容不能包含 HTML 标签或脚本。"), code="html_not_allowed"
        )
    return value


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2020-03"})
class PeriodField(serializers.Field):
    """A reporting period written YYYY-MM, stored as the month's first day."""

    default_error_messages = {"invalid": _("报送期格式应为 YYYY-MM,例如 2020-03。")}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"\d{4}-\d{2}", data):
            self.fail("invalid")
        try:
            return dt.date(int(data[:4]), int(data[5:]), 1)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.strftime("%Y-%m")


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every error response: a stable code, a Chinese message, and field errors when any."""

    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.DictField(child=ErrorDetailSerializer(many=True), required=False)


# --- Output ---------------------------------------------------------------------------------


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__")

    class Meta:
        model = User
        fields = ["id", "username", "name"]


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


class InstructionSerializer(serializers.ModelSerializer):
    leader = UserRefSerializer()

    class Meta:
        model = Instruction
        fields = ["id", "leader", "text", "created_at", "read_at"]


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = UserRefSerializer()

    class Meta:
        model = Review
        fields = ["id", "revision", "decision", "reason", "reviewer", "created_at"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at"]


class IndicatorValueOutSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(source="indicator_id")
    value = serializers.DecimalField(max_digits=18, decimal_places=4)


class StatusUpdateSerializer(serializers.ModelSerializer):
    period = PeriodField()
    status_label = serializers.CharField(source="get_status_display")
    author = UserRefSerializer()
    reviews = ReviewSerializer(many=True)
    evidence = EvidenceSerializer(many=True)
    indicator_values = IndicatorValueOutSerializer(source="values", many=True)

    class Meta:
        model = StatusUpdate
        fields = [
            "id",
            "task",
            "period",
            "status",
            "status_label",
            "progress",
            "narrative",
            "indicator_values",
            "author",
            "review_state",
            "revision",
            "version",
            "created_at",
            "submitted_at",
            "reviews",
            "evidence",
        ]


class ContributionSerializer(serializers.ModelSerializer):
    period = PeriodField()
    department = DepartmentRefSerializer()
    author = UserRefSerializer()

    class Meta:
        model = Contribution
        fields = ["id", "task", "department", "period", "narrative", "author", "created_at"]


class ChangeRequestSerializer(serializers.ModelSerializer):
    requested_by = UserRefSerializer()
    decided_by = UserRefSerializer(allow_null=True)

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "task",
            "indicator",
            "field",
            "old_value",
            "new_value",
            "reason",
            "requested_by",
            "state",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        ]


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
    plan = serializers.IntegerField(required=False, min_value=1)
    section = serializers.IntegerField(required=False, min_value=1)
    department = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    light = serializers.ChoiceField(choices=Light.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    due_before = serializers.DateField(required=False)


class IndicatorValueInSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(min_value=1)
    value = serializers.DecimalField(max_digits=18, decimal_places=4)


class StatusUpdateInSerializer(serializers.Serializer):
    period = PeriodField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    narrative = serializers.CharField(max_length=NARRATIVE_MAX, validators=[reject_html])
    indicator_values = IndicatorValueInSerializer(many=True, required=False)

    def validate_indicator_values(self, rows):
        ids = [row["indicator"] for row in rows]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("同一指标只能填报一次。"), code="duplicate")
        return rows


class StatusUpdatePatchSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    progress = serializers.IntegerField(min_value=0, max_value=100, required=False)
    narrative = serializers.CharField(
        max_length=NARRATIVE_MAX, validators=[reject_html], required=False
    )
    indicator_values = IndicatorValueInSerializer(many=True, required=False)


class ReviewInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )


class EvidenceInSerializer(serializers.Serializer):
    file = serializers.FileField(max_length=200, allow_empty_file=False)


class ContributionInSerializer(serializers.Serializer):
    period = PeriodField()
    narrative = serializers.CharField(max_length=NARRATIVE_MAX, validators=[reject_html])


class InstructionInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, validators=[reject_html])


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


class ChangeRequestInSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=ChangeRequest.Field.choices)
    new_value = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=1000, validators=[reject_html])
    indicator = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ChangeDecisionInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )


class TokenInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutSerializer(serializers.Serializer):
    token = serializers.CharField()
