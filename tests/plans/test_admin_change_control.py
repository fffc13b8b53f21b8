"""The Django admin is no back door around change control, and the office can work in it."""

import datetime as dt

import pytest
from django.contrib import admin
from rest_framework.test import APIClient

from tasks_app.audit import services as audit_services
from tasks_app.common.errors import Conflict
from tasks_app.models import AuditEvent, Indicator, Task
from tasks_app.plans import services as plans_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(plan, supervisor, economic_bureau):
    task = plan.tasks.filter(indicators__isnull=False).order_by("position").first()
    plans_services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    plans_services.plan_publish(actor=supervisor, plan=plan)
    return Task.objects.select_related("plan").get(pk=task.pk)


def _etag(task: Task) -> str:
    task = Task.objects.get(pk=task.pk)
    return f'"task-{task.pk}-v{task.version}"'


def test_the_supervision_office_browses_and_edits_tasks_in_the_admin(client, supervisor, published):
    client.force_login(supervisor)
    assert client.get("/admin/").status_code == 200
    page = client.get(f"/admin/tasks_app/task/{published.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/tasks_app/calendarday/").status_code == 200


def test_a_department_clerk_is_kept_out_of_the_admin(client, clerk):
    client.force_login(clerk)
    assert client.get("/admin/").status_code == 302


def test_a_published_tasks_deadline_status_and_progress_are_read_only_in_the_admin(
    client, supervisor, published
):
    client.force_login(supervisor)
    html = client.get(f"/admin/tasks_app/task/{published.pk}/change/").content.decode()
    for field in ("deadline", "status", "progress"):
        assert f'name="{field}"' not in html, f"{field} is still an input"
    assert 'name="title"' in html, "what change control leaves open stays editable"
    indicator_page = client.get(
        f"/admin/tasks_app/indicator/{published.indicators.first().pk}/change/"
    ).content.decode()
    assert 'name="target_value"' not in indicator_page


def test_a_draft_tasks_deadline_is_still_edited_in_the_admin(client, supervisor, plan):
    client.force_login(supervisor)
    task = plan.tasks.first()
    html = client.get(f"/admin/tasks_app/task/{task.pk}/change/").content.decode()
    assert 'name="deadline"' in html


def test_an_admin_save_of_a_published_tasks_deadline_is_refused_and_writes_nothing(
    supervisor, published
):
    events = AuditEvent.objects.count()
    published.deadline = dt.date(2030, 1, 31)
    published.status, published.progress = "done", 100
    with pytest.raises(Conflict) as refused:
        audit_services.admin_save(
            actor=supervisor,
            obj=published,
            changed_fields=["deadline", "status", "progress"],
            is_new=False,
        )
    assert refused.value.code == "change_request_required"
    stored = Task.objects.get(pk=published.pk)
    assert stored.deadline != dt.date(2030, 1, 31) and stored.progress != 100
    assert AuditEvent.objects.count() == events


def test_an_admin_save_of_a_published_indicators_target_is_refused(supervisor, published):
    indicator = Indicator.objects.select_related("plan").filter(task=published).first()
    indicator.target_value = indicator.target_value + 1
    with pytest.raises(Conflict):
        audit_services.admin_save(
            actor=supervisor, obj=indicator, changed_fields=["target_value"], is_new=False
        )


def test_an_admin_edit_moves_the_tasks_etag_so_a_stale_if_match_fails(supervisor, published):
    api = APIClient()
    api.force_authenticate(supervisor)
    stale = _etag(published)
    published.title = "调整后的任务名称"
    audit_services.admin_save(
        actor=supervisor, obj=published, changed_fields=["title"], is_new=False
    )
    assert _etag(published) != stale
    answer = api.patch(
        f"/api/v1/tasks/{published.pk}/",
        {"title": "客户端的旧版本"},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert answer.status_code == 412


def test_every_model_the_office_edits_in_the_admin_is_audited():
    """The office's access comes with the ledger: its editable admins all save through it."""
    from tasks_app.admin import AuditedAdmin, DepartmentWebhookAdmin, OfficeAccess

    for model_admin in admin.site._registry.values():
        if isinstance(model_admin, OfficeAccess):
            assert isinstance(model_admin, AuditedAdmin | DepartmentWebhookAdmin), model_admin
