"""Every change made through services leaves its AuditEvent, in the same transaction."""

import datetime as dt

import pytest
from django.db import IntegrityError

from tasks_app.models import AuditEvent, Role, Task
from tasks_app.plans import services

pytestmark = pytest.mark.django_db


def last_event() -> AuditEvent:
    return AuditEvent.objects.latest("id")


def test_creating_a_department_is_recorded(supervisor):
    dept = services.department_create(actor=supervisor, name="社会事务局")
    event = last_event()
    assert (event.action, event.object_id, event.actor_username) == (
        "department.create",
        str(dept.pk),
        "dcs",
    )
    assert event.after["name"] == "社会事务局"
    assert event.actor_role == Role.SUPERVISOR


def test_creating_a_user_is_recorded_with_the_password_masked(supervisor, economic_bureau):
    services.user_create(
        actor=supervisor,
        username="newclerk",
        password="secret-pw-9876",
        role=Role.STAFF,
        department=economic_bureau,
    )
    event = last_event()
    assert event.action == "user.create"
    assert event.after["password"] == "***"
    assert "secret-pw-9876" not in str(event.after)
    assert event.after["department"] == economic_bureau.pk


def test_loading_a_plan_records_every_created_row(db, plan_data):
    plan, result = services.plan_load(actor=None, data=plan_data)
    created = sum(result.created.values())
    assert AuditEvent.objects.filter(action__endswith=".create").count() == created
    assert AuditEvent.objects.filter(action="task.create").count() == plan.tasks.count()
    assert last_event().actor_username == "system"


def test_assigning_a_task_records_before_and_after(plan, supervisor, economic_bureau, tech_bureau):
    task = plan.tasks.get(code="1.1.01")
    services.task_assign(
        actor=supervisor,
        task=task,
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    assign = AuditEvent.objects.get(action="task.assign", object_id=str(task.pk))
    assert assign.before == {"lead_department": None, "start_date": None, "deadline": None}
    assert assign.after == {
        "lead_department": economic_bureau.pk,
        "start_date": "2020-01-21",
        "deadline": "2020-12-31",
    }
    co = AuditEvent.objects.get(action="task.co_departments", object_id=str(task.pk))
    assert co.after == {"co_departments": [tech_bureau.pk]}
    task.refresh_from_db()
    assert task.version == 2


def test_assigning_the_same_values_again_writes_nothing(plan, supervisor, economic_bureau):
    task = plan.tasks.get(code="1.1.01")
    services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    before = AuditEvent.objects.count()
    services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    assert AuditEvent.objects.count() == before


def test_creating_a_milestone_and_publishing_a_plan_are_recorded(plan, supervisor):
    task = plan.tasks.get(code="1.1.01")
    services.milestone_create(
        actor=supervisor, task=task, title="完成选址", due_date=dt.date(2020, 6, 30)
    )
    assert last_event().action == "milestone.create"
    services.plan_publish(actor=supervisor, plan=plan)
    event = last_event()
    assert event.action == "plan.publish"
    assert (event.before["status"], event.after["status"]) == ("draft", "published")


def test_a_failed_write_leaves_neither_the_change_nor_its_audit_row(plan, supervisor):
    task = plan.tasks.get(code="1.1.01")
    before = AuditEvent.objects.count()
    with pytest.raises(IntegrityError):
        services.task_assign(
            actor=supervisor,
            task=task,
            lead_department=None,
            start_date=dt.date(2020, 12, 31),
            deadline=dt.date(2020, 1, 1),
        )
    assert AuditEvent.objects.count() == before
    assert Task.objects.get(pk=task.pk).deadline is None


def test_an_admin_edit_is_recorded(client, plan, admin_user):
    client.force_login(admin_user)
    task = plan.tasks.get(code="1.1.01")
    page = client.get(f"/admin/tasks_app/task/{task.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "title": "管理员修改的标题",
            "co_departments": [],
            "indicators-TOTAL_FORMS": 0,
            "indicators-INITIAL_FORMS": 0,
            "milestones-TOTAL_FORMS": 0,
            "milestones-INITIAL_FORMS": 0,
        }
    )
    data["plan"] = task.plan_id
    data["section"] = task.section_id
    data["key_area"] = task.key_area_id
    response = client.post(f"/admin/tasks_app/task/{task.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.filter(action="task.update", object_id=str(task.pk)).latest("id")
    assert event.after["title"] == "管理员修改的标题"
    assert event.actor_username == "root"
