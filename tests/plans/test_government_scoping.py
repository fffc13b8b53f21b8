"""Two governments on one installation, 甲区 and 乙区, each with its office, a department and its
承办人, and a leader: every list, choice and lookup the office of 甲区 opens holds none of 乙区's
rows, and an id of 乙区's in a request is refused as if it did not exist."""

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tasks_app.importer import drafts
from tasks_app.models import (
    DepartmentAlias,
    DepartmentWebhook,
    ImportDraft,
    KeyArea,
    Notification,
    Plan,
    ReminderStep,
    Role,
    Section,
    Task,
)
from tasks_app.plans import services
from tasks_app.plans.tenants import default_government_id, government_named
from tasks_app.reminders.ladder import Ladders
from tasks_app.reminders.notifications import office_of

DATA = Path(__file__).resolve().parents[2] / "tasks_app" / "data"
REPORT = DATA / "zhuhai_gaoxin_2020_report.txt"


def _government(name: str, prefix: str) -> SimpleNamespace:
    """One government's people and rows; every name and title starts with its prefix."""
    government = government_named(name)
    department = services.department_create(
        actor=None, name=f"{prefix}发展局", government=government
    )
    person = {"actor": None, "password": "pw-123456-abcdef", "government": government}
    office = services.user_create(
        username=f"{prefix}-office", role=Role.SUPERVISOR, display_name=f"{prefix}督查室", **person
    )
    staff = services.user_create(
        username=f"{prefix}-staff", role=Role.STAFF, department=department, **person
    )
    leader = services.user_create(
        username=f"{prefix}-leader", role=Role.LEADER, display_name=f"{prefix}区长", **person
    )
    plan = Plan.objects.create(
        government=government,
        year=2020,
        title=f"{prefix}计划",
        report_date=dt.date(2020, 1, 21),
        status=Plan.Status.PUBLISHED,
        published_at=dt.datetime(2020, 2, 1, tzinfo=dt.UTC),
    )
    section = Section.objects.create(plan=plan, number=1, title=f"{prefix}方面")
    area = KeyArea.objects.create(section=section, number=1, title=f"{prefix}领域")
    task = Task.objects.create(
        plan=plan,
        code="T0001",
        title=f"{prefix}任务",
        source_text=f"{prefix}任务",
        section=section,
        key_area=area,
        position=1,
        lead_department=department,
        responsible_leader=leader,
    )
    return SimpleNamespace(
        government=government,
        department=department,
        office=office,
        staff=staff,
        leader=leader,
        plan=plan,
        task=task,
        alias=DepartmentAlias.objects.create(department=department, alias=f"{prefix}发改"),
        webhook=DepartmentWebhook.objects.create(
            department=department, kind="wecom", url=f"https://robot.example.invalid/{prefix}"
        ),
        step=ReminderStep.objects.create(
            government=government, name=f"{prefix}提醒", offset=0, to_contact=True
        ),
        draft=ImportDraft.objects.create(
            government=government,
            year=2020,
            title=f"{prefix}草稿",
            source_name=f"{prefix}.txt",
            encoding="utf-8",
            data={},
            created_by=office,
        ),
        notification=Notification.objects.create(
            recipient=office, kind="review", title=f"{prefix}待审核", body=""
        ),
    )


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    """Eight accounts per test: hashed the quick way (the hash is not what is tested here)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def jia(db):
    return _government("甲区", "甲")


@pytest.fixture
def yi(db):
    return _government("乙区", "乙")


def page(user, url: str, **kwargs):
    client = Client()
    client.force_login(user)
    return client.get(url, **kwargs)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def text(response) -> str:
    return response.content.decode()


# --- Lists ------------------------------------------------------------------------------------


def test_the_office_of_jia_sees_only_its_plans_on_the_home_page(jia, yi):
    body = text(page(jia.office, "/"))
    assert "甲计划" in body and "乙计划" not in body


def test_the_task_list_api_holds_only_jias_tasks_for_its_office_and_its_leader(jia, yi):
    for user in (jia.office, jia.leader):
        response = api(user).get("/api/v1/tasks/")
        assert response.status_code == 200
        assert "甲任务" in text(response) and "乙任务" not in text(response)


def test_a_task_of_yi_answers_404_to_jias_office_like_another_departments_task(jia, yi):
    assert api(jia.office).get(f"/api/v1/tasks/{yi.task.pk}/").status_code == 404
    assert api(jia.staff).get(f"/api/v1/tasks/{yi.task.pk}/").status_code == 404
    assert api(yi.office).get(f"/api/v1/tasks/{yi.task.pk}/").status_code == 200


def test_the_workbench_lists_jias_tasks_and_offers_only_jias_departments_and_leaders(jia, yi):
    body = text(page(jia.office, "/workbench/"))
    assert "甲任务" in body and "甲发展局" in body and "甲区长" in body
    assert "乙任务" not in body and "乙发展局" not in body and "乙区长" not in body


def test_a_workbench_filter_naming_yis_department_is_dropped_not_applied(jia, yi):
    body = text(page(jia.office, f"/workbench/?department={yi.department.pk}"))
    assert "甲任务" in body and "乙任务" not in body


def test_the_import_page_holds_jias_drafts_aliases_plans_and_departments_only(jia, yi):
    body = text(page(jia.office, "/imports/"))
    for mine in ("甲草稿", "甲发改", "甲计划", "甲发展局"):
        assert mine in body
    for theirs in ("乙草稿", "乙发改", "乙计划", "乙发展局"):
        assert theirs not in body


def test_a_draft_of_yi_answers_404_to_jias_office(jia, yi):
    assert page(jia.office, f"/imports/drafts/{yi.draft.pk}/").status_code == 404


def test_jias_office_cannot_give_yis_department_an_alias(jia, yi):
    client = Client()
    client.force_login(jia.office)
    response = client.post(
        "/imports/aliases/", {"department": yi.department.pk, "alias": "乙的别名"}
    )
    assert response.status_code == 400
    assert not DepartmentAlias.objects.filter(alias="乙的别名").exists()


def test_an_alias_is_unique_within_a_government_not_across_governments(jia, yi):
    DepartmentAlias.objects.create(department=yi.department, alias="甲发改")
    assert DepartmentAlias.objects.filter(alias="甲发改").count() == 2


def test_notifications_and_the_chase_choices_are_jias_own(jia, yi):
    body = text(page(jia.office, "/notifications/"))
    assert "甲待审核" in body and "甲发展局" in body
    assert "乙待审核" not in body and "乙发展局" not in body
    listed = api(jia.office).get("/api/v1/notifications/")
    assert "甲待审核" in text(listed) and "乙待审核" not in text(listed)


def test_jias_office_cannot_chase_yis_department(jia, yi):
    response = api(jia.office).post(
        f"/api/v1/departments/{yi.department.pk}/chase/", {"note": "请尽快报送"}, format="json"
    )
    assert response.status_code == 404


def test_a_report_awaiting_review_reaches_the_office_of_its_own_government_only(jia, yi):
    assert list(office_of(jia.government.pk)) == [jia.office]
    assert list(office_of(yi.government.pk)) == [yi.office]


def test_stocktakes_and_bulletins_offer_only_jias_plans(jia, yi):
    body = text(page(jia.office, "/stocktakes/"))
    assert "甲计划" in body and "乙计划" not in body
    home = page(jia.office, "/bulletins/")
    assert home.status_code == 302 and home.url.endswith(f"/bulletins/plans/{jia.plan.pk}/")
    assert page(jia.office, f"/bulletins/plans/{yi.plan.pk}/").status_code == 404


# --- The admin --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "mine", "theirs"),
    [
        ("/admin/tasks_app/reminderstep/", "甲提醒", "乙提醒"),
        ("/admin/tasks_app/departmentwebhook/", "甲发展局", "乙发展局"),
        ("/admin/tasks_app/department/", "甲发展局", "乙发展局"),
        ("/admin/tasks_app/task/", "甲任务", "乙任务"),
        ("/admin/tasks_app/user/", "甲-staff", "乙-staff"),
    ],
)
def test_the_admin_lists_only_the_offices_own_government(jia, yi, url, mine, theirs):
    body = text(page(jia.office, url))
    assert mine in body and theirs not in body


def test_a_department_the_office_adds_in_the_admin_belongs_to_its_government(jia, yi):
    client = Client()
    client.force_login(yi.office)
    response = client.post(
        "/admin/tasks_app/department/add/", {"name": "乙新设局", "short_name": ""}
    )
    assert response.status_code == 302
    assert yi.government.departments.filter(name="乙新设局").exists()


# --- Writes naming another government's rows --------------------------------------------------


def _etag(task: Task) -> str:
    task.refresh_from_db()
    return f'"task-{task.pk}-v{task.version}"'


def test_assigning_yis_department_to_jias_task_answers_400_naming_the_field(jia, yi):
    response = api(jia.office).patch(
        f"/api/v1/tasks/{jia.task.pk}/",
        {"lead_department": yi.department.pk},
        format="json",
        HTTP_IF_MATCH=_etag(jia.task),
    )
    assert response.status_code == 400
    assert "lead_department" in response.json()["errors"]
    jia.task.refresh_from_db()
    assert jia.task.lead_department_id == jia.department.pk


def test_naming_yis_leader_as_responsible_for_jias_task_answers_400(jia, yi):
    response = api(jia.office).patch(
        f"/api/v1/tasks/{jia.task.pk}/",
        {"responsible_leader": yi.leader.pk},
        format="json",
        HTTP_IF_MATCH=_etag(jia.task),
    )
    assert response.status_code == 400
    assert "responsible_leader" in response.json()["errors"]


def test_the_assign_service_itself_refuses_another_governments_department(jia, yi):
    from tasks_app.common.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        services.task_assign(actor=jia.office, task=jia.task, lead_department=yi.department)
    assert refused.value.field == "lead_department"


def test_people_and_departments_made_by_an_office_belong_to_its_government(jia, yi):
    department = services.department_create(actor=yi.office, name="乙统计局")
    person = services.user_create(
        actor=yi.office, username="yi-new", password="pw-123456-abcdef", role=Role.LEADER
    )
    assert department.government == yi.government and person.government == yi.government


# --- The reminder ladder ----------------------------------------------------------------------


def test_each_government_reminds_by_its_own_ladder_and_a_new_one_by_the_default(jia, yi):
    ReminderStep.objects.exclude(government_id=default_government_id()).filter(
        government=jia.government
    ).delete()
    ladders = Ladders()
    assert [s.name for s in ladders.steps(yi.plan.pk)] == ["乙提醒"]
    default = ReminderStep.objects.filter(
        government_id=default_government_id(), plan=None, is_active=True
    )
    assert default.exists()
    assert {s.pk for s in ladders.steps(jia.plan.pk)} == set(default.values_list("pk", flat=True))


# --- Importing a report into a named government -----------------------------------------------


def test_import_report_with_a_government_puts_draft_plan_and_tasks_in_it(db):
    call_command(
        "import_report",
        str(REPORT),
        "--year",
        "2020",
        "--government",
        "乙区",
        "--publish",
        "--allow-incomplete",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    yi = government_named("乙区")
    draft = ImportDraft.objects.get()
    assert draft.government == yi and draft.plan.government == yi
    assert draft.plan.tasks.exists()
    assert not draft.plan.tasks.exclude(government=yi).exists()


def test_a_draft_uploaded_by_an_office_belongs_to_the_offices_government(jia, yi):
    draft = drafts.import_draft_create(
        actor=yi.office, data=REPORT.read_bytes(), source_name="report.txt", year=2020
    )
    assert draft.government == yi.government


def test_holidays_stay_national_and_only_the_installations_own_office_edits_them(jia, supervisor):
    """The State Council's arrangement moves every government's deadlines: 甲区's office reads
    the calendar, the default government's office (珠海高新区) keeps it."""
    for user, may_edit in ((jia.office, False), (supervisor, True)):
        client = Client()
        client.force_login(user)
        assert client.get("/admin/tasks_app/calendarday/").status_code == 200
        expected = 200 if may_edit else 403
        assert client.get("/admin/tasks_app/calendarday/add/").status_code == expected
