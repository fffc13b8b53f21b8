"""The office's review queue: reported values against targets, evidence shown in the page,
filters, and bulk 通过 of the reports that need no evidence."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app.models import AuditEvent, ReviewState, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

MARCH = dt.date(2020, 3, 1)


def assign(task: Task, lead) -> Task:
    return plans_services.task_assign(
        actor=None,
        task=task,
        lead_department=lead,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("签约材料.pdf", b"%PDF-1.4 minimal\n%%EOF\n")


def submit(task, user, *, status="on_schedule", progress=30, evidence=(), values=None):
    return reporting_services.status_update_submit(
        actor=user,
        task=task,
        period=MARCH,
        status=status,
        progress=progress,
        narrative="按序时推进。",
        indicator_values=values,
        evidence=list(evidence),
    )


@pytest.fixture
def queue(plan, economic_bureau, tech_bureau, clerk, tech_clerk, supervisor):
    """Three reports waiting: 经发局's with a value and a PDF, 经发局's 已完成 with a PDF, and
    科创局's without evidence."""
    valued = assign(plan.tasks.get(code="1.2.05"), economic_bureau)
    indicator = valued.indicators.order_by("position").first()
    done = assign(plan.tasks.get(code="1.2.07"), economic_bureau)
    theirs = assign(plan.tasks.get(code="1.2.04"), tech_bureau)
    return {
        "valued": submit(valued, clerk, evidence=[pdf()], values={indicator.pk: Decimal("6")}),
        "done": submit(done, clerk, status="done", progress=100, evidence=[pdf()]),
        "theirs": submit(theirs, tech_clerk),
        "indicator": indicator,
    }


def codes(response) -> list[str]:
    return [update.task.code for update in response.context["updates"]]


def test_the_queue_shows_reported_values_against_targets_and_previews_evidence(
    client, supervisor, queue
):
    client.force_login(supervisor)
    page = client.get(reverse("review-queue")).content.decode()
    indicator = queue["indicator"]
    assert f"<strong>6{indicator.unit}</strong>" in page
    evidence = queue["valued"].evidence.get()
    assert f'<iframe src="/workbench/evidence/{evidence.pk}/?inline=1"' in page
    assert 'title="佐证材料预览:签约材料.pdf"' in page


def test_evidence_opens_inline_for_the_preview_and_downloads_otherwise(client, supervisor, queue):
    client.force_login(supervisor)
    evidence = queue["valued"].evidence.get()
    url = reverse("workbench-evidence", args=[evidence.pk])
    inline = client.get(url, {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["Content-Type"] == "application/pdf"
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert client.get(url)["Content-Disposition"].startswith("attachment")


def test_another_departments_evidence_is_not_found_even_inline(client, tech_clerk, queue):
    client.force_login(tech_clerk)
    evidence = queue["valued"].evidence.get()
    url = reverse("workbench-evidence", args=[evidence.pk])
    assert client.get(url, {"inline": "1"}).status_code == 404


def test_the_queue_filters_by_department_plan_and_evidence(
    client, supervisor, queue, tech_bureau, plan
):
    client.force_login(supervisor)
    url = reverse("review-queue")
    assert codes(client.get(url, {"department": tech_bureau.pk})) == ["1.2.04"]
    assert codes(client.get(url, {"evidence": "no"})) == ["1.2.04"]
    assert sorted(codes(client.get(url, {"evidence": "yes"}))) == ["1.2.05", "1.2.07"]
    assert len(codes(client.get(url, {"plan": plan.pk}))) == 3


def test_bulk_accept_passes_the_ticked_reports_that_need_no_evidence(client, supervisor, queue):
    client.force_login(supervisor)
    response = client.get(reverse("review-queue")).content.decode()
    assert f'name="update" value="{queue["done"].pk}"' not in response  # 已完成: one by one
    ids = [queue["valued"].pk, queue["theirs"].pk]
    client.post(reverse("review-accept-many"), {"update": ids})
    for name in ("valued", "theirs"):
        queue[name].refresh_from_db()
        assert queue[name].review_state == ReviewState.ACCEPTED
    assert AuditEvent.objects.filter(action="status_update.accepted").count() == 2
    assert codes(client.get(reverse("review-queue"))) == ["1.2.07"]


def test_bulk_accept_with_a_done_report_passes_none(client, supervisor, queue):
    client.force_login(supervisor)
    ids = [queue["valued"].pk, queue["done"].pk]
    response = client.post(reverse("review-accept-many"), {"update": ids}, follow=True)
    assert "须逐条查看佐证材料" in response.content.decode()
    assert not AuditEvent.objects.filter(action="status_update.accepted").exists()


def test_a_clerk_cannot_bulk_accept(client, clerk, queue):
    client.force_login(clerk)
    response = client.post(reverse("review-accept-many"), {"update": [queue["theirs"].pk]})
    assert response.status_code == 403
    queue["theirs"].refresh_from_db()
    assert queue["theirs"].review_state == ReviewState.SUBMITTED


def test_every_control_of_the_queue_is_labelled(client, supervisor, queue):
    client.force_login(supervisor)
    page = client.get(reverse("review-queue")).content.decode()
    for update in queue.values():
        if hasattr(update, "review_state"):
            assert f'<label for="id_review-{update.pk}-reason">' in page
            assert f'id="review-{update.pk}" tabindex="0"' in page
