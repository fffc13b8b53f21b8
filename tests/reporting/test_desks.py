"""The desks: notifications that reach the person who acts, the department head's sign-off,
落实反馈 on a leader's instruction, 情况说明 on a red task, change requests on the task page."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tasks_app.models import (
    AuditEvent,
    ChangeRequest,
    DigestItem,
    InstructionFeedback,
    Notification,
    Plan,
    ReviewState,
    Role,
    SignOff,
    StatusUpdate,
    Task,
)
from tasks_app.plans import services as plans_services
from tasks_app.reminders import chasing, sweep
from tasks_app.reporting import services, signoff
from tests.reminders.reminders_support import at, publish

pytestmark = pytest.mark.django_db

MARCH = dt.date(2020, 3, 1)
WHY = "受疫情影响,签约延后,已加快洽谈。"


@pytest.fixture
def tech_head(tech_bureau):
    return plans_services.user_create(
        actor=None,
        username="techhead",
        password="pw-th-123456",
        role=Role.HEAD,
        department=tech_bureau,
    )


@pytest.fixture
def task(assign_task, tech_bureau, leader) -> Task:
    """A task the 经济发展局 leads and the 科创局 supports; due in 2020, so red today."""
    return assign_task(co_departments=[tech_bureau], responsible_leader=leader)


@pytest.fixture
def their_task(plan, tech_bureau) -> Task:
    return plans_services.task_assign(
        actor=None,
        task=plan.tasks.get(code="3.3.09"),
        lead_department=tech_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


@pytest.fixture
def signoff_on(plan) -> Plan:
    Plan.objects.filter(pk=plan.pk).update(department_signoff=True)
    return plan


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit(task, author, **extra) -> StatusUpdate:
    report = {
        "status": "on_schedule",
        "progress": 30,
        "narrative": "三月进展。",
        "explanation": WHY,
    }
    return services.status_update_submit(actor=author, task=task, period=MARCH, **report | extra)


def unread(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).values_list(
            "kind", flat=True
        )
    )


def actions(prefix: str) -> list[str]:
    events = AuditEvent.objects.filter(action__startswith=prefix).order_by("seq")
    return list(events.values_list("action", flat=True))


# --- Notifications reach the person who acts -----------------------------------------------------


def test_the_author_of_a_returned_report_hears_of_it_as_well_as_the_head(
    task, clerk, head, supervisor
):
    update = submit(task, clerk)
    services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请补充签约金额"
    )
    returned = Notification.objects.filter(kind="returned")
    assert set(returned.values_list("recipient__username", flat=True)) == {"clerk", "head"}
    assert "请补充签约金额" in returned.get(recipient=clerk).body


def test_the_author_hears_of_the_acceptance(task, clerk, head, supervisor):
    update = submit(task, clerk)
    services.status_update_review(actor=supervisor, update=update, decision="accepted")
    assert unread(clerk) == ["accepted"]


def test_the_offices_notification_leaves_every_office_bell_once_the_report_is_handled(
    task, clerk, supervisor
):
    colleague = plans_services.user_create(
        actor=None, username="dcs2", password="pw-dcs2-123456", role=Role.SUPERVISOR
    )
    update = submit(task, clerk)
    assert unread(supervisor) == unread(colleague) == ["review"]
    services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="缺数据"
    )
    assert unread(supervisor) == unread(colleague) == []


def test_resubmitting_clears_the_return_from_the_authors_bell(task, clerk, supervisor):
    update = submit(task, clerk)
    services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="缺数据"
    )
    assert unread(clerk) == ["returned"]
    services.status_update_correct(
        actor=clerk, update=update, expected_version=update.version + 1, progress=35
    )
    assert unread(clerk) == []


def test_an_instruction_and_a_chase_reach_the_clerk_who_reports_on_the_task(
    task, clerk, head, supervisor, leader
):
    submit(task, clerk)
    services.instruction_create(actor=leader, task=task, text="请加快签约进度。")
    chasing.chase_task(actor=supervisor, task=task, note="请本周内报送签约名单。")
    for kind in ("instruction", "chase"):
        people = Notification.objects.filter(kind=kind).values_list(
            "recipient__username", flat=True
        )
        assert set(people) == {"clerk", "head"}, kind


def test_before_any_report_the_clerk_who_received_the_task_is_its_handler(
    task, clerk, head, leader
):
    services.task_receive(actor=clerk, task=task)
    services.instruction_create(actor=leader, task=task, text="请尽快启动。")
    assert unread(clerk) == ["instruction"]


# --- 落实反馈 ----------------------------------------------------------------------------------


def test_the_lead_department_answers_an_instruction_and_the_leader_hears_of_it(task, clerk, leader):
    instruction = services.instruction_create(actor=leader, task=task, text="请加快签约进度。")
    response = api(clerk).post(
        f"/api/v1/instructions/{instruction.pk}/feedback/",
        {"text": "已召开专题会,本月新签约2家。"},
        format="json",
    )
    assert response.status_code == 201, response.content.decode()
    assert response.json()["department"]["name"] == "经济发展局"
    assert unread(leader) == ["feedback"]
    assert actions("instruction.feedback") == ["instruction.feedback"]
    thread = api(leader).get(f"/api/v1/instructions/{instruction.pk}/feedback/").json()
    assert [row["text"] for row in thread] == ["已召开专题会,本月新签约2家。"]
    instruction.refresh_from_db()
    assert instruction.read_at is not None  # answering it is reading it


def test_feedback_from_a_co_department_is_forbidden_and_from_another_department_not_found(
    task, their_task, tech_clerk, leader
):
    ours = services.instruction_create(actor=leader, task=task, text="请加快。")
    theirs = services.instruction_create(actor=leader, task=their_task, text="请加快。")
    other = plans_services.user_create(
        actor=None,
        username="fin",
        password="pw-fin-123456",
        role=Role.STAFF,
        department=plans_services.department_create(actor=None, name="财政局"),
    )
    body = {"text": "已落实。"}
    assert (
        api(tech_clerk).post(f"/api/v1/instructions/{ours.pk}/feedback/", body).status_code == 403
    )
    assert api(other).post(f"/api/v1/instructions/{ours.pk}/feedback/", body).status_code == 404
    assert api(other).get(f"/api/v1/instructions/{theirs.pk}/feedback/").status_code == 404
    assert not InstructionFeedback.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "<script>x</script>", "长" * 2001])
def test_bad_feedback_answers_400_and_writes_nothing(task, clerk, leader, text):
    instruction = services.instruction_create(actor=leader, task=task, text="请加快。")
    before = AuditEvent.objects.count()
    response = api(clerk).post(
        f"/api/v1/instructions/{instruction.pk}/feedback/", {"text": text}, format="json"
    )
    assert response.status_code == 400 and response.json()["message"]
    assert not InstructionFeedback.objects.exists() and AuditEvent.objects.count() == before


def test_the_leader_sees_the_thread_on_the_task_page_and_the_dashboard(task, clerk, leader):
    instruction = services.instruction_create(actor=leader, task=task, text="请加快签约进度。")
    response = web(clerk).post(
        reverse("workbench-instruction-feedback", args=[instruction.pk]),
        {f"feedback-{instruction.pk}-text": "本月新签约2家。"},
    )
    assert response.status_code == 302
    page = web(leader).get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert "本月新签约2家。" in page and "落实反馈" in page
    dashboard = web(leader).get(reverse("dashboard-plan", args=[task.plan_id])).content.decode()
    assert "批示落实反馈" in dashboard and "本月新签约2家。" in dashboard


# --- Department sign-off -------------------------------------------------------------------------


def test_with_sign_off_off_a_clerks_report_goes_straight_to_the_office(
    task, clerk, head, supervisor
):
    update = submit(task, clerk)
    assert update.review_state == ReviewState.SUBMITTED
    assert unread(supervisor) == ["review"] and unread(head) == []


def test_with_sign_off_on_a_clerks_report_waits_for_the_head_not_the_office(
    signoff_on, task, clerk, head, supervisor
):
    update = submit(task, clerk)
    assert update.review_state == ReviewState.SIGNOFF
    assert unread(head) == ["signoff"] and unread(supervisor) == []
    assert api(supervisor).get("/api/v1/review-queue/").json()["results"] == []
    queue = api(head).get("/api/v1/signoff-queue/").json()["results"]
    assert [row["id"] for row in queue] == [update.pk]
    refused = api(supervisor).post(
        f"/api/v1/updates/{update.pk}/review/", {"decision": "accepted"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "not_awaiting_review")


def test_the_head_approves_and_the_report_enters_the_offices_queue(
    signoff_on, task, clerk, head, supervisor
):
    update = submit(task, clerk)
    response = api(head).post(
        f"/api/v1/updates/{update.pk}/signoff/", {"decision": "approved"}, format="json"
    )
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["review_state"] == "submitted"
    assert [(s["decision"], s["signer"]["username"]) for s in body["signoffs"]] == [
        ("approved", "head")
    ]
    assert unread(head) == [] and unread(supervisor) == ["review"] and unread(clerk) == []
    queue = api(supervisor).get("/api/v1/review-queue/").json()["results"]
    assert [row["id"] for row in queue] == [update.pk]
    assert actions("status_update.signoff") == ["status_update.signoff_approved"]
    again = api(head).post(
        f"/api/v1/updates/{update.pk}/signoff/", {"decision": "approved"}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "not_awaiting_signoff")
    page = web(head).post(
        reverse("workbench-update-signoff", args=[update.pk]),
        {f"signoff-{update.pk}-decision": "approved"},
    )
    assert page.status_code == 409 and "不在待部门负责人审核状态" in page.content.decode()


def test_the_head_returns_with_a_comment_and_the_clerks_correction_goes_back_to_the_head(
    signoff_on, task, clerk, head, supervisor
):
    update = submit(task, clerk)
    signoff.status_update_signoff(actor=head, update=update, decision="returned", reason="金额有误")
    update.refresh_from_db()
    assert update.review_state == ReviewState.RETURNED
    assert unread(clerk) == ["returned"] and unread(supervisor) == []
    services.status_update_correct(
        actor=clerk, update=update, expected_version=update.version, progress=35
    )
    update.refresh_from_db()
    assert (update.review_state, update.revision) == (ReviewState.SIGNOFF, 2)
    assert unread(clerk) == [] and unread(head) == ["signoff"]
    assert actions("status_update.signoff") == ["status_update.signoff_returned"]


def test_a_return_without_a_comment_answers_400_and_writes_nothing(signoff_on, task, clerk, head):
    update = submit(task, clerk)
    before = AuditEvent.objects.count()
    for body in (
        {"decision": "returned"},
        {"decision": "maybe"},
        {"decision": "returned", "reason": " "},
    ):
        response = api(head).post(f"/api/v1/updates/{update.pk}/signoff/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] in {"invalid", "reason_required"}
    update.refresh_from_db()
    assert update.review_state == ReviewState.SIGNOFF
    assert not SignOff.objects.exists() and AuditEvent.objects.count() == before


def test_only_the_lead_departments_head_signs_off(
    signoff_on, task, their_task, clerk, head, tech_head, tech_clerk
):
    update = submit(task, clerk)
    approve = {"decision": "approved"}
    assert api(clerk).post(f"/api/v1/updates/{update.pk}/signoff/", approve).status_code == 403
    # 科创局 co-leads the task: it sees the report but may not sign it off.
    assert api(tech_head).post(f"/api/v1/updates/{update.pk}/signoff/", approve).status_code == 403
    theirs = submit(their_task, tech_clerk)
    assert api(head).post(f"/api/v1/updates/{theirs.pk}/signoff/", approve).status_code == 404
    assert not SignOff.objects.exists()


def test_a_heads_own_report_and_a_department_without_a_head_go_straight_to_the_office(
    signoff_on, task, their_task, head, tech_clerk
):
    assert submit(task, head).review_state == ReviewState.SUBMITTED
    assert submit(their_task, tech_clerk).review_state == ReviewState.SUBMITTED


def test_a_report_waiting_for_its_head_is_reminded_to_the_heads_by_the_ladder(
    signoff_on, task, clerk, head
):
    publish(task.plan)
    update = submit(task, clerk)
    StatusUpdate.objects.filter(pk=update.pk).update(submitted_at=at("2020-02-03"))
    sweep.reminders_sweep(now=at("2020-02-05"))  # two working days later: sign-off due
    rows = DigestItem.objects.filter(reminder__item=f"signoff:{update.pk}:1")
    assert set(rows.values_list("digest__recipient__username", flat=True)) == {"head"}


def test_the_head_signs_off_on_the_web_from_the_department_queue(
    signoff_on, task, clerk, head, supervisor
):
    update = submit(task, clerk)
    assert web(clerk).get(reverse("signoff-queue")).status_code == 403
    page = web(head).get(reverse("signoff-queue")).content.decode()
    assert task.code in page and WHY in page
    response = web(head).post(
        reverse("workbench-update-signoff", args=[update.pk]),
        {f"signoff-{update.pk}-decision": "returned", f"signoff-{update.pk}-reason": ""},
    )
    assert response.status_code == 400 and "退回须说明意见" in response.content.decode()
    response = web(head).post(
        reverse("workbench-update-signoff", args=[update.pk]),
        {f"signoff-{update.pk}-decision": "approved", "next": "queue"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("signoff-queue")
    update.refresh_from_db()
    assert update.review_state == ReviewState.SUBMITTED


# --- 情况说明 on a red task ---------------------------------------------------------------------


def test_a_report_on_a_red_task_without_an_explanation_answers_400_and_writes_nothing(task, clerk):
    assert task.light == "red"  # due 2020-12-31, nothing done
    before = AuditEvent.objects.count()
    body = {"period": "2020-03", "status": "on_schedule", "progress": 30, "narrative": "推进。"}
    for explanation in (None, "", "   "):
        sent = body if explanation is None else body | {"explanation": explanation}
        response = api(clerk).post(f"/api/v1/tasks/{task.pk}/updates/", sent, format="json")
        assert response.status_code == 400, response.content.decode()
        error = response.json()
        assert error["code"] == "explanation_required" and "情况说明" in error["message"]
    assert not StatusUpdate.objects.exists() and AuditEvent.objects.count() == before
    accepted = api(clerk).post(
        f"/api/v1/tasks/{task.pk}/updates/", body | {"explanation": WHY}, format="json"
    )
    assert accepted.status_code == 201 and accepted.json()["explanation"] == WHY


def test_a_task_that_is_not_red_needs_no_explanation(settings, task, clerk):
    settings.GAOXIN_TODAY = "2020-03-10"
    plans_services.task_schedule_refresh(task=task)
    task.refresh_from_db()
    assert task.light != "red"
    assert submit(task, clerk, explanation="").explanation == ""


def test_the_report_form_asks_for_the_explanation_on_a_red_task(task, clerk):
    client = web(clerk)
    page = client.get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert "本任务当前为红灯" in page
    response = client.post(
        reverse("workbench-task-report", args=[task.pk]),
        {
            "report-period": "2020-03",
            "report-status": "on_schedule",
            "report-progress": "30",
            "report-narrative": "推进。",
        },
    )
    assert response.status_code == 400 and "须填写情况说明" in response.content.decode()
    assert not StatusUpdate.objects.exists()


def test_the_task_page_notes_a_self_reported_status_that_the_light_contradicts(
    task, clerk, supervisor
):
    update = submit(task, clerk, progress=10)
    services.status_update_review(actor=supervisor, update=update, decision="accepted")
    page = web(clerk).get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert "状态与亮灯不一致" in page and "自报状态为“序时推进”" in page


# --- Change requests on the task page ------------------------------------------------------------


@pytest.fixture
def published_task(task) -> Task:
    publish(task.plan)
    return Task.objects.get(pk=task.pk)


def test_the_lead_department_asks_for_a_new_deadline_and_the_office_approves_on_the_task_page(
    published_task, clerk, supervisor
):
    task = published_task
    response = web(clerk).post(
        reverse("workbench-change-request", args=[task.pk]),
        {
            "change-field": "deadline",
            "change-new_value": "2021-06-30",
            "change-reason": "受疫情影响。",
        },
    )
    assert response.status_code == 302
    change = ChangeRequest.objects.get()
    assert unread(supervisor) == ["change_request"]
    page = web(supervisor).get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert "受疫情影响。" in page and f"decide-{change.pk}-note" in page
    response = web(supervisor).post(
        reverse("workbench-change-decide", args=[change.pk]),
        {f"decide-{change.pk}-approve": "1", f"decide-{change.pk}-note": "同意延期。"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.deadline, task.original_deadline) == (dt.date(2021, 6, 30), dt.date(2020, 12, 31))
    assert unread(supervisor) == [] and unread(clerk) == ["change_decided"]
    page = web(clerk).get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert "2021-06-30" in page and "2020-12-31" in page and "同意延期。" in page


def test_a_new_target_is_asked_for_an_indicator_and_the_original_stays_on_the_page(
    published_task, clerk, supervisor
):
    task = published_task
    indicator = task.indicators.order_by("position").first()
    web(clerk).post(
        reverse("workbench-change-request", args=[task.pk]),
        {
            "change-field": "target_value",
            "change-indicator": str(indicator.pk),
            "change-new_value": "8",
            "change-reason": "口径调整。",
        },
    )
    change = ChangeRequest.objects.get()
    services.change_request_decide(actor=supervisor, change=change, approve=True, note="同意")
    indicator.refresh_from_db()
    assert indicator.target_value == 8 and indicator.original_target_value is not None
    page = web(clerk).get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert f"原 {indicator.original_target_value.normalize()}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"change-field": "deadline", "change-new_value": "明年", "change-reason": "x"},
            "新值格式不正确",
        ),
        (
            {"change-field": "deadline", "change-new_value": "2021-06-30", "change-reason": ""},
            "必填",
        ),
        (
            {"change-field": "target_value", "change-new_value": "8", "change-reason": "x"},
            "请选择该任务的指标",
        ),
    ],
)
def test_a_bad_change_request_answers_400_and_writes_nothing(published_task, clerk, data, message):
    client = web(clerk)  # logging in is itself in the ledger
    before = AuditEvent.objects.count()
    response = client.post(reverse("workbench-change-request", args=[published_task.pk]), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ChangeRequest.objects.exists() and AuditEvent.objects.count() == before


def test_rejecting_needs_a_comment_and_other_departments_are_refused(
    published_task, clerk, tech_clerk, supervisor
):
    change = services.change_request_create(
        actor=clerk, task=published_task, field="deadline", new_value="2021-06-30", reason="延期"
    )
    refused = api(supervisor).post(
        f"/api/v1/change-requests/{change.pk}/decision/", {"approve": False}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "note_required")
    outsider = plans_services.user_create(
        actor=None,
        username="fin",
        password="pw-fin-123456",
        role=Role.STAFF,
        department=plans_services.department_create(actor=None, name="财政局"),
    )
    ask = {"change-field": "deadline", "change-new_value": "2021-06-30", "change-reason": "x"}
    url = reverse("workbench-change-request", args=[published_task.pk])
    assert web(outsider).post(url, ask).status_code == 404
    assert web(tech_clerk).post(url, ask).status_code == 403  # a co-department does not ask
    decide = reverse("workbench-change-decide", args=[change.pk])
    assert web(outsider).post(decide, {f"decide-{change.pk}-approve": "1"}).status_code == 404
    assert web(clerk).post(decide, {f"decide-{change.pk}-approve": "1"}).status_code == 403
    change.refresh_from_db()
    assert change.state == ChangeRequest.State.PENDING and ChangeRequest.objects.count() == 1
