"""The department workbench: pages scoped to the user's department, forms that call the services."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tasks_app.models import Instruction, Review, ReviewState, Role, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_clerk(db, tech_bureau):
    """承办人 of the 科技创新和产业发展局."""
    return plans_services.user_create(
        actor=None,
        username="techclerk",
        password="pw-tech-123456",
        role=Role.STAFF,
        department=tech_bureau,
        display_name="科创局张华",
    )


def assign(task: Task, lead, co=()) -> Task:
    return plans_services.task_assign(
        actor=None,
        task=task,
        lead_department=lead,
        co_departments=list(co),
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


@pytest.fixture
def our_task(plan, economic_bureau) -> Task:
    """A task of the 经济发展局 with two indicators."""
    return assign(plan.tasks.get(code="1.2.05"), economic_bureau)


@pytest.fixture
def their_task(plan, tech_bureau) -> Task:
    return assign(plan.tasks.get(code="1.2.04"), tech_bureau)


def task_url(task: Task) -> str:
    return reverse("workbench-task", args=[task.pk])


def report(client, task: Task, **overrides):
    data = {
        "report-period": "2020-03",
        "report-status": "on_schedule",
        "report-progress": "30",
        "report-narrative": "完成项目签约两个。",
        "report-explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
    }
    data.update(overrides)
    return client.post(reverse("workbench-task-report", args=[task.pk]), data)


def submit(task: Task, user, period=dt.date(2020, 3, 1)) -> StatusUpdate:
    return reporting_services.status_update_submit(
        actor=user,
        task=task,
        period=period,
        status="on_schedule",
        progress=30,
        narrative="按序时推进。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )


def test_a_clerk_sees_the_tasks_of_the_department_and_not_others(
    client, clerk, our_task, their_task
):
    client.force_login(clerk)
    page = client.get(reverse("workbench")).content.decode()
    assert our_task.title in page
    assert their_task.title not in page
    assert "牵头" in page


def test_a_co_department_sees_the_task_marked_as_co(
    client, other_clerk, plan, economic_bureau, tech_bureau
):
    shared = assign(plan.tasks.get(code="1.2.07"), economic_bureau, co=[tech_bureau])
    client.force_login(other_clerk)
    page = client.get(reverse("workbench")).content.decode()
    assert shared.title in page and "配合" in page


def test_the_workbench_filters_by_status_and_light(client, clerk, our_task, plan, economic_bureau):
    done = assign(plan.tasks.get(code="1.2.07"), economic_bureau)
    Task.objects.filter(pk=done.pk).update(status="done", progress=100, light="red")
    Task.objects.filter(pk=our_task.pk).update(light="green")
    client.force_login(clerk)
    by_status = client.get(reverse("workbench"), {"status": "done"}).content.decode()
    by_light = client.get(reverse("workbench"), {"light": "green"}).content.decode()
    assert done.title in by_status and our_task.title not in by_status
    assert our_task.title in by_light and done.title not in by_light


def test_the_workbench_counts_returns_and_unread_instructions(
    client, clerk, supervisor, leader, our_task
):
    update = submit(our_task, clerk)
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="数据不全"
    )
    reporting_services.instruction_create(actor=leader, task=our_task, text="抓紧推进")
    client.force_login(clerk)
    row = client.get(reverse("workbench")).context["page"].object_list[0]
    assert (row.returned_count, row.unread_instruction_count) == (1, 1)
    # March is in (returned, but in); January, from the task's start, is the earliest one owed.
    assert row.next_report == (dt.date(2020, 1, 1), dt.date(2020, 2, 5))


def test_a_task_due_at_the_year_end_with_every_month_reported_owes_nothing_more(
    client, clerk, our_task
):
    StatusUpdate.objects.bulk_create(
        StatusUpdate(
            task=our_task,
            period=dt.date(2020, month, 1),
            status="on_schedule",
            progress=month * 8,
            narrative="按序时推进。",
            explanation="情况说明:受前期手续影响滞后,正在加快推进。",
            author=clerk,
        )
        for month in range(1, 13)
    )
    client.force_login(clerk)
    workbench = client.get(reverse("workbench"))
    row = workbench.context["page"].object_list[0]
    assert row.next_report is None  # not 2021-01: the task is due 2020-12-31
    assert '<span class="meta">无</span>' in workbench.content.decode()
    page = client.get(task_url(our_task))
    assert page.context["next_report"] is None
    assert page.context["report_form"]["period"].value() is None


def test_the_workbench_makes_as_many_queries_for_30_tasks_as_for_1(
    client, clerk, supervisor, leader, plan, economic_bureau
):
    tasks = list(plan.tasks.filter(kind=Task.Kind.WORK_ITEM).order_by("code")[:30])
    assign(tasks[0], economic_bureau)
    client.force_login(clerk)
    client.get(reverse("workbench"))  # warm the session and content-type caches

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("workbench")).status_code == 200
        return len(queries)

    one = count_queries()
    for task in tasks[1:]:
        submit(assign(task, economic_bureau), clerk)
        reporting_services.instruction_create(actor=leader, task=task, text="请加快")
    assert len(client.get(reverse("workbench")).context["page"].object_list) == 30
    assert count_queries() == one


def test_another_departments_task_page_is_not_found(client, clerk, their_task):
    client.force_login(clerk)
    assert client.get(task_url(their_task)).status_code == 404
    assert report(client, their_task).status_code == 404
    assert not StatusUpdate.objects.exists()


def test_pages_need_a_login(client, our_task):
    response = client.get(task_url(our_task))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_task_page_shows_the_source_text_and_indicators(client, clerk, our_task):
    client.force_login(clerk)
    page = client.get(task_url(our_task)).content.decode()
    assert our_task.source_text in page
    assert "超10亿元规模企业" in page


def test_a_report_submitted_through_the_form_appears_in_the_history(client, clerk, our_task):
    client.force_login(clerk)
    indicator = our_task.indicators.order_by("position").first()
    response = report(client, our_task, **{f"report-indicator_{indicator.pk}": "7"})
    assert response.status_code == 302
    update = StatusUpdate.objects.get(task=our_task)
    assert (update.period, update.progress, update.author) == (dt.date(2020, 3, 1), 30, clerk)
    assert update.values.get().value == 7
    page = client.get(task_url(our_task)).content.decode()
    assert "完成项目签约两个。" in page and "待审核" in page and "2020-03" in page


def test_a_report_with_evidence_links_the_file(client, clerk, our_task, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clerk)
    pdf = SimpleUploadedFile(
        "签约材料.pdf", b"%PDF-1.4 minimal\n%%EOF\n", content_type="application/pdf"
    )
    assert report(client, our_task, **{"report-evidence": pdf}).status_code == 302
    evidence = StatusUpdate.objects.get().evidence.get()
    page = client.get(task_url(our_task)).content.decode()
    assert "签约材料.pdf" in page
    download = client.get(reverse("workbench-evidence", args=[evidence.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 minimal\n%%EOF\n"


def test_a_refused_evidence_file_leaves_no_report_behind(
    client, clerk, our_task, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clerk)
    fake = SimpleUploadedFile("材料.pdf", b"not a pdf at all", content_type="application/pdf")
    response = report(client, our_task, **{"report-evidence": fake})
    assert response.status_code == 400
    assert "文件内容与扩展名不符" in response.content.decode()
    assert not StatusUpdate.objects.exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"report-progress": "150"}, "确保该值小于或等于100"),
        ({"report-period": "2099-01"}, "报送期不能晚于本月"),
        ({"report-period": "三月"}, "请按“年-月”填写报送期"),
        ({"report-status": "done", "report-progress": "80"}, "进度须为100%"),
    ],
)
def test_invalid_input_shows_a_chinese_error_and_writes_nothing(
    client, clerk, our_task, overrides, message
):
    client.force_login(clerk)
    response = report(client, our_task, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StatusUpdate.objects.exists()


def test_a_narrative_is_shown_as_text_not_markup(client, clerk, our_task):
    client.force_login(clerk)
    narrative = "<script>alert(1)</script>"
    refused = report(client, our_task, **{"report-narrative": narrative, "report-progress": "150"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.content.decode()
    assert narrative not in refused.content.decode()
    report(client, our_task, **{"report-narrative": narrative})
    page = client.get(task_url(our_task)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert narrative not in page


def test_a_second_report_for_the_same_period_is_refused(client, clerk, our_task):
    client.force_login(clerk)
    report(client, our_task)
    response = report(client, our_task, **{"report-narrative": "又一次"})
    assert response.status_code == 409
    assert "该任务本期已报送" in response.content.decode()
    assert StatusUpdate.objects.count() == 1


def test_the_lead_department_receives_the_task(client, clerk, our_task):
    client.force_login(clerk)
    assert "签收" in client.get(task_url(our_task)).content.decode()
    client.post(reverse("workbench-task-receive", args=[our_task.pk]))
    our_task.refresh_from_db()
    assert our_task.received_by == clerk


def test_a_returned_report_is_corrected_and_goes_back_to_review(
    client, clerk, supervisor, our_task
):
    update = submit(our_task, clerk)
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="缺少签约金额"
    )
    update.refresh_from_db()
    client.force_login(clerk)
    page = client.get(task_url(our_task)).content.decode()
    assert "缺少签约金额" in page and "修改后重新报送" in page
    prefix = f"correct-{update.pk}"
    response = client.post(
        reverse("workbench-update-correct", args=[update.pk]),
        {
            f"{prefix}-version": update.version,
            f"{prefix}-status": "on_schedule",
            f"{prefix}-progress": "35",
            f"{prefix}-narrative": "补充:签约金额12亿元。",
            f"{prefix}-explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
        },
    )
    assert response.status_code == 302
    update.refresh_from_db()
    assert (update.review_state, update.revision, update.progress) == ("submitted", 2, 35)


def test_a_stale_correction_is_refused(client, clerk, supervisor, our_task):
    update = submit(our_task, clerk)
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="缺少签约金额"
    )
    client.force_login(clerk)
    prefix = f"correct-{update.pk}"
    response = client.post(
        reverse("workbench-update-correct", args=[update.pk]),
        {
            f"{prefix}-version": update.version - 1,
            f"{prefix}-status": "on_schedule",
            f"{prefix}-progress": "35",
            f"{prefix}-narrative": "补充",
            f"{prefix}-explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
        },
    )
    assert response.status_code == 412
    assert "数据已被他人修改" in response.content.decode()


def test_the_lead_department_opening_the_page_reads_the_instructions(
    client, clerk, supervisor, leader, our_task
):
    instruction = reporting_services.instruction_create(
        actor=leader, task=our_task, text="务必按期完成"
    )
    client.force_login(supervisor)
    client.get(task_url(our_task))
    assert Instruction.objects.get().read_at is None
    client.force_login(clerk)
    assert "务必按期完成" in client.get(task_url(our_task)).content.decode()
    instruction.refresh_from_db()
    assert instruction.read_at is not None


def test_a_leader_gives_an_instruction_through_the_form(client, leader, our_task):
    client.force_login(leader)
    response = client.post(
        reverse("workbench-task-instruct", args=[our_task.pk]), {"instruction-text": "加快进度"}
    )
    assert response.status_code == 302
    assert Instruction.objects.get().text == "加快进度"


def test_a_co_department_reports_its_contribution(
    client, other_clerk, plan, economic_bureau, tech_bureau
):
    shared = assign(plan.tasks.get(code="1.2.07"), economic_bureau, co=[tech_bureau])
    client.force_login(other_clerk)
    page = client.get(task_url(shared)).content.decode()
    assert "报送配合情况" in page and "提交报送" not in page
    client.post(
        reverse("workbench-task-contribute", args=[shared.pk]),
        {
            "contribution-period": "2020-03",
            "contribution-narrative": "提供企业名单",
        },
    )
    assert "提供企业名单" in client.get(task_url(shared)).content.decode()


def test_the_review_queue_is_forbidden_to_clerks(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("review-queue")).status_code == 403


def test_a_clerk_cannot_post_a_review(client, clerk, our_task):
    update = submit(our_task, clerk)
    client.force_login(clerk)
    response = client.post(
        reverse("review-decide", args=[update.pk]), {f"review-{update.pk}-decision": "accepted"}
    )
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_the_review_queue_lists_submissions_oldest_first(
    client, clerk, supervisor, our_task, plan, economic_bureau
):
    other = assign(plan.tasks.get(code="1.2.07"), economic_bureau)
    first = submit(other, clerk)
    second = submit(our_task, clerk)
    client.force_login(supervisor)
    updates = client.get(reverse("review-queue")).context["updates"]
    assert [u.pk for u in updates] == [first.pk, second.pk]


def test_returning_without_a_reason_is_refused_on_the_form(client, clerk, supervisor, our_task):
    update = submit(our_task, clerk)
    client.force_login(supervisor)
    response = client.post(
        reverse("review-decide", args=[update.pk]), {f"review-{update.pk}-decision": "returned"}
    )
    assert response.status_code == 400
    assert "退回须说明理由" in response.content.decode()
    update.refresh_from_db()
    assert update.review_state == ReviewState.SUBMITTED


def test_accepting_makes_the_report_the_state_of_record(client, clerk, supervisor, our_task):
    update = submit(our_task, clerk)
    client.force_login(supervisor)
    response = client.post(
        reverse("review-decide", args=[update.pk]), {f"review-{update.pk}-decision": "accepted"}
    )
    assert response.status_code == 302
    our_task.refresh_from_db()
    assert (our_task.status, our_task.progress) == ("on_schedule", 30)
    assert "没有待审核的报送" in client.get(reverse("review-queue")).content.decode()


def test_the_plan_page_shows_a_department_only_its_own_tasks(client, plan, clerk, economic_bureau):
    own = plans_services.task_assign(
        actor=None, task=plan.tasks.get(code="1.1.01"), lead_department=economic_bureau
    )
    client.force_login(clerk)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert own.title in page
    assert plan.tasks.get(code="1.1.02").title not in page
