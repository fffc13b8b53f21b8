"""调度会 packs: what they hold, frozen when held; 议定事项 become tasks chased like any other."""

import datetime as dt

import pytest

from tasks_app.common.errors import NotPermitted, ServiceError
from tasks_app.models import AuditEvent, PackState, Reminder, Task, TaskKind
from tasks_app.reminders.ladder import reminders_decide
from tasks_app.reminders.window import calendar_around
from tasks_app.reporting import selectors as reporting_selectors
from tasks_app.reporting import services as reporting_services
from tasks_app.stocktakes import selectors, services
from tests.reminders.reminders_support import at
from tests.stocktakes.conftest import DEMO_DAY

pytestmark = pytest.mark.django_db


def test_a_pack_lists_exceptions_behind_tasks_disagreements_and_unread_instructions(
    demo_day, published, supervisor, leader
):
    plan, tasks = published
    reporting_services.instruction_create(actor=leader, task=tasks["T0001"], text="加快进度。")
    pack = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY, title="九月调度会")
    contents = selectors.pack_view(pack=pack)
    exceptions = {row["code"]: row for row in contents["exceptions"]}
    assert exceptions["T0002"]["days_late"] > 0 and "已逾期" in exceptions["T0002"]["question"]
    assert all(row["new"] for row in contents["exceptions"])  # no earlier pack
    assert [row["code"] for row in contents["instructions"]] == ["T0001"]
    # T0004's report said 序时推进 at 20% where ~64% was due by September (it was returned).
    assert "T0004" in {row["code"] for row in contents["disagreements"]}
    assert all(
        row["question"] for rows in contents.values() if isinstance(rows, list) for row in rows
    )
    assert contents["counts"]["exceptions"] == len(contents["exceptions"])


def test_an_instruction_with_its_feedback_leaves_the_pack(
    demo_day, published, supervisor, leader, clerk
):
    plan, tasks = published
    instruction = reporting_services.instruction_create(
        actor=leader, task=tasks["T0001"], text="加快进度。"
    )
    reporting_services.instruction_feedback_create(
        actor=clerk, instruction=instruction, text="已召开专题会,下周完成。"
    )
    contents = selectors.pack_contents(plan=plan, as_of=DEMO_DAY)
    assert contents["instructions"] == []


def test_holding_the_meeting_freezes_the_numbers(demo_day, published, supervisor, clerk):
    plan, tasks = published
    pack = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY)
    services.pack_hold(actor=supervisor, pack=pack)
    frozen = selectors.pack_view(pack=type(pack).objects.get(pk=pack.pk))
    # Afterwards T0002 is reported and accepted as done: the held pack does not change.
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=tasks["T0002"],
        period=dt.date(2020, 9, 1),
        status="on_schedule",
        progress=95,
        narrative="接近完成。",
    )
    reporting_services.status_update_review(actor=supervisor, update=update, decision="accepted")
    pack.refresh_from_db()
    assert pack.state == PackState.HELD
    assert selectors.pack_view(pack=pack) == frozen
    live = selectors.pack_contents(plan=plan, as_of=DEMO_DAY)
    t2 = [r for r in live["exceptions"] if r["code"] == "T0002"][0]
    assert t2["progress"] == 95 and pack.contents["exceptions"][0]["progress"] != 95
    with pytest.raises(ServiceError):
        services.pack_hold(actor=supervisor, pack=pack)


def test_only_the_office_prepares_a_pack(demo_day, published, clerk, leader):
    plan, _tasks = published
    for person in (clerk, leader):
        with pytest.raises(NotPermitted):
            services.pack_prepare(actor=person, plan=plan, as_of=DEMO_DAY)


def test_a_decision_becomes_a_task_in_the_lead_departments_workbench_and_the_next_pack(
    demo_day, published, supervisor, clerk, economic_bureau
):
    plan, tasks = published
    pack = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY)
    services.pack_hold(actor=supervisor, pack=pack)
    decision = services.decision_record(
        actor=supervisor,
        pack=pack,
        title="专班进驻企业",
        lead_department=economic_bureau,
        deadline=dt.date(2020, 10, 30),
        concerns=[tasks["T0002"]],
    )
    task = decision.task
    assert task.kind == TaskKind.DECISION and task.plan_id == plan.pk
    assert AuditEvent.objects.filter(action="stocktake.decide").exists()
    assert task in reporting_selectors.workbench_task_list(user=clerk)

    following = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY)
    assert following.previous == pack
    rows = selectors.pack_view(pack=following)["previous_decisions"]
    assert [(r["code"], r["received"], r["concerns"]) for r in rows] == [
        (task.code, "未签收", ["T0002"])
    ]


def test_a_decision_not_received_is_chased_from_the_day_it_was_decided(
    demo_day, published, supervisor, economic_bureau
):
    plan, _tasks = published
    pack = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY)
    decision = services.decision_record(
        actor=supervisor,
        pack=pack,
        title="专班进驻企业",
        lead_department=economic_bureau,
        deadline=dt.date(2020, 12, 30),
    )
    # Receipt is due two working days after 30 September (after the National Day holiday),
    # not two working days after the plan's publication in January.
    calendar = calendar_around(DEMO_DAY)
    due = calendar.add_working_days(DEMO_DAY, 2)
    assert due > dt.date(2020, 10, 8)
    reminders_decide(now=at(due.isoformat()), calendar=calendar)
    receipt = Reminder.objects.filter(task=decision.task, item="receipt")
    assert {r.due_date for r in receipt} == {due}


def test_a_decision_with_a_past_deadline_or_another_plans_task_writes_nothing(
    demo_day, published, supervisor, economic_bureau, plan
):
    pack = services.pack_prepare(actor=supervisor, plan=published[0], as_of=DEMO_DAY)
    before = Task.objects.count()
    with pytest.raises(ServiceError):
        services.decision_record(
            actor=supervisor,
            pack=pack,
            title="x",
            lead_department=economic_bureau,
            deadline=dt.date(2020, 9, 1),
        )
    with pytest.raises(ServiceError):
        services.decision_record(
            actor=supervisor,
            pack=pack,
            title="x",
            lead_department=economic_bureau,
            deadline=dt.date(2020, 12, 1),
            concerns=[plan.tasks.first()],
        )
    assert Task.objects.count() == before


def test_the_held_pack_prints_on_a4_and_downloads_as_word_for_the_office_only(
    demo_day, published, supervisor, clerk
):
    import io

    from django.test import Client
    from docx import Document

    plan, _tasks = published
    pack = services.pack_prepare(actor=supervisor, plan=plan, as_of=DEMO_DAY, title="九月调度会")
    services.pack_hold(actor=supervisor, pack=pack)
    office = Client()
    office.force_login(supervisor)
    printed = office.get(f"/stocktakes/{pack.pk}/print/").content.decode()
    assert "size: A4" in printed and "T0002" in printed
    word = Document(io.BytesIO(office.get(f"/stocktakes/{pack.pk}/pack.docx").content))
    text = "\n".join(cell.text for table in word.tables for row in table.rows for cell in row.cells)
    assert word.paragraphs[0].text == "九月调度会" and "T0002" in text
    department = Client()
    department.force_login(clerk)
    assert department.get(f"/stocktakes/{pack.pk}/").status_code == 403
    assert department.post(f"/stocktakes/{pack.pk}/decisions/", {"title": "x"}).status_code == 403
