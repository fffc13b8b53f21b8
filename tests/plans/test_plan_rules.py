"""减负 rules as data: a plan's 红黑榜 and its evidence rule for 已完成 are the office's settings,
off unless turned on with a reason that departments read; with the 红黑榜 off no rank shows
anywhere for that plan."""

import datetime as dt
import json
import re
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tasks_app.models import AuditEvent, Plan
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tests.stats.stats_builders import counted_plan

pytestmark = pytest.mark.django_db

RANKING_WORDS = ("红黑榜", "红榜", "黑榜", "名次", "得分", "chart-ranking")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ranked(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor):
    plan, _tasks = counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)
    return plan


def surfaces(plan: Plan, user) -> dict[str, str]:
    """Every place a ranking could show for the plan, as text."""
    web = Client()
    web.force_login(user)
    query = "?as_of=2020-06-30"
    pages = {
        name: web.get(f"/dashboard/plans/{plan.pk}/{path}{query}")
        for name, path in [("dashboard", ""), ("print", "print/"), ("xlsx", "export.xlsx")]
    }
    assert all(page.status_code == 200 for page in pages.values()), pages
    book = load_workbook(BytesIO(pages["xlsx"].content))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    client = api(user)
    stats = {
        path: client.get(f"/api/v1/{path}")
        for path in (
            f"stats/plans/{plan.pk}/{query}",
            f"stats/plans/{plan.pk}/ranking/{query}",
            f"stats/plans/{plan.pk}/exceptions/{query}",
            f"stats/plans/{plan.pk}/indicators/{query}",
            f"stats/plans/{plan.pk}/trend/{query}",
            f"plans/{plan.pk}/summary/{query}",
            f"stats/plans/{query}",
        )
    }
    return {
        "dashboard": pages["dashboard"].content.decode(),
        "print": pages["print"].content.decode(),
        "xlsx": " ".join(book.sheetnames + cells),
        "api": json.dumps({p: r.json() for p, r in stats.items()}, ensure_ascii=False),
        "ranking_api": stats[f"stats/plans/{plan.pk}/ranking/{query}"],
    }


def test_with_the_red_black_list_on_every_surface_shows_the_ranking(ranked, leader):
    shown = surfaces(ranked, leader)

    assert "红黑榜" in shown["dashboard"] and "chart-ranking" in shown["dashboard"]
    assert "红黑榜" in shown["print"] and "红黑榜" in shown["xlsx"]
    assert shown["ranking_api"].status_code == 200 and shown["ranking_api"].json()["rows"]


def test_with_the_red_black_list_off_no_ranking_appears_on_any_surface(ranked, leader, supervisor):
    plans_services.plan_rules_set(
        actor=supervisor, plan=ranked, ranking_enabled=False, evidence_required=False
    )
    shown = surfaces(ranked, leader)

    for surface in ("dashboard", "print", "xlsx"):
        for word in RANKING_WORDS:
            assert word not in shown[surface], (surface, word)
    assert shown["ranking_api"].status_code == 404
    assert shown["ranking_api"].json()["code"] == "ranking_off"
    assert not re.search(r'"(rank|score|list|score_parts)"', shown["api"])
    assert '"ranking"' not in shown["dashboard"]  # nor in the charts' data


def test_the_office_turns_a_rule_on_only_with_a_reason_and_it_is_audited(ranked, supervisor):
    client = api(supervisor)
    url = f"/api/v1/plans/{ranked.pk}/rules/"

    refused = client.put(url, {"ranking_enabled": True, "evidence_required": False}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    assert Plan.objects.get(pk=ranked.pk).ranking_reason == "按月考核报送纪律"

    body = {
        "ranking_enabled": False,
        "evidence_required": True,
        "evidence_reason": "完成须有验收材料",
    }
    assert client.put(url, body, format="json").status_code == 200
    plan = Plan.objects.get(pk=ranked.pk)
    assert (plan.ranking_enabled, plan.ranking_reason) == (False, "")
    assert (plan.evidence_required, plan.evidence_reason) == (True, "完成须有验收材料")
    event = AuditEvent.objects.filter(action="plan.rules").latest("seq")
    assert event.after == {
        "ranking_enabled": False,
        "ranking_reason": "",
        "evidence_required": True,
        "evidence_reason": "完成须有验收材料",
    }


def test_only_the_office_sets_the_rules(ranked, clerk, leader):
    for user in (clerk, leader):
        answer = api(user).put(
            f"/api/v1/plans/{ranked.pk}/rules/",
            {"ranking_enabled": False, "evidence_required": False},
            format="json",
        )
        assert answer.status_code == 403
    assert Plan.objects.get(pk=ranked.pk).ranking_enabled
    assert APIClient().get(f"/api/v1/plans/{ranked.pk}/rules/").status_code == 401


def test_a_plan_made_without_the_office_saying_so_has_both_rules_off(db):
    plan = Plan.objects.create(year=2021, title="新计划")

    assert not plan.ranking_enabled and not plan.evidence_required


def test_the_shipped_plan_keeps_both_rules_on_with_a_reason(plan):
    assert plan.ranking_enabled and plan.ranking_reason
    assert plan.evidence_required and plan.evidence_reason


def test_departments_read_the_rules_and_reasons_on_their_workbench_and_task_page(
    plan, supervisor, clerk, economic_bureau
):
    task = plans_services.task_assign(
        actor=supervisor, task=plan.tasks.first(), lead_department=economic_bureau
    )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    web = Client()
    web.force_login(clerk)

    for url in ("/workbench/", f"/workbench/tasks/{task.pk}/"):
        html = web.get(url).content.decode()
        assert "实行红黑榜" in html and plan.ranking_reason in html, url
        assert plan.evidence_reason in html, url

    plans_services.plan_rules_set(
        actor=supervisor, plan=plan, ranking_enabled=False, evidence_required=False
    )
    for url in ("/workbench/", f"/workbench/tasks/{task.pk}/"):
        html = web.get(url).content.decode()
        assert "实行红黑榜" not in html and "须附佐证材料</strong>" not in html, url


def test_with_the_evidence_rule_off_a_done_report_is_accepted_without_evidence(
    plan, supervisor, clerk, economic_bureau
):
    task = plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.first(),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )

    def done_report(period):
        return reporting_services.status_update_submit(
            actor=clerk,
            task=task,
            period=period,
            status="done",
            progress=100,
            narrative="完成",
            explanation="已完成,此前滞后系审批延迟",  # the task is red (past its deadline)
        )

    with pytest.raises(reporting_services.ServiceError, match="evidence_required"):
        reporting_services.status_update_review(
            actor=supervisor, update=done_report(dt.date(2020, 3, 1)), decision="accepted"
        )
    plans_services.plan_rules_set(
        actor=supervisor,
        plan=plan,
        ranking_enabled=True,
        ranking_reason="考核",
        evidence_required=False,
    )
    accepted = reporting_services.status_update_review(
        actor=supervisor, update=done_report(dt.date(2020, 4, 1)), decision="accepted"
    )
    assert accepted.review_state == "accepted"


def test_with_the_red_black_list_off_an_issued_bulletin_has_no_ranking(
    ranked, leader, supervisor, settings
):
    import docx

    from tasks_app.bulletins import services as bulletins

    settings.GAOXIN_TODAY = dt.date(2020, 7, 3)
    plans_services.plan_rules_set(
        actor=supervisor, plan=ranked, ranking_enabled=False, evidence_required=False
    )
    draft = bulletins.bulletin_draft(
        actor=supervisor, plan=ranked, as_of=dt.date(2020, 6, 30), opinion="红灯任务限期整改。"
    )
    issued = bulletins.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=1)
    web = Client()
    web.force_login(supervisor)
    pages = [web.get(f"/bulletins/{issued.pk}/{path}") for path in ("", "print/")]
    word = web.get(f"/bulletins/{issued.pk}/bulletin.docx")
    text = "\n".join(p.text for p in docx.Document(BytesIO(word.content)).paragraphs)
    tables = [
        c.text for t in docx.Document(BytesIO(word.content)).tables for r in t.rows for c in r.cells
    ]

    assert issued.numbers["ranking"] is None
    assert all(page.status_code == 200 for page in pages) and word.status_code == 200
    for shown in [page.content.decode() for page in pages] + [text, " ".join(tables)]:
        for ranking_word in ("红黑榜", "红榜", "黑榜", "名次", "得分"):
            assert ranking_word not in shown, ranking_word
    assert "三、督查意见" in text
