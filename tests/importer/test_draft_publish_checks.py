"""Before publishing, the draft says what is missing; publishing writes the office's edits."""

import datetime as dt
from pathlib import Path

import pytest

from tasks_app.common.errors import Conflict, PreconditionFailed
from tasks_app.importer import draft_edits, publish
from tasks_app.importer.draft_checks import EditLookups, draft_problems
from tasks_app.importer.drafts import draft_tasks
from tasks_app.importer.suggestions import DepartmentMatcher, base_name
from tasks_app.models import AuditEvent, Department, Plan, Task
from tasks_app.plans import services
from tests.importer.draft_builders import small_draft


def edit(actor, draft, **change):
    draft.refresh_from_db()
    saved, _ = draft_edits.import_draft_edit(
        actor=actor, draft=draft, version=draft.version, edit=change
    )
    return saved


def all_codes(draft) -> list[str]:
    draft.refresh_from_db()
    return [item["code"] for item in draft_tasks(draft.data)]


def problems(draft) -> dict[str, list[str]]:
    draft.refresh_from_db()
    return {g.kind: [p.code for p in g.problems] for g in draft_problems(draft.data)}


def targets(firms_unit: str) -> list[dict]:
    return [
        {
            "name": "高新技术企业",
            "comparator": "gte",
            "value": "50",
            "unit": firms_unit,
            "source": "0",
        },
        {"name": "科技项目", "comparator": "gte", "value": "10", "unit": "个", "source": "1"},
    ]


def test_publishing_is_refused_until_every_item_has_a_lead_and_every_target_a_unit(
    supervisor, economic_bureau
):
    draft = small_draft(supervisor)
    edit(supervisor, draft, op="indicators", code="1.1.01", indicators=targets(""))
    assert problems(draft) == {"no_lead": all_codes(draft), "no_unit": ["1.1.01"]}
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        publish.import_draft_publish(actor=supervisor, draft=draft)
    message = str(caught.value.message)
    assert "未指定牵头单位的事项 7 项:H01、1.1.01" in message
    assert "目标值没有单位的事项 1 项:1.1.01" in message
    assert not Plan.objects.exists() and AuditEvent.objects.count() == events

    edit(supervisor, draft, op="assign", codes=all_codes(draft), lead_department=economic_bureau.pk)
    assert problems(draft) == {"no_unit": ["1.1.01"]}
    edit(supervisor, draft, op="indicators", code="1.1.01", indicators=targets("家"))
    assert problems(draft) == {}
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=draft)
    assert plan.status == Plan.Status.PUBLISHED


def test_publishing_writes_the_drafted_lead_co_departments_leader_and_deadline(
    supervisor, economic_bureau, tech_bureau, leader
):
    draft = small_draft(supervisor)
    edit(supervisor, draft, op="assign", codes=all_codes(draft), lead_department=economic_bureau.pk)
    edit(
        supervisor,
        draft,
        op="assign",
        codes=["1.1.02"],
        replace=True,
        lead_department=tech_bureau.pk,
        co_departments=[economic_bureau.pk],
        responsible_leader=leader.pk,
        deadline="三季度",
    )
    draft.refresh_from_db()
    plan, changes = publish.import_draft_publish(
        actor=supervisor, draft=draft, version=draft.version
    )
    task = Task.objects.get(plan=plan, code="1.1.02")
    assert task.lead_department == tech_bureau
    assert list(task.co_departments.all()) == [economic_bureau]
    assert (task.responsible_leader, task.deadline) == (leader, dt.date(2020, 9, 30))
    assert set(Task.objects.filter(plan=plan).values_list("lead_department", flat=True)) == {
        economic_bureau.pk,
        tech_bureau.pk,
    }
    assert len(changes["assigned"]) == 7
    assigned = AuditEvent.objects.filter(action="task.assign", object_id=str(task.pk))
    assert assigned.get().after["deadline"] == "2020-09-30"
    assert AuditEvent.objects.filter(action="task.co_departments", object_id=str(task.pk)).exists()


def test_a_reimport_keeps_the_published_tasks_leads_and_needs_no_assignment(
    supervisor, economic_bureau
):
    first = small_draft(supervisor)
    edit(supervisor, first, op="assign", codes=all_codes(first), lead_department=economic_bureau.pk)
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=first)
    again = small_draft(supervisor)
    assert problems(again) == {}
    last = AuditEvent.objects.order_by("-pk").first().pk
    _, changes = publish.import_draft_publish(actor=supervisor, draft=again)
    assert changes["new"] == [] and changes["changed"] == [] and changes["assigned"] == []
    assert not Task.objects.filter(plan=plan, lead_department__isnull=True).exists()
    actions = set(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
    assert actions == {"importdraft.publish"}


def test_a_reimport_may_not_change_a_published_deadline(supervisor, economic_bureau):
    first = small_draft(supervisor)
    codes = all_codes(first)
    edit(
        supervisor,
        first,
        op="assign",
        codes=codes,
        lead_department=economic_bureau.pk,
        deadline="年底前",
    )
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=first)
    again = small_draft(supervisor)
    edit(supervisor, again, op="assign", codes=["1.1.03"], deadline="6月底前")
    with pytest.raises(Conflict) as caught:
        publish.import_draft_publish(actor=supervisor, draft=again)
    assert caught.value.code == "published_deadlines_changed" and "1.1.03" in caught.value.message
    assert Task.objects.get(plan=plan, code="1.1.03").deadline == dt.date(2020, 12, 31)


def test_publishing_what_another_tab_has_since_edited_is_refused(supervisor, economic_bureau):
    draft = small_draft(supervisor)
    edit(supervisor, draft, op="assign", codes=all_codes(draft), lead_department=economic_bureau.pk)
    with pytest.raises(PreconditionFailed):
        publish.import_draft_publish(actor=supervisor, draft=draft, version=1)
    assert not Plan.objects.exists()


def test_the_published_plan_has_the_split_merged_moved_and_deleted_items(
    supervisor, economic_bureau
):
    draft = small_draft(supervisor)
    edit(
        supervisor,
        draft,
        op="split",
        code="1.1.01",
        parts=["新增高新技术企业50家以上,", "引进落地10个以上科技项目。"],
    )
    edit(supervisor, draft, op="merge", codes=["1.1.03", "1.1.04"])  # 创业中心 + 孵化器
    edit(supervisor, draft, op="move", codes=["1.2.01"], area="2.1")
    edit(supervisor, draft, op="delete", codes=["2.1.02"])  # 各位代表
    edit(supervisor, draft, op="assign", codes=all_codes(draft), lead_department=economic_bureau.pk)
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=draft)
    register = {
        task.code: (task.key_area.title if task.key_area else "", task.title)
        for task in Task.objects.filter(plan=plan).select_related("key_area")
    }
    assert register == {
        "H01": ("", "地区生产总值增长7%"),
        "1.1.01": ("科技创新", "新增高新技术企业50家以上"),
        "1.1.02": ("科技创新", "引进落地10个以上科技项目"),
        "1.1.03": ("科技创新", "建设港澳青年创业中心,完善孵化器政策体系"),
        "2.1.01": ("教育", "新建学校2所"),
        "2.1.02": ("教育", "推进产业园区建设"),
    }
    assert Task.objects.get(plan=plan, code="1.1.02").indicators.get().unit == "个"


def test_an_assignment_naming_a_department_since_removed_is_listed(supervisor):
    gone = services.department_create(actor=None, name="临时机构")
    draft = small_draft(supervisor)
    edit(supervisor, draft, op="assign", codes=all_codes(draft), lead_department=gone.pk)
    gone.delete()
    assert problems(draft) == {"unknown_department": all_codes(draft)}


def test_suggested_names_match_departments_with_a_bracketed_suffix_or_an_alias():
    assert base_name("经济发展局(示例)") == "经济发展局"
    assert base_name("经济发展局\uff08示例\uff09") == "经济发展局"
    matcher = DepartmentMatcher({"经济发展局(示例)": "E", "经发局": "E", "财政局(示例)": "F"})
    assert matcher.get("经济发展局") == "E"
    assert matcher.get("经发局") == "E"
    assert matcher.suggested({"lead": "经济发展局", "co": ["财政局", "统计局"]}) == ("E", ["F"])
    # Two departments that differ only by their suffix: the bare name means neither.
    ambiguous = DepartmentMatcher({"社会事务局(示例)": "A", "社会事务局(旧)": "B"})
    assert ambiguous.get("社会事务局") is None


def test_the_lookups_offer_active_leaders_only(leader, supervisor):
    assert list(EditLookups.load().leaders) == [leader.pk]
    assert Department.objects.count() == len(EditLookups.load().departments)


def test_the_command_publishes_an_incomplete_draft_only_when_told_to(db, capsys):
    from django.core.management import CommandError, call_command

    report = str(Path(__file__).parents[1] / "data" / "zhuhai_gaoxin_2020_report.txt")
    with pytest.raises(CommandError, match="draft_incomplete: 草稿尚不能发布"):
        call_command("import_report", report, "--year", "2020", "--publish")
    assert not Plan.objects.exists()
    call_command("import_report", report, "--year", "2020", "--publish", "--allow-incomplete")
    assert Plan.objects.get().status == Plan.Status.PUBLISHED
