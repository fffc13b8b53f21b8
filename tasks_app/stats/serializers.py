"""Leaders' numbers over the API: /api/v1/stats/plans/{id}/... and /api/v1/plans/{id}/summary/,
and the province's overview of every plan at once, /api/v1/stats/plans/.

Every endpoint takes ?as_of=YYYY-MM-DD (default today; 2000-01-01..2100-12-31) and answers the
numbers as they stood at the end of that day (Asia/Shanghai); see tasks_app.stats for the rules.

Scope: leaders, the supervision office, administrators and auditors see the whole plan. A
department's staff and head get their own department's numbers only: every count covers just the
tasks their department leads, and the ranking holds just their department's row (with its rank
among all lead departments); in the province's overview they get the plans where their
department leads tasks, each counted over those tasks. Users with neither answer 403; an unknown
plan answers 404.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tasks_app.models import GovernmentLevel, Light, ReviewState, TaskStatus
from tasks_app.stats import ranking as stats
from tasks_app.stats.snapshot import AS_OF_MAX, AS_OF_MIN


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="YYYY-MM-DD; default today (Asia/Shanghai)"
    )

    def validate_as_of(self, value):
        if not AS_OF_MIN <= value <= AS_OF_MAX:
            raise serializers.ValidationError(
                _("统计日期须在2000-01-01至2100-12-31之间。"), code="as_of_out_of_range"
            )
        return value


class ProvinceQuerySerializer(AsOfSerializer):
    year = serializers.IntegerField(
        required=False, min_value=2000, max_value=2100, help_text="only the plans of this year"
    )


# --- Response shapes (documentation and rendering) ------------------------------------------


def _counts_of(choices, name: str):
    return type(
        name,
        (serializers.Serializer,),
        {value: serializers.IntegerField() for value in choices.values},
    )


ByStatusSerializer = _counts_of(TaskStatus, "StatsByStatusSerializer")


ByLightSerializer = _counts_of(Light, "StatsByLightSerializer")


class TallySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    completion_rate = serializers.FloatField(help_text="done / total, 0..1")
    overdue = serializers.IntegerField()
    by_status = ByStatusSerializer()
    by_light = ByLightSerializer()


class SectionTallySerializer(TallySerializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    title = serializers.CharField()


class KeyAreaTallySerializer(TallySerializer):
    id = serializers.IntegerField()
    section_id = serializers.IntegerField()
    title = serializers.CharField()


class DepartmentTallySerializer(TallySerializer):
    id = serializers.IntegerField(allow_null=True, help_text="null: no lead department yet")
    name = serializers.CharField()


class PlanRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField()


class OverviewSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    plan = PlanRefSerializer()
    department_id = serializers.IntegerField(
        allow_null=True, help_text="set when the numbers cover one department's tasks only"
    )
    totals = TallySerializer()
    by_section = SectionTallySerializer(many=True)
    by_key_area = KeyAreaTallySerializer(many=True)
    by_department = DepartmentTallySerializer(many=True)
    livelihood = TallySerializer(help_text="livelihood projects (民生实事) on their own")


class ProvincePlanSerializer(TallySerializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    government = serializers.CharField(allow_blank=True, help_text="the government's name")
    government_id = serializers.IntegerField()
    government_level = serializers.ChoiceField(choices=GovernmentLevel.choices)
    year = serializers.IntegerField()


class GovernmentTallySerializer(TallySerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=GovernmentLevel.choices)
    parent_id = serializers.IntegerField(allow_null=True)
    plans = serializers.IntegerField(help_text="published plans counted")


class ProvinceOverviewSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    year = serializers.IntegerField(allow_null=True, help_text="the year asked for, if any")
    department_id = serializers.IntegerField(
        allow_null=True, help_text="set when the numbers cover one department's tasks only"
    )
    results = ProvincePlanSerializer(
        many=True,
        help_text="largest share of red lights first, then lowest completion rate, then most "
        "overdue; ties by government, title, id",
    )
    governments = GovernmentTallySerializer(
        many=True,
        help_text="each government the caller reads (its own first, then those below it, by "
        "name) with its published plans' tallies summed; a city's or province's office, leaders "
        "and auditors read the governments below their own, read-only",
    )


class LatestReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.DateField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField()
    narrative = serializers.CharField(help_text="the department's explanation")
    review_state = serializers.ChoiceField(choices=ReviewState.choices)
    submitted_at = serializers.DateTimeField()


class ExceptionSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    section_id = serializers.IntegerField(allow_null=True)
    key_area_id = serializers.IntegerField(allow_null=True)
    lead_department_id = serializers.IntegerField(allow_null=True)
    lead_department = serializers.CharField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField()
    expected_progress = serializers.IntegerField()
    light = serializers.ChoiceField(choices=Light.choices)
    overdue = serializers.BooleanField()
    days_late = serializers.IntegerField(help_text="working days after the deadline")
    latest_report = LatestReportSerializer(allow_null=True)


class ExceptionListSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    results = ExceptionSerializer(many=True)


def _decimal(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=4, **kwargs)


class IndicatorStatsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    comparator = serializers.CharField()
    task_id = serializers.IntegerField(allow_null=True)
    task_code = serializers.CharField(allow_null=True)
    source_text = serializers.CharField()
    target = _decimal()
    target_max = _decimal(allow_null=True)
    actual = _decimal(allow_null=True, help_text="the latest accepted value as of the date")
    elapsed = serializers.FloatField(help_text="share of the plan year elapsed, 0..1")
    share = serializers.FloatField(allow_null=True, help_text="actual / target (levels, counts)")
    points = serializers.FloatField(
        allow_null=True, help_text="actual - target in percentage points (growth targets)"
    )
    met = serializers.BooleanField(allow_null=True)
    on_schedule = serializers.BooleanField(allow_null=True)


class IndicatorListSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    results = IndicatorStatsSerializer(many=True)


class ScorePartSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=list(stats.SCORE_KEYS))
    numerator = serializers.FloatField()
    denominator = serializers.FloatField()
    rate = serializers.FloatField(help_text="numerator / denominator, 1 when nothing is owed")
    weight = serializers.IntegerField()
    points = serializers.FloatField(help_text="rate x weight")


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    department_id = serializers.IntegerField()
    department = serializers.CharField()
    tasks = serializers.IntegerField()
    done = serializers.IntegerField()
    completion_rate = serializers.FloatField()
    overdue = serializers.IntegerField()
    green = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()
    reports_due = serializers.IntegerField()
    reports_received = serializers.IntegerField()
    reports_on_time = serializers.IntegerField()
    returned = serializers.IntegerField(help_text="reports returned for rework")
    score = serializers.FloatField(help_text="sum of score_parts[].points, 0..100")
    score_parts = ScorePartSerializer(many=True)
    list = serializers.ChoiceField(
        choices=["red", "black"], allow_null=True, help_text="红榜 (red) or 黑榜 (black)"
    )


class RankingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    weights = serializers.DictField(child=serializers.IntegerField())
    rule = serializers.CharField(help_text="how the score and reports due are computed")
    rows = RankingRowSerializer(many=True)


class TrendPointSerializer(TallySerializer):
    month = serializers.CharField(help_text="YYYY-MM")
    as_of = serializers.DateField(help_text="the month's last day, or the as-of date")


class TrendSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    months = TrendPointSerializer(many=True)


class SegmentSerializer(serializers.Serializer):
    text = serializers.CharField()
    link = serializers.CharField(
        allow_null=True,
        help_text='a number linking to its tasks: "sections", "all" or a status; else null',
    )


class SummaryPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()


class SummaryCountsSerializer(ByStatusSerializer):
    sections = serializers.IntegerField()
    tasks = serializers.IntegerField()


SummaryTaskIdsSerializer = type(
    "SummaryTaskIdsSerializer",
    (serializers.Serializer,),
    {
        key: serializers.ListField(child=serializers.IntegerField())
        for key in ["all", *TaskStatus.values]
    },
)


class SummarySerializer(serializers.Serializer):
    plan = SummaryPlanSerializer()
    as_of = serializers.DateField()
    sentence = serializers.CharField(help_text="the report's own sentence, from the data")
    segments = SegmentSerializer(many=True)
    counts = SummaryCountsSerializer()
    task_ids = SummaryTaskIdsSerializer()
