"""我的任务 as a list a clerk and the office can live in: search, sort, filters, saved filters,
bulk 签收 and 催办, the list as a spreadsheet, values written as the report writes them."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tasks_app.common.quantities import format_quantity, plain_number
from tasks_app.models import AuditEvent, ManualChase, SavedFilter, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

WORK_ITEMS = {"kind": Task.Kind.WORK_ITEM}


def assign(task: Task, lead, **fields) -> Task:
    values = {"start_date": dt.date(2020, 1, 21), "deadline": dt.date(2020, 12, 31)}
    values.update(fields)
    return plans_services.task_assign(actor=None, task=task, lead_department=lead, **values)


@pytest.fixture
def ten_tasks(plan, economic_bureau) -> list[Task]:
    tasks = plan.tasks.filter(**WORK_ITEMS).order_by("position", "code")[:10]
    return [assign(task, economic_bureau) for task in tasks]


@pytest.fixture
def theirs(plan, tech_bureau) -> Task:
    return assign(plan.tasks.get(code="1.2.04"), tech_bureau)


def listed(client, **query) -> list[str]:
    response = client.get(reverse("workbench"), query)
    assert response.status_code == 200
    return [task.code for task in response.context["page"].object_list]


def test_bulk_receipt_of_10_tasks_is_one_request_and_10_audited_receipts(client, clerk, ten_tasks):
    client.force_login(clerk)
    ids = [task.pk for task in ten_tasks]
    response = client.post(reverse("workbench-bulk-receive"), {"task": ids, "next": "/workbench/"})
    assert response.status_code == 302
    received = Task.objects.filter(pk__in=ids, received_at__isnull=False, received_by=clerk)
    assert received.count() == 10
    events = AuditEvent.objects.filter(action="task.receive", actor_id=clerk.pk)
    assert sorted(int(e.object_id) for e in events) == sorted(ids)
    assert "已签收 10 项" in client.get(reverse("workbench")).content.decode()


def test_a_second_bulk_receipt_keeps_the_first_receipts_and_writes_nothing(
    client, clerk, ten_tasks
):
    client.force_login(clerk)
    ids = [task.pk for task in ten_tasks]
    client.post(reverse("workbench-bulk-receive"), {"task": ids[:4]})
    first = dict(Task.objects.filter(pk__in=ids[:4]).values_list("pk", "received_at"))
    client.post(reverse("workbench-bulk-receive"), {"task": ids})
    assert dict(Task.objects.filter(pk__in=ids[:4]).values_list("pk", "received_at")) == first
    assert AuditEvent.objects.filter(action="task.receive").count() == 10


def test_a_bulk_receipt_with_another_departments_task_receives_nothing(
    client, clerk, ten_tasks, theirs
):
    client.force_login(clerk)
    ids = [ten_tasks[0].pk, theirs.pk]
    response = client.post(reverse("workbench-bulk-receive"), {"task": ids}, follow=True)
    assert "未签收任何任务" in response.content.decode()
    assert not Task.objects.filter(received_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="task.receive").exists()


def test_the_office_filters_the_workbench_to_one_department(
    client, supervisor, ten_tasks, theirs, economic_bureau, tech_bureau
):
    client.force_login(supervisor)
    assert listed(client, department=tech_bureau.pk) == [theirs.code]
    econ = listed(client, department=economic_bureau.pk)
    assert sorted(econ) == sorted(t.code for t in ten_tasks)
    page = client.get(reverse("workbench"), {"department": tech_bureau.pk}).content.decode()
    assert 'name="department"' in page  # the office has the department filter ...


def test_a_department_has_no_department_filter_and_sees_only_its_own_tasks(
    client, clerk, ten_tasks, theirs, tech_bureau
):
    client.force_login(clerk)
    page = client.get(reverse("workbench"), {"department": tech_bureau.pk})
    assert 'name="department"' not in page.content.decode()
    assert theirs.code not in [t.code for t in page.context["page"].object_list]


def test_the_office_filters_by_responsible_leader(client, supervisor, leader, ten_tasks):
    Task.objects.filter(pk=ten_tasks[3].pk).update(responsible_leader=leader)
    client.force_login(supervisor)
    assert listed(client, leader=leader.pk) == [ten_tasks[3].code]


def test_search_finds_a_task_by_its_code_or_by_words_of_its_text(client, clerk, ten_tasks, plan):
    client.force_login(clerk)
    target = ten_tasks[2]
    assert listed(client, q=target.code) == [target.code]
    word = target.title[:4]
    assert target.code in listed(client, q=word)
    assert listed(client, q="没有这样的任务") == []


def test_the_list_sorts_by_any_column_both_ways(client, clerk, ten_tasks):
    for progress, task in enumerate(ten_tasks):
        Task.objects.filter(pk=task.pk).update(progress=progress * 10)
    client.force_login(clerk)
    by_progress = listed(client, sort="-progress")
    assert by_progress == [t.code for t in reversed(ten_tasks)]
    assert listed(client, sort="progress") == [t.code for t in ten_tasks]
    Task.objects.filter(pk__in=[t.pk for t in ten_tasks]).update(light="green")
    Task.objects.filter(pk=ten_tasks[5].pk).update(light="red")
    assert listed(client, sort="light")[0] == ten_tasks[5].code
    page = client.get(reverse("workbench"), {"sort": "-progress"}).content.decode()
    assert 'aria-sort="descending"' in page


def test_sorting_by_the_next_report_follows_the_report_schedule(client, clerk, ten_tasks):
    reporting_services.status_update_submit(
        actor=clerk,
        task=ten_tasks[0],
        period=dt.date(2020, 1, 1),
        status="on_schedule",
        progress=10,
        narrative="一月按序时推进。",
    )
    client.force_login(clerk)
    rows = client.get(reverse("workbench"), {"sort": "-next"}).context["page"].object_list
    # Everyone else still owes January; the task that reported it owes February first.
    assert rows[0].code == ten_tasks[0].code
    assert rows[0].next_report == (dt.date(2020, 2, 1), dt.date(2020, 3, 5))


def test_the_quick_filters_find_unreceived_returned_and_due_this_month(
    client, clerk, supervisor, ten_tasks
):
    reporting_services.task_receive(actor=clerk, task=ten_tasks[0])
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=ten_tasks[1],
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="三月按序时推进。",
    )
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请补充数据"
    )
    Task.objects.filter(pk=ten_tasks[2].pk).update(deadline=dt.date(2020, 3, 31))
    client.force_login(clerk)
    assert ten_tasks[0].code not in listed(client, unreceived=1)
    assert len(listed(client, unreceived=1)) == 9
    assert listed(client, returned=1) == [ten_tasks[1].code]
    assert listed(client, due_this_month=1) == [ten_tasks[2].code]


def test_the_list_costs_the_same_queries_whatever_the_filters_match(
    client, supervisor, ten_tasks, economic_bureau
):
    client.force_login(supervisor)
    client.get(reverse("workbench"))
    query = {"department": economic_bureau.pk, "sort": "-deadline", "q": "企业"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("workbench"), query)
        return len(queries)

    few = count()
    for task in Task.objects.filter(**WORK_ITEMS).exclude(lead_department=economic_bureau)[:20]:
        assign(task, economic_bureau)
    assert count() == few


def test_a_user_saves_a_filter_finds_it_again_and_deletes_it(client, clerk, supervisor):
    client.force_login(clerk)
    response = client.post(
        reverse("workbench-filter-save"),
        {"name": "被退回的", "query": "returned=1&sort=-deadline&evil=<script>"},
    )
    saved = SavedFilter.objects.get(user=clerk)
    assert saved.query == "returned=1&sort=-deadline"  # only what the filter bar reads
    assert response.url == "/workbench/?returned=1&sort=-deadline"
    page = client.get(reverse("workbench")).content.decode()
    assert "被退回的" in page and "/workbench/?returned=1&amp;sort=-deadline" in page
    client.force_login(supervisor)
    assert "被退回的" not in client.get(reverse("workbench")).content.decode()
    other = client.post(reverse("workbench-filter-delete", args=[saved.pk]))
    assert other.status_code == 404
    client.force_login(clerk)
    client.post(reverse("workbench-filter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="saved_filter.").count() == 2


def test_the_current_list_downloads_as_csv_and_xlsx_through_the_one_writer(
    client, supervisor, ten_tasks, theirs, economic_bureau
):
    from openpyxl import load_workbook

    Task.objects.filter(pk=ten_tasks[0].pk).update(title="=HYPERLINK(1)", progress=40)
    client.force_login(supervisor)
    query = {"department": economic_bureau.pk, "sort": "-progress"}
    response = client.get(reverse("workbench-export"), {"format": "csv", **query})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["编号", "任务", "牵头单位"]
    assert len(rows) == 1 + 10 and theirs.code not in {r[0] for r in rows}
    assert rows[1][:2] == [ten_tasks[0].code, "'=HYPERLINK(1)"]
    response = client.get(reverse("workbench-export"), {"format": "xlsx", **query})
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(cells) == 11 and cells[1][6] == 40  # 进度 as a number


def test_the_office_chases_the_ticked_tasks_and_a_repeat_within_the_hour_is_skipped(
    client, supervisor, ten_tasks
):
    client.force_login(supervisor)
    ids = [ten_tasks[0].pk, ten_tasks[1].pk]
    client.post(reverse("workbench-bulk-chase"), {"task": ids, "note": "请本周内报送进展。"})
    assert ManualChase.objects.filter(task_id__in=ids).count() == 2
    response = client.post(
        reverse("workbench-bulk-chase"), {"task": ids, "note": "再次催办。"}, follow=True
    )
    assert ManualChase.objects.count() == 2
    assert "分钟内已催办过" in response.content.decode()


def test_a_clerk_cannot_chase(client, clerk, ten_tasks):
    client.force_login(clerk)
    response = client.post(reverse("workbench-bulk-chase"), {"task": [ten_tasks[0].pk]})
    assert response.status_code == 403
    assert not ManualChase.objects.exists()


def test_indicator_values_are_written_as_the_report_writes_them(client, clerk, ten_tasks, plan):
    assert plain_number(Decimal("6.0000")) == "6"
    assert format_quantity(Decimal("550.0000"), "家") == "550家"  # not 5.5E+2
    assert format_quantity(Decimal("0.5000"), "%") == "0.5%"
    task = assign(plan.tasks.get(code="1.2.05"), ten_tasks[0].lead_department)
    indicator = task.indicators.order_by("position").first()
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="按序时推进。",
        indicator_values={indicator.pk: Decimal("6")},
    )
    client.force_login(clerk)
    page = client.get(reverse("workbench-task", args=[task.pk])).content.decode()
    assert f"{indicator.name}:6{indicator.unit}" in page
    assert "6.0000" not in page and "E+" not in page
    assert f"{plain_number(indicator.target_value)}{indicator.unit}" in page
    assert update.values.get().value == Decimal("6")


def test_the_report_form_offers_the_period_the_schedule_asks_for_next(client, clerk, ten_tasks):
    task = ten_tasks[0]
    client.force_login(clerk)
    url = reverse("workbench-task", args=[task.pk])
    assert client.get(url).context["report_form"]["period"].value() == "2020-01"
    for month in (1, 2, 3):
        reporting_services.status_update_submit(
            actor=clerk,
            task=task,
            period=dt.date(2020, month, 1),
            status="on_schedule",
            progress=month * 8,
            narrative="按序时推进。",
        )
    page = client.get(url)
    # April is next by the schedule, but it has not begun: the form waits for it.
    assert page.context["next_report"].period == dt.date(2020, 4, 1)
    assert page.context["report_form"]["period"].value() is None
