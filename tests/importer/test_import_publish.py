"""Draft -> publish: the supervision office reviews a draft and publishes it; re-imports match."""

from pathlib import Path

import pytest
from django.urls import reverse

from tasks_app.common.errors import Conflict, NotPermitted
from tasks_app.importer import draft_edits, drafts, publish
from tasks_app.models import AuditEvent, Department, ImportDraft, Indicator, Plan, Task
from tasks_app.plans import services

DATA = Path(__file__).parents[1] / "data"
SEED = (DATA / "zhuhai_gaoxin_2020_report.txt").read_bytes()
TITLE = "珠海高新区2020年政府工作报告(导入)"


def draft_of(actor, data=SEED, title=TITLE):
    return drafts.import_draft_create(
        actor=actor,
        data=data,
        source_name="report.txt",
        year=2020,
        title=title,
        government="珠海高新区",
    )


def assigned(draft, actor, department=None):
    """The draft with every item led by department (the office's January work, in one edit)."""
    department = department or Department.objects.get(name="经济发展局")
    codes = [item["code"] for item in drafts.draft_tasks(draft.data)]
    edit = {"op": "assign", "codes": codes, "lead_department": department.pk}
    draft, _ = draft_edits.import_draft_edit(
        actor=actor, draft=draft, version=draft.version, edit=edit
    )
    return draft


def test_it_stores_a_draft_without_creating_a_plan(supervisor):
    draft = draft_of(supervisor)
    assert draft.status == ImportDraft.Status.DRAFT
    assert draft.encoding == "utf-8"
    assert draft.data["sections"][0]["key_areas"][0]["title"] == "构建联通融通创新空间"
    assert not Plan.objects.exists()
    assert AuditEvent.objects.filter(action="importdraft.create", object_id=str(draft.pk)).exists()


def test_publishing_creates_the_plan_tasks_and_indicators_with_their_kinds(supervisor):
    draft = assigned(draft_of(supervisor), supervisor)
    plan, changes = publish.import_draft_publish(actor=supervisor, draft=draft)
    counts = drafts.draft_counts(draft.data)
    assert plan.status == Plan.Status.PUBLISHED
    assert plan.tasks.count() == counts["tasks"]
    assert Indicator.objects.filter(plan=plan).count() == counts["indicators"]
    assert len(changes["new"]) == counts["tasks"]
    gdp = Indicator.objects.get(plan=plan, task__code="H01")
    assert (gdp.comparator, gdp.kind, gdp.unit) == ("growth", "growth", "%")
    assert not plan.tasks.filter(lead_department__isnull=True).exists()
    draft.refresh_from_db()
    assert draft.status == ImportDraft.Status.PUBLISHED and draft.plan == plan
    assert AuditEvent.objects.filter(action="plan.publish", object_id=str(plan.pk)).exists()


def test_department_suggestions_are_shown_but_never_applied_by_themselves(supervisor):
    draft = draft_of(supervisor)
    suggested = [
        task["suggestions"]["lead"]
        for section in draft.data["sections"]
        for area in section["key_areas"]
        for task in area["tasks"]
    ]
    assert suggested.count("") < len(suggested) / 2
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        publish.import_draft_publish(actor=supervisor, draft=draft)
    assert caught.value.code == "draft_incomplete"
    unled = drafts.draft_counts(draft.data)["tasks"]
    assert f"未指定牵头单位的事项 {unled} 项" in str(caught.value.message)
    assert not Plan.objects.exists() and AuditEvent.objects.count() == events


def test_reimporting_the_same_text_finds_every_item_and_duplicates_nothing(supervisor):
    first = assigned(draft_of(supervisor), supervisor)
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=first)
    tasks, indicators = plan.tasks.count(), Indicator.objects.count()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    _, changes = publish.import_draft_publish(actor=supervisor, draft=draft_of(supervisor))
    assert changes["new"] == [] and changes["changed"] == [] and changes["missing"] == []
    assert len(changes["unchanged"]) == tasks
    assert (plan.tasks.count(), Indicator.objects.count()) == (tasks, indicators)
    # Only the second draft's own rows were audited: nothing in the plan was rewritten.
    new_events = AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)
    assert set(new_events) <= {"importdraft.create", "importdraft.publish"}


def test_reimporting_edited_text_reports_new_and_changed_items_and_keeps_existing_codes(supervisor):
    text = SEED.decode()
    first = assigned(draft_of(supervisor), supervisor)
    plan, _ = publish.import_draft_publish(actor=supervisor, draft=first)
    before = {t.code: t.source_text for t in plan.tasks.all()}
    edited = text.replace(
        "构建联通融通创新空间。突出空间承接",
        "构建联通融通创新空间。新建港澳青年创业中心一座,服务港澳青年创新创业。突出空间承接",
    ).replace("引进落地50个以上科技项目", "引进落地60个以上科技项目")
    draft = draft_of(supervisor, data=edited.encode())
    preview = drafts.draft_match(draft.data)[1]
    assert len(preview.new) == 1
    assert [c["code"] for c in preview.changed] == [
        t.code for t in plan.tasks.filter(source_text__contains="引进落地50个以上科技项目")
    ]
    # The inserted sentence does not shift the next items onto other tasks.
    first = Task.objects.get(plan=plan, source_text__startswith="突出空间承接")
    assert first.code in preview.unchanged
    assert set(before) <= {t.code for t in Task.objects.filter(plan=plan)}


def test_a_changed_target_of_a_published_plan_is_refused_and_nothing_is_written(supervisor):
    publish.import_draft_publish(actor=supervisor, draft=assigned(draft_of(supervisor), supervisor))
    edited = SEED.decode().replace("地区生产总值增长7%", "地区生产总值增长8%")
    draft = draft_of(supervisor, data=edited.encode())
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        publish.import_draft_publish(actor=supervisor, draft=draft)
    assert caught.value.code == "published_targets_changed"
    assert "H01" in str(caught.value.message)
    assert Indicator.objects.get(task__code="H01").target_value == 7
    assert AuditEvent.objects.count() == events


def test_an_unpublished_plan_takes_the_edited_targets(supervisor, plan_data):
    plan_data["plan"]["title"] = TITLE
    services.plan_load(actor=None, data=plan_data)  # loaded but not published
    edited = SEED.decode().replace("地区生产总值增长7%", "地区生产总值增长8%")
    draft = assigned(draft_of(supervisor, data=edited.encode()), supervisor)
    _, changes = publish.import_draft_publish(actor=supervisor, draft=draft)
    assert Indicator.objects.get(task__code="H01").target_value == 8
    assert any(c["code"] == "H01" for c in changes["changed"])


def test_a_draft_is_published_once(supervisor):
    draft = assigned(draft_of(supervisor), supervisor)
    publish.import_draft_publish(actor=supervisor, draft=draft)
    with pytest.raises(Conflict):
        publish.import_draft_publish(actor=supervisor, draft=draft)


def test_a_department_member_may_not_import_or_publish(supervisor, clerk):
    with pytest.raises(NotPermitted):
        draft_of(clerk)
    draft = draft_of(supervisor)
    with pytest.raises(NotPermitted):
        publish.import_draft_publish(actor=clerk, draft=draft)
    assert not Plan.objects.exists()


def test_the_office_uploads_reviews_and_publishes_a_report_on_its_pages(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("imports")).status_code == 200
    with open(DATA / "sz-longgang-2020.txt", "rb") as handle:
        response = client.post(
            reverse("imports-report"),
            {"file": handle, "year": 2020, "government": "深圳市龙岗区", "title": ""},
        )
    draft = ImportDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports-draft", args=[draft.pk]
    )
    page = client.get(reverse("imports-draft", args=[draft.pk])).content.decode()
    assert "地区生产总值 约6.8%" in page  # an indicator of the headline targets' page
    area = "打造坂雪岗世界级电子信息产业集群承载区"
    section = next(
        s["number"] for s in draft.data["sections"] for a in s["key_areas"] if a["title"] == area
    )
    page = client.get(reverse("imports-draft", args=[draft.pk]), {"p": section}).content.decode()
    assert area in page  # a key area, on its section's page
    assert "建议:经济发展局" in page and "未指定牵头单位" in page  # suggested, not assigned
    response = client.post(reverse("imports-publish", args=[draft.pk]), {"version": 1})
    assert response.status_code == 409 and "草稿尚不能发布" in response.content.decode()
    codes = [item["code"] for item in drafts.draft_tasks(draft.data)]
    bureau = Department.objects.get(name="经济发展局")
    response = client.post(
        reverse("imports-edit", args=[draft.pk]),
        {"version": 1, "op": "assign", "codes": codes, "lead_department": bureau.pk},
    )
    assert response.status_code == 302
    response = client.post(reverse("imports-publish", args=[draft.pk]), {"version": 2})
    assert response.status_code == 302
    plan = Plan.objects.get(title="深圳市龙岗区2020年政府工作报告")
    assert plan.status == Plan.Status.PUBLISHED
    assert "已发布" in client.get(reverse("imports-draft", args=[draft.pk])).content.decode()


def test_the_import_pages_are_closed_to_departments(client, clerk, supervisor):
    draft = draft_of(supervisor)
    client.force_login(clerk)
    assert client.get(reverse("imports")).status_code == 403
    assert client.get(reverse("imports-draft", args=[draft.pk])).status_code == 403
    assert client.post(reverse("imports-publish", args=[draft.pk])).status_code == 403
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    ("report", "year"),
    [("sz-baoan-2019.txt", 2019), ("sz-longgang-2020.txt", 2020), ("sz-guangming-2021.txt", 2021)],
)
def test_the_command_publishes_each_districts_report_and_a_second_run_changes_nothing(
    db, report, year, capsys
):
    from django.core.management import call_command

    path = str(DATA / report)
    call_command("import_report", path, "--year", str(year), "--publish", "--allow-incomplete")
    plan = Plan.objects.get(year=year)
    draft = ImportDraft.objects.get()
    assert plan.tasks.count() == drafts.draft_counts(draft.data)["tasks"]
    call_command("import_report", path, "--year", str(year), "--publish", "--allow-incomplete")
    assert "0 new, 0 changed" in capsys.readouterr().out
    assert Plan.objects.count() == 1


def test_the_database_refuses_an_unknown_indicator_kind(plan):
    from django.db import IntegrityError, transaction

    indicator = Indicator.objects.filter(plan=plan).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.filter(pk=indicator.pk).update(kind="bogus")
