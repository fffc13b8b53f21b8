"""The stats API renders each answer byte for byte as its documented serializer would.

The views render through one shared serializer instance per response shape (its fields built
once, not per response); the JSON must stay what a fresh serializer gives, keys in order.
"""

import datetime as dt

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from tasks_app.common import permissions
from tasks_app.plans import services as plans_services
from tasks_app.stats import indicators, ranking, selectors, summary
from tasks_app.stats import serializers as stats_apis
from tasks_app.stats import snapshot as stats_snapshot
from tasks_app.stats.governments import government_rollup
from tests.stats.stats_builders import JUNE_30

pytestmark = pytest.mark.django_db


def answers(snapshot):
    as_of = snapshot.as_of
    return {
        "": (stats_apis.OverviewSerializer, selectors.stats_overview(snapshot)),
        "exceptions/": (
            stats_apis.ExceptionListSerializer,
            {"as_of": as_of, "results": selectors.stats_exceptions(snapshot)},
        ),
        "indicators/": (
            stats_apis.IndicatorListSerializer,
            {"as_of": as_of, "results": indicators.stats_indicators(snapshot)},
        ),
        "ranking/": (stats_apis.RankingSerializer, ranking.stats_ranking(snapshot)),
        "trend/": (
            stats_apis.TrendSerializer,
            {"as_of": as_of, "months": summary.stats_trend(snapshot)},
        ),
        "summary/": (stats_apis.SummarySerializer, summary.plan_summary(snapshot)),
    }


@pytest.mark.parametrize("day", [JUNE_30, dt.date(2020, 3, 31)], ids=["june", "march"])
def test_every_stats_answer_is_the_json_a_fresh_serializer_gives(counted, leader, day):
    plan, _t = counted
    client = APIClient()
    client.force_authenticate(leader)
    snapshot = stats_snapshot.plan_snapshot(plan=plan, as_of=day)
    for path, (serializer_class, data) in answers(snapshot).items():
        url = (
            f"/api/v1/plans/{plan.pk}/summary/"
            if path == "summary/"
            else f"/api/v1/stats/plans/{plan.pk}/{path}"
        )
        response = client.get(url, {"as_of": day.isoformat()}, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content[:300]
        assert response.content == JSONRenderer().render(serializer_class(data).data), path


def test_the_province_answer_is_the_json_a_fresh_serializer_gives(counted, leader, supervisor):
    plan, _t = counted
    plans_services.plan_publish(actor=supervisor, plan=plan)
    client = APIClient()
    client.force_authenticate(leader)
    response = client.get("/api/v1/stats/plans/", {"as_of": "2020-06-30"})
    assert response.status_code == 200, response.content[:300]
    government_ids = permissions.readable_government_ids(leader)
    rows = selectors.province_overview(government_ids=government_ids, as_of=JUNE_30)
    data = {
        "as_of": JUNE_30,
        "year": None,
        "department_id": None,
        "results": rows,
        "governments": government_rollup(government_ids=government_ids, rows=rows),
    }
    assert [row["id"] for row in data["results"]] == [plan.pk]
    expected = JSONRenderer().render(stats_apis.ProvinceOverviewSerializer(data).data)
    assert response.content == expected
