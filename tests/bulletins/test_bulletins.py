"""督查通报 as the supervision office issues it: numbered, signed, dated, frozen, audited."""

import datetime as dt
import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tasks_app.bulletins import selectors, services
from tasks_app.common import clock
from tasks_app.common.errors import Conflict, NotPermitted, ServiceError
from tasks_app.models import AuditEvent, Bulletin, RankingRule
from tasks_app.reporting import services as reporting
from tests.stats.stats_builders import PDF, counted_plan

JUNE_30 = dt.date(2020, 6, 30)


@pytest.fixture
def counted(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor, settings):
    settings.GAOXIN_TODAY = dt.date(2020, 7, 3)
    return counted_plan(economic_bureau, tech_bureau, clerk, tech_clerk, supervisor)


def issued_as_of_june(plan, supervisor, opinion="各牵头单位要对照节点查漏补缺,红灯任务限期整改。"):
    draft = services.bulletin_draft(actor=supervisor, plan=plan, as_of=JUNE_30, opinion=opinion)
    return services.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=1)


def office_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def accept_a_july_report(task, clerk, supervisor):
    """T0001 is finished in July and the office accepts it."""
    with clock.travel_to(timezone.make_aware(dt.datetime(2020, 7, 20, 10))):
        update = reporting.status_update_submit(
            actor=clerk,
            task=task,
            period=dt.date(2020, 7, 1),
            status="done",
            progress=100,
            narrative="已全部完成。",
            evidence=[SimpleUploadedFile("验收.pdf", PDF)],
        )
    with clock.travel_to(timezone.make_aware(dt.datetime(2020, 7, 21, 10))):
        reporting.status_update_review(actor=supervisor, update=update, decision="accepted")


def test_the_office_issues_a_numbered_signed_bulletin_and_the_ledger_records_it(
    counted, supervisor
):
    plan, _tasks = counted
    bulletin = issued_as_of_june(plan, supervisor)
    assert bulletin.state == Bulletin.State.ISSUED
    assert bulletin.number == 1 and bulletin.document_number == "高新督〔2020〕1号"
    assert bulletin.issue_date == dt.date(2020, 7, 3)
    assert bulletin.issuing_office == "珠海高新区党政办公室(督查室)"
    assert bulletin.numbers == selectors.bulletin_numbers(plan=plan, as_of=JUNE_30)
    event = AuditEvent.objects.get(action="bulletin.issue")
    assert event.after["document_number"] == "高新督〔2020〕1号"
    assert event.after["numbers_sha256"] == services.numbers_digest(bulletin.numbers)

    services.bulletin_series_update(
        actor=supervisor,
        plan=plan,
        number_pattern="督查通报〔{year}〕第{n}期",
        issuing_office="区督查室",
    )
    second = issued_as_of_june(plan, supervisor)
    assert (second.number, second.document_number) == (2, "督查通报〔2020〕第2期")
    assert second.issuing_office == "区督查室"


def test_a_bulletin_as_of_june_keeps_its_numbers_after_later_reports_and_rule_changes(
    counted, clerk, supervisor
):
    plan, tasks = counted
    bulletin = issued_as_of_june(plan, supervisor)
    frozen = bulletin.numbers

    accept_a_july_report(tasks["T0001"], clerk, supervisor)
    # The office reweighs the ranking in the admin afterwards.
    RankingRule.objects.create(
        plan=plan,
        reporting_weight=10,
        on_time_weight=10,
        first_pass_weight=10,
        completion_weight=60,
        lights_weight=10,
    )
    live = selectors.bulletin_numbers(plan=plan, as_of=JUNE_30)
    assert live["ranking"] != frozen["ranking"]  # recomputing would have changed it

    bulletin.refresh_from_db()
    assert bulletin.numbers == frozen
    page = office_client(supervisor).get(f"/bulletins/{bulletin.pk}/print/").content.decode()
    totals = frozen["totals"]
    assert f"共 {totals['total']} 项任务,已完成 {totals['done']} 项" in page
    for row in frozen["ranking"]["rows"]:
        assert f'<td class="num score">{row["score"]}</td>' in page


def test_the_docx_opens_with_python_docx_and_holds_the_frozen_numbers(counted, clerk, supervisor):
    plan, tasks = counted
    bulletin = issued_as_of_june(plan, supervisor)
    accept_a_july_report(tasks["T0001"], clerk, supervisor)
    response = office_client(supervisor).get(f"/bulletins/{bulletin.pk}/bulletin.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    totals = bulletin.numbers["totals"]
    assert "第1期" in text and "高新督〔2020〕1号" in text and "截至2020-06-30" in text
    assert f"共{totals['total']}项任务,已完成{totals['done']}项" in text
    assert "对照节点查漏补缺" in text
    for row in bulletin.numbers["ranking"]["rows"]:
        assert row["department"] in cells and str(row["score"]) in cells
    for row in bulletin.numbers["exceptions"]:
        assert row["code"] in cells
    assert round(document.sections[0].page_width.mm) == 210


def test_issuing_needs_the_offices_opinion_and_happens_once(counted, supervisor):
    plan, _tasks = counted
    draft = services.bulletin_draft(actor=supervisor, plan=plan, as_of=JUNE_30)
    with pytest.raises(ServiceError) as refused:
        services.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=1)
    assert refused.value.code == "opinion_required"
    assert not AuditEvent.objects.filter(action="bulletin.issue").exists()
    services.bulletin_draft_update(
        actor=supervisor, bulletin=draft, expected_version=1, as_of=JUNE_30, opinion="限期整改。"
    )
    services.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=2)
    with pytest.raises(Conflict):
        services.bulletin_issue(actor=supervisor, bulletin=draft, expected_version=3)
    with pytest.raises(ServiceError) as future:
        services.bulletin_draft(actor=supervisor, plan=plan, as_of=dt.date(2020, 8, 1))
    assert future.value.code == "as_of_in_future"
    with pytest.raises(ServiceError) as pattern:
        services.bulletin_series_update(
            actor=supervisor, plan=plan, number_pattern="高新督{year}", issuing_office="督查室"
        )
    assert pattern.value.code == "invalid_pattern"


def test_only_the_office_drafts_issues_and_opens_bulletins(counted, supervisor, leader, clerk):
    plan, _tasks = counted
    with pytest.raises(NotPermitted):
        services.bulletin_draft(actor=leader, plan=plan, as_of=JUNE_30, opinion="x")
    bulletin = issued_as_of_june(plan, supervisor)
    for outsider in (leader, clerk):
        client = office_client(outsider)
        assert client.get(f"/bulletins/plans/{plan.pk}/").status_code == 403
        assert client.get(f"/bulletins/{bulletin.pk}/bulletin.docx").status_code == 403


def test_the_office_drafts_previews_and_issues_through_the_pages(counted, supervisor):
    plan, _tasks = counted
    client = office_client(supervisor)
    listing = client.get("/bulletins/", follow=True)
    assert "尚未印发督查通报" in listing.content.decode()
    created = client.post(
        f"/bulletins/plans/{plan.pk}/",
        {"action": "draft", "as_of": "2020-06-30", "opinion": "请各单位抓紧整改。"},
    )
    draft = Bulletin.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/bulletins/{draft.pk}/"
    preview = client.get(f"/bulletins/{draft.pk}/").content.decode()
    assert "草稿 · 预览" in preview and "高新督〔2020〕1号" in preview
    client.post(f"/bulletins/{draft.pk}/", {"action": "issue", "version": draft.version})
    draft.refresh_from_db()
    assert draft.state == Bulletin.State.ISSUED
    listing = client.get(f"/bulletins/plans/{plan.pk}/").content.decode()
    assert "第1期" in listing and "高新督〔2020〕1号" in listing
