import functools

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app.common import clock, permissions
from tasks_app.common.api import ERRORS, validated_query
from tasks_app.common.errors import NotFound
from tasks_app.stats import indicators, selectors, summary, tallies
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot
from tasks_app.stats.governments import government_rollup
from tasks_app.stats.serializers import (
    AsOfSerializer,
    ExceptionListSerializer,
    IndicatorListSerializer,
    OverviewSerializer,
    ProvinceOverviewSerializer,
    ProvinceQuerySerializer,
    RankingSerializer,
    SummarySerializer,
    TrendSerializer,
)

# --- Views -----------------------------------------------------------------------------------


def snapshot_for(request, pk: int) -> stats_snapshot.PlanSnapshot:
    query = validated_query(AsOfSerializer, request.query_params)
    department_id = selectors.stats_scope(request.user)
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
    return stats_snapshot.plan_snapshot(
        plan=plan, as_of=query.get("as_of"), department_id=department_id
    )


@functools.cache
def _renderer(serializer_class):
    """serializer_class().to_representation for these answers, its walk over the (nested)
    fields planned once per process.

    serializer_class(data).data deep-copies and binds every declared field, nested serializers'
    too, on each response; and to_representation asks each field, per row, how to read its
    value. The answers are plain dicts keyed by field name, so each field's value is read by key
    and converted by that field's own to_representation (anything else takes DRF's own way);
    tests/stats/test_stats_rendering.py holds the output to a fresh serializer's, byte for byte.
    """
    return _planned(serializer_class())


def _planned(serializer: serializers.Serializer):
    steps = []
    for field in serializer.fields.values():
        if field.write_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            convert = functools.partial(_each, _planned(field.child))
        elif isinstance(field, serializers.Serializer):
            convert = _planned(field)
        else:
            convert = field.to_representation
        by_key = field.source_attrs == [field.field_name]
        steps.append((field.field_name, by_key, field, convert))

    def represent(data) -> dict:
        if not isinstance(data, dict):
            return serializer.to_representation(data)
        answer = {}
        for name, by_key, field, convert in steps:
            if by_key and name in data:
                value = data[name]
            else:
                try:
                    value = field.get_attribute(data)
                except SkipField:
                    continue
            answer[name] = None if value is None else convert(value)
        return answer

    return represent


def _each(represent, rows) -> list:
    if not isinstance(rows, list | tuple):
        rows = list(rows.all() if hasattr(rows, "all") else rows)
    return [represent(row) for row in rows]


def _answer(serializer_class, data) -> Response:
    return Response(_renderer(serializer_class)(data))


class PlanStatsApi(APIView):
    @extend_schema(
        summary="Totals by status and light, by section, key area, lead department, livelihood",
        parameters=[AsOfSerializer],
        responses={200: OverviewSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        query = validated_query(AsOfSerializer, request.query_params)
        department_id = selectors.stats_scope(request.user)
        overview = tallies.plan_overview(
            plan_id=pk,
            government_ids=permissions.readable_government_ids(request.user),
            as_of=query.get("as_of"),
            department_id=department_id,
        )
        if overview is None:
            raise Http404
        return _answer(OverviewSerializer, overview)


class ProvinceStatsApi(APIView):
    """GET /api/v1/stats/plans/?as_of=YYYY-MM-DD[&year=YYYY]: the province leader's overview.

    Every published plan (of `year`, when given), each with its id, title, government, year and
    the same top-level tally as /api/v1/stats/plans/{id}/'s `totals` at that as_of; exceptions
    first: the largest share of red lights, then the lowest completion rate, then the most
    overdue tasks (ties by government, title, id). A fixed number of queries however many
    plans and tasks (tasks_app.stats.province_overview). Scope as for the per-plan overview:
    leaders, the office, administrators and auditors see every plan; a department's members
    see the plans where their department leads tasks, counted over those tasks; others 403.
    Roll-up: the office, leaders and auditors of a city or province read every government
    below their own too; `governments` lists each readable government with its plans' sums.
    """

    @extend_schema(
        operation_id="v1_stats_plans_list",
        summary="Every published plan's totals at once, exceptions first (the province view)",
        parameters=[ProvinceQuerySerializer],
        responses={200: ProvinceOverviewSerializer, **ERRORS},
    )
    def get(self, request):
        query = validated_query(ProvinceQuerySerializer, request.query_params)
        department_id = selectors.stats_scope(request.user)
        as_of = query.get("as_of") or clock.today()
        government_ids = permissions.readable_government_ids(request.user)
        rows = selectors.province_overview(
            government_ids=government_ids,
            as_of=as_of,
            year=query.get("year"),
            department_id=department_id,
        )
        data = {
            "as_of": as_of,
            "year": query.get("year"),
            "department_id": department_id,
            "results": rows,
            "governments": government_rollup(government_ids=government_ids, rows=rows),
        }
        return _answer(ProvinceOverviewSerializer, data)


class PlanExceptionsApi(APIView):
    @extend_schema(
        summary="Red and overdue tasks, most overdue first, with the latest report",
        parameters=[AsOfSerializer],
        responses={200: ExceptionListSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        snapshot = snapshot_for(request, pk)
        data = {"as_of": snapshot.as_of, "results": selectors.stats_exceptions(snapshot)}
        return _answer(ExceptionListSerializer, data)


class PlanIndicatorsApi(APIView):
    @extend_schema(
        summary="Indicators against their targets: actual, attainment, pace",
        parameters=[AsOfSerializer],
        responses={200: IndicatorListSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        snapshot = snapshot_for(request, pk)
        data = {"as_of": snapshot.as_of, "results": indicators.stats_indicators(snapshot)}
        return _answer(IndicatorListSerializer, data)


class PlanRankingApi(APIView):
    @extend_schema(
        summary="红黑榜: lead departments' reporting discipline and results, score explained",
        parameters=[AsOfSerializer],
        responses={200: RankingSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        department_id = selectors.stats_scope(request.user)
        query = validated_query(AsOfSerializer, request.query_params)
        plan = get_object_or_404(permissions.visible_plans(request.user), pk=pk)
        if not stats_ranking.ranking_enabled(plan):
            raise NotFound("ranking_off", _("该计划未启用红黑榜。"))
        # Ranks are computed among all lead departments; a department then sees its own row.
        snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=query.get("as_of"))
        ranking = stats_ranking.stats_ranking(snapshot)
        if department_id is not None:
            ranking["rows"] = [r for r in ranking["rows"] if r["department_id"] == department_id]
        return _answer(RankingSerializer, ranking)


class PlanTrendApi(APIView):
    @extend_schema(
        summary="Completion and lights month by month through the plan year",
        parameters=[AsOfSerializer],
        responses={200: TrendSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        snapshot = snapshot_for(request, pk)
        return _answer(
            TrendSerializer, {"as_of": snapshot.as_of, "months": summary.stats_trend(snapshot)}
        )


class PlanSummaryApi(APIView):
    @extend_schema(
        summary="The year-end summary sentence, its counts and the task ids behind each number",
        parameters=[AsOfSerializer],
        responses={200: SummarySerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        return _answer(SummarySerializer, summary.plan_summary(snapshot_for(request, pk)))
