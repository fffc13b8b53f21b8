"""Confidence ratings: given each quarter with a reason, audited, closed with the quarter, and
scored against the outcome once the deadline passes."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from tasks_app.common import clock
from tasks_app.common.errors import Conflict, NotPermitted, ServiceError
from tasks_app.models import (
    AuditEvent,
    ConfidenceRating,
    Plan,
    RatingQuarterClose,
    Role,
    TaskStatus,
)
from tasks_app.plans import services as plan_services
from tasks_app.stocktakes import calibration, services
from tests.conftest import is_postgres
from tests.stats.stats_builders import at, build_plan, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def raters(db):
    return [
        plan_services.user_create(
            actor=None,
            username=name,
            password=f"pw-{name}-123456",
            role=Role.SUPERVISOR,
            display_name=display,
        )
        for name, display in (("zhang", "张科长"), ("li", "李科长"))
    ]


@pytest.fixture
def outcomes(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor):
    """Four tasks due 30 June: the 经发局's two ended late (still not done), the 科创局's two were
    reported done in June and accepted."""
    plan = build_plan(
        sections=1,
        tasks=[
            {"lead_department": economic_bureau, "deadline": dt.date(2020, 6, 30)},
            {"lead_department": economic_bureau, "deadline": dt.date(2020, 6, 30)},
            {"lead_department": tech_bureau, "deadline": dt.date(2020, 6, 30)},
            {"lead_department": tech_bureau, "deadline": dt.date(2020, 6, 30)},
        ],
    )
    tasks = list(plan.tasks.order_by("code"))
    for task in tasks[2:]:
        report(
            task,
            author=tech_clerk,
            office=supervisor,
            period=dt.date(2020, 6, 1),
            status=TaskStatus.DONE,
            progress=100,
            submitted=at(2020, 6, 20),
            reviewed=at(2020, 6, 22),
        )
    return tasks


def rate_in_april(rater, task, level):
    with clock.travel_to(at(2020, 4, 15)):
        return services.rating_record(actor=rater, task=task, level=level, reason="依据进度判断")


def test_the_rater_whose_confident_tasks_were_delivered_ranks_better(raters, outcomes):
    zhang, li = raters
    late, _late2, on_time, on_time2 = outcomes
    rate_in_april(zhang, late, "fairly_high")  # 较高, delivered late
    rate_in_april(zhang, _late2, "fairly_high")
    rate_in_april(li, on_time, "fairly_high")  # 较高, delivered on time
    rate_in_april(li, on_time2, "high")
    result = calibration.calibration(as_of=dt.date(2020, 9, 30))
    ranked = [
        (r["name"], r["confident_on_time"], r["confident"], r["brier"]) for r in result["raters"]
    ]
    assert ranked == [("李科长", 2, 2, round((0.09 + 0.01) / 2, 3)), ("张科长", 0, 2, 0.49)]
    departments = [r["name"] for r in result["departments"]]
    assert departments == ["科技创新和产业发展局", "经济发展局"]


def test_the_office_page_shows_the_ranking_with_the_brier_score(settings, raters, outcomes):
    zhang, li = raters
    rate_in_april(zhang, outcomes[0], "fairly_high")
    rate_in_april(li, outcomes[2], "fairly_high")
    settings.GAOXIN_TODAY = "2020-09-30"
    client = Client()
    client.force_login(zhang)
    page = client.get("/ratings/").content.decode()
    table = page[page.index('id="calibration-raters"') : page.index('id="calibration-departments"')]
    assert table.index("李科长") < table.index("张科长")
    assert "0.090" in table and "0.490" in table


def test_ratings_before_the_deadline_only_are_scored(raters, outcomes):
    zhang, _li = raters
    with clock.travel_to(at(2020, 7, 10)):
        services.rating_record(actor=zhang, task=outcomes[0], level="low", reason="已逾期")
    assert calibration.calibration(as_of=dt.date(2020, 9, 30))["raters"] == []


def test_a_rating_needs_a_level_and_a_reason_and_the_office(raters, outcomes, clerk):
    zhang, _li = raters
    with pytest.raises(ServiceError):
        services.rating_record(actor=zhang, task=outcomes[0], level="sure", reason="x")
    with pytest.raises(ServiceError):
        services.rating_record(actor=zhang, task=outcomes[0], level="high", reason="  ")
    with pytest.raises(NotPermitted):
        services.rating_record(actor=clerk, task=outcomes[0], level="high", reason="x")
    assert not ConfidenceRating.objects.exists()


def test_a_rating_is_revised_within_its_quarter_and_audited_both_times(raters, outcomes):
    zhang, _li = raters
    first = rate_in_april(zhang, outcomes[0], "high")
    with clock.travel_to(at(2020, 5, 20)):
        services.rating_record(actor=zhang, task=outcomes[0], level="medium", reason="进度放缓")
    first.refresh_from_db()
    assert first.level == "medium" and ConfidenceRating.objects.count() == 1
    assert list(
        AuditEvent.objects.filter(action__startswith="rating.").values_list("action", flat=True)
    ) == ["rating.create", "rating.update"]


def test_after_the_quarter_a_rating_cannot_be_edited(raters, outcomes):
    zhang, _li = raters
    rating = rate_in_april(zhang, outcomes[0], "high")
    with clock.travel_to(at(2020, 7, 2)), pytest.raises(Conflict):
        services.rating_edit(actor=zhang, rating=rating, level="low", reason="改判")
    # A rating given in July closes the second quarter for good.
    with clock.travel_to(at(2020, 7, 2)):
        services.rating_record(actor=zhang, task=outcomes[1], level="low", reason="新季度")
    assert RatingQuarterClose.objects.filter(quarter=dt.date(2020, 4, 1)).exists()
    rating.refresh_from_db()
    assert rating.level == "high"


@pytest.mark.postgres
def test_the_database_refuses_to_change_a_closed_quarters_ratings(raters, outcomes):
    assert is_postgres()
    zhang, _li = raters
    rating = rate_in_april(zhang, outcomes[0], "high")
    services.rating_quarter_close(actor=zhang, quarter=dt.date(2020, 4, 1))
    for change in (
        lambda: ConfidenceRating.objects.filter(pk=rating.pk).update(level="low"),
        lambda: ConfidenceRating.objects.filter(pk=rating.pk).delete(),
        lambda: RatingQuarterClose.objects.all().delete(),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    rating.refresh_from_db()
    assert rating.level == "high"


def test_the_task_page_and_the_dashboard_list_show_the_three_signals(
    settings, raters, outcomes, leader, clerk
):
    zhang, _li = raters
    rate_in_april(zhang, outcomes[0], "fairly_low")
    settings.GAOXIN_TODAY = "2020-09-30"
    client = Client()
    client.force_login(leader)
    page = client.get(f"/workbench/tasks/{outcomes[0].pk}/").content.decode()
    assert 'id="confidence"' in page and "较低" in page
    drill = client.get(f"/dashboard/plans/{outcomes[0].plan_id}/tasks/?as_of=2020-09-30")
    assert '把握度">较低</td>' in drill.content.decode()
    client.force_login(clerk)  # the department sees its status and light, not the office's view
    assert (
        'id="confidence"' not in client.get(f"/workbench/tasks/{outcomes[0].pk}/").content.decode()
    )


def test_the_office_rates_from_its_page_and_an_outside_next_is_ignored(settings, raters, outcomes):
    from django.test import Client

    settings.GAOXIN_TODAY = "2020-05-06"
    Plan.objects.filter(pk=outcomes[0].plan_id).update(
        status="published", published_at=at(2020, 1, 21)
    )
    zhang, _li = raters
    client = Client()
    client.force_login(zhang)
    answer = client.post(
        f"/ratings/tasks/{outcomes[0].pk}/",
        {"level": "medium", "reason": "资金未到位", "next": "https://evil.example/"},
    )
    assert answer.status_code == 302 and answer["Location"].startswith("/ratings/?plan=")
    rating = ConfidenceRating.objects.get()
    assert (rating.level, rating.quarter, rating.rater) == ("medium", dt.date(2020, 4, 1), zhang)
    page = client.get(answer["Location"]).content.decode()
    assert "2020年第2季度" in page and f'id="rating-{outcomes[0].code}"' in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rating_changed_behind_the_apps_back_is_recorded_in_the_ledger(raters, outcomes):
    from django.db import connection

    assert is_postgres()
    zhang, _li = raters
    rating = rate_in_april(zhang, outcomes[0], "high")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tasks_app_confidencerating SET level = 'low' WHERE id = %s", [rating.pk]
        )
    (event,) = AuditEvent.objects.filter(action__endswith=".sql", object_type="confidencerating")
    assert (event.object_type, event.before, event.after) == (
        "confidencerating",
        {"level": "high"},
        {"level": "low"},
    )
