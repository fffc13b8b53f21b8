"""The year-end summary is written in the report's own words, from the data."""

import pytest
from rest_framework.test import APIClient

from tasks_app.models import PlanKind, Role, TaskStatus
from tasks_app.plans import services
from tasks_app.stats import snapshot
from tasks_app.stats import summary as stats_summary
from tests.stats.stats_builders import build_plan

pytestmark = pytest.mark.django_db

DONE, ONGOING, ON_SCHEDULE = TaskStatus.DONE, TaskStatus.ONGOING, TaskStatus.ON_SCHEDULE
BEHIND, NOT_STARTED = TaskStatus.BEHIND, TaskStatus.NOT_STARTED


def spread(statuses: list[str], sections: int) -> list[dict]:
    """Tasks with the given statuses, dealt over the sections in turn."""
    return [{"section": i % sections + 1, "status": s} for i, s in enumerate(statuses)]


def summary_of(plan) -> dict:
    return stats_summary.plan_summary(snapshot.plan_snapshot(plan=plan))


@pytest.fixture
def leader(db):
    return services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )


def test_it_writes_the_work_report_sentence_for_148_done_and_2_continuing():
    plan = build_plan(sections=7, tasks=spread([DONE] * 148 + [ONGOING] * 2, 7))
    summary = summary_of(plan)
    assert summary["sentence"] == "7个方面150项具体工作,148项有力落实、2项持续推进"
    assert summary["counts"]["sections"] == 7
    assert summary["counts"]["tasks"] == 150
    assert (summary["counts"]["done"], summary["counts"]["ongoing"]) == (148, 2)


def test_it_writes_the_livelihood_sentence_for_ten_projects_and_sixteen_tasks():
    tasks = spread([DONE] * 8 + [ON_SCHEDULE] * 8, 10)
    plan = build_plan(sections=10, tasks=tasks, kind=PlanKind.LIVELIHOOD, title="十项民生实事")
    assert summary_of(plan)["sentence"] == "十项民生实事16项具体任务,8项全部完成,8项按计划推进"


def test_when_everything_is_done_it_says_so_in_one_phrase():
    work = build_plan(sections=3, tasks=spread([DONE] * 12, 3), title="工作报告")
    livelihood = build_plan(
        sections=10, tasks=spread([DONE] * 16, 10), kind=PlanKind.LIVELIHOOD, title="民生"
    )
    assert summary_of(work)["sentence"] == "3个方面12项具体工作全部有力落实"
    assert summary_of(livelihood)["sentence"] == "十项民生实事16项具体任务全部完成"


def test_when_nothing_is_done_it_lists_what_the_tasks_are_doing():
    plan = build_plan(sections=2, tasks=spread([ON_SCHEDULE] * 5 + [BEHIND] * 2 + [NOT_STARTED], 2))
    assert (
        summary_of(plan)["sentence"] == "2个方面8项具体工作,5项序时推进、2项进度滞后、1项尚未启动"
    )


def test_a_mix_lists_every_status_present_in_the_reports_order():
    statuses = [ON_SCHEDULE, DONE, BEHIND, ONGOING, DONE, NOT_STARTED]
    work = build_plan(sections=2, tasks=spread(statuses, 2), title="工作报告")
    livelihood = build_plan(
        sections=3, tasks=spread(statuses, 3), kind=PlanKind.LIVELIHOOD, title="民生"
    )
    assert summary_of(work)["sentence"] == (
        "2个方面6项具体工作,2项有力落实、1项持续推进、1项序时推进、1项进度滞后、1项尚未启动"
    )
    assert summary_of(livelihood)["sentence"] == (
        "三项民生实事6项具体任务,2项全部完成,1项按计划推进,1项持续推进,1项进度滞后,1项尚未启动"
    )


def test_a_plan_without_tasks_says_there_are_none_yet():
    with_sections = build_plan(sections=4, tasks=[], title="有方面")
    empty = build_plan(sections=0, tasks=[], title="空")
    projects = build_plan(sections=10, tasks=[], kind=PlanKind.LIVELIHOOD, title="民生")
    no_projects = build_plan(sections=0, tasks=[], kind=PlanKind.LIVELIHOOD, title="无民生")
    assert summary_of(with_sections)["sentence"] == "4个方面尚无具体工作"
    assert summary_of(empty)["sentence"] == "尚无具体工作"
    assert summary_of(projects)["sentence"] == "十项民生实事尚无具体任务"
    assert summary_of(no_projects)["sentence"] == "尚无民生实事"


def test_the_api_returns_the_sentence_with_its_counts_and_the_task_ids_behind_each_number(
    leader,
):
    plan = build_plan(sections=7, tasks=spread([DONE] * 148 + [ONGOING] * 2, 7))
    ongoing_ids = sorted(plan.tasks.filter(status=ONGOING).values_list("pk", flat=True))
    client = APIClient()
    client.force_authenticate(leader)
    response = client.get(f"/api/v1/plans/{plan.pk}/summary/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sentence"] == "7个方面150项具体工作,148项有力落实、2项持续推进"
    assert body["counts"] == {
        "sections": 7,
        "tasks": 150,
        "done": 148,
        "ongoing": 2,
        "on_schedule": 0,
        "behind": 0,
        "not_started": 0,
    }
    assert sorted(body["task_ids"]["ongoing"]) == ongoing_ids
    assert len(body["task_ids"]["done"]) == 148 and len(body["task_ids"]["all"]) == 150
    linked = [s for s in body["segments"] if s["link"]]
    assert [(s["text"], s["link"]) for s in linked] == [
        ("7", "sections"),
        ("150", "all"),
        ("148", "done"),
        ("2", "ongoing"),
    ]


def test_the_dashboard_shows_the_sentence_with_numbers_linking_to_their_tasks(client, leader):
    plan = build_plan(sections=7, tasks=spread([DONE] * 148 + [ONGOING] * 2, 7))
    client.force_login(leader)
    page = client.get(f"/dashboard/plans/{plan.pk}/").content.decode()
    assert "148</a>项有力落实、" in page
    link = f"/dashboard/plans/{plan.pk}/tasks/?filed=1&amp;status=ongoing"
    assert link in page
    listing = client.get(f"/dashboard/plans/{plan.pk}/tasks/?filed=1&status=ongoing")
    codes = {t.code for t in listing.context["tasks"]}
    assert codes == set(plan.tasks.filter(status=ONGOING).values_list("code", flat=True))
