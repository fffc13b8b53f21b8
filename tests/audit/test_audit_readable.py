"""The ledger as an auditor reads it: Chinese labels beside every action and field code, people
by name and role, Beijing time beside UTC (pages and exports), a task found by its code with
its instructions and evidence."""

import csv
import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tasks_app.audit import exports, labels
from tasks_app.models import AuditEvent, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None,
        username="shenji",
        password="pw-audit-123456",
        role=Role.AUDITOR,
        display_name="审计局张审计",
    )


@pytest.fixture
def story(settings, plan, supervisor, clerk, leader, economic_bureau):
    """A task's spring of 2020: assigned, instructed, reported with evidence, returned."""
    settings.GAOXIN_TODAY = "2020-03-15"
    task = plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="1.2.05"),
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    other = plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="1.2.04"),
        lead_department=economic_bureau,
        deadline=dt.date(2020, 12, 31),
    )
    reporting_services.instruction_create(actor=leader, task=task, text="请加快。")
    reporting_services.instruction_create(actor=leader, task=other, text="别的任务。")
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="完成签约。",
        evidence=[SimpleUploadedFile("签约材料.pdf", b"%PDF-1.4 minimal\n%%EOF\n")],
    )
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请补充名单"
    )
    return {"task": task, "other": other, "update": update}


def ledger_rows(html: str) -> str:
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_the_ledger_page_shows_no_action_code_without_its_chinese_label(client, auditor, story):
    client.force_login(auditor)
    newest = AuditEvent.objects.order_by("-seq")[:50]  # the first page
    in_ledger = {event.action for event in newest}
    rows = ledger_rows(client.get("/audit/").content.decode())
    cells = re.findall(
        r'<span class="action-label">([^<]*)</span> <code class="action-code">([^<]*)</code>',
        rows,
    )
    shown = {code for _label, code in cells}
    assert in_ledger == shown
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label, _code in cells)
    # No code appears in the rows but in its labelled cell.
    bare = re.sub(r'<code class="action-code">[^<]*</code>', "", rows)
    assert not any(code in bare for code in shown)
    assert "经发局李明" in rows and "承办人" in rows and "督查室王科长" in rows


def test_every_action_the_services_write_has_a_label_of_its_own(story):
    for code in AuditEvent.objects.values_list("action", flat=True).distinct():
        assert str(labels.OTHER_ACTION) not in labels.action_label(code), code
    assert labels.action_label("task.update.sql") == "修改任务(数据库直接修改)"
    assert labels.action_label("milestone.delete") == "删除里程碑"
    assert "其他操作" in labels.action_label("something.new")


def test_the_task_filter_by_code_lists_its_instruction_and_evidence_events(client, auditor, story):
    client.force_login(auditor)
    response = client.get("/audit/", {"task_code": story["task"].code})
    assert response.status_code == 200
    rows = ledger_rows(response.content.decode())
    for code in ("instruction.create", "evidence.attach", "status_update.submit", "task.assign"):
        assert f'<code class="action-code">{code}</code>' in rows
    assert "请加快。" in rows and "别的任务。" not in rows
    assert story["other"].title not in rows


def test_an_unknown_task_code_answers_400_in_chinese(client, auditor, story):
    client.force_login(auditor)
    response = client.get("/audit/", {"task_code": "Z99"})
    assert response.status_code == 400
    assert "没有编号为“Z99”的任务" in response.content.decode()


def test_the_event_page_names_fields_people_and_values(client, auditor, story, supervisor):
    client.force_login(auditor)
    returned = AuditEvent.objects.get(action="status_update.returned")
    html = client.get(f"/audit/events/{returned.seq}/").content.decode()
    assert "审核退回" in html and "status_update.returned" in html
    assert "<td>审核人</td><td><code>reviewer</code></td>" in html
    assert f'督查室王科长 <span class="meta">({supervisor.pk})</span>' in html
    assert "<td>审核结论</td>" in html or "<td>结论</td>" in html or "decision" in html
    local = timezone.localtime(returned.created_at).strftime("%Y-%m-%d %H:%M:%S")
    utc = returned.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert local in html and utc in html


def test_the_ledger_export_carries_beijing_time_labels_and_names_beside_the_codes(
    client, auditor, story
):
    client.force_login(auditor)
    response = client.get(
        "/audit/exports/",
        {"download": "1", "kind": "ledger", "format": "csv", "task_code": "1.2.05"},
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    assert list(rows[0])[:5] == [
        "序号 [seq]",
        "时间(北京时间) [local_time]",
        "时间(UTC) [created_at]",
        "操作 [action_label]",
        "操作代码 [action]",
    ]
    evidence = next(r for r in rows if r["操作代码 [action]"] == "evidence.attach")
    event = AuditEvent.objects.get(action="evidence.attach")
    assert evidence["操作 [action_label]"] == "上传佐证材料"
    assert evidence["操作人 [actor_name]"] == "经发局李明"
    assert evidence["角色 [actor_role_label]"] == "承办人"
    beijing = timezone.localtime(event.created_at)
    assert evidence["时间(北京时间) [local_time]"] == beijing.strftime("%Y-%m-%d %H:%M:%S")
    assert evidence["时间(UTC) [created_at]"].endswith("Z")
    assert {r["操作代码 [action]"] for r in rows} >= {"instruction.create", "evidence.attach"}
    assert exports.LEDGER_COLUMNS[0] == "序号 [seq]"


def test_every_action_code_the_code_writes_has_its_own_chinese_label():
    """An auditor never reads a generated label for an action the system itself writes."""
    import ast
    import pathlib

    from tasks_app.audit.labels import OTHER_ACTION, action_label

    written = set()
    for path in pathlib.Path("tasks_app").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in ("create_audited", "update_audited") and len(node.args) > 1:
                    if isinstance(node.args[1], ast.Constant):
                        written.add(node.args[1].value)
                for keyword in node.keywords:
                    if keyword.arg == "action" and isinstance(keyword.value, ast.Constant):
                        written.add(keyword.value.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                targets = [getattr(t, "id", "") for t in node.targets]
                if any(t.endswith("_ACTION") for t in targets):
                    written.add(node.value.value)
    written = {code for code in written if isinstance(code, str) and "." in code}
    assert len(written) > 20
    unreadable = {
        code: action_label(code)
        for code in written
        if str(OTHER_ACTION) in action_label(code) or re.search(r"[a-z]", action_label(code))
    }
    assert unreadable == {}
