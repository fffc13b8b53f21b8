"""API shapes: input serializers validate, output serializers render. No business rules here."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tasks_app.common.serializers import (
    NARRATIVE_MAX,
    DepartmentRefSerializer,
    IdField,
    IndicatorNumberField,
    PeriodField,
    UserRefSerializer,
    reject_html,
)
from tasks_app.models import (
    ChangeRequest,
    Contribution,
    Evidence,
    Instruction,
    InstructionFeedback,
    Review,
    SignOff,
    StatusUpdate,
    TaskStatus,
)

PUBLIC_NARRATIVE_MAX = 2000  # StatusUpdate.public_narrative
EXPLANATION_MAX = 2000


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


class SignOffSerializer(serializers.ModelSerializer):
    signer = UserRefSerializer()

    class Meta:
        model = SignOff
        fields = ["id", "revision", "decision", "reason", "signer", "created_at"]


class InstructionFeedbackSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer()
    author = UserRefSerializer()

    class Meta:
        model = InstructionFeedback
        fields = ["id", "instruction", "department", "author", "text", "created_at"]


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
    signoffs = SignOffSerializer(many=True)
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
            "public_narrative",
            "explanation",
            "indicator_values",
            "author",
            "review_state",
            "revision",
            "version",
            "created_at",
            "submitted_at",
            "signoffs",
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


class IndicatorValueInSerializer(serializers.Serializer):
    indicator = IdField()
    value = IndicatorNumberField()


class StatusUpdateInSerializer(serializers.Serializer):
    period = PeriodField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    narrative = serializers.CharField(max_length=NARRATIVE_MAX, validators=[reject_html])
    public_narrative = serializers.CharField(
        max_length=PUBLIC_NARRATIVE_MAX,
        validators=[reject_html],
        required=False,
        allow_blank=True,
        default="",
    )
    explanation = serializers.CharField(
        max_length=EXPLANATION_MAX,
        required=False,
        allow_blank=True,
        default="",
        validators=[reject_html],
        help_text="情况说明: required (non-blank) when the task's light is red",
    )
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
    public_narrative = serializers.CharField(
        max_length=PUBLIC_NARRATIVE_MAX, validators=[reject_html], required=False, allow_blank=True
    )
    explanation = serializers.CharField(
        max_length=EXPLANATION_MAX, validators=[reject_html], required=False, allow_blank=True
    )
    indicator_values = IndicatorValueInSerializer(many=True, required=False)


class ReviewInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )


class SignOffInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=SignOff.Decision.choices)
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )


class InstructionFeedbackInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, validators=[reject_html])


class EvidenceInSerializer(serializers.Serializer):
    # An empty file is refused by the service (file_empty), with every other rule on content.
    file = serializers.FileField(max_length=200, allow_empty_file=True)


class ContributionInSerializer(serializers.Serializer):
    period = PeriodField()
    narrative = serializers.CharField(max_length=NARRATIVE_MAX, validators=[reject_html])


class InstructionInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, validators=[reject_html])


class ChangeRequestInSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=ChangeRequest.Field.choices)
    new_value = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=1000, validators=[reject_html])
    indicator = IdField(required=False, allow_null=True)


class ChangeDecisionInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[reject_html]
    )
