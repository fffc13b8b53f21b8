"""The office's January work on an import draft: each edit, its checks and its ledger event."""

import copy

import pytest

from tasks_app.common.errors import Conflict, NotPermitted, PreconditionFailed, ServiceError
from tasks_app.importer import draft_edits
from tasks_app.importer.drafts import draft_tasks
from tasks_app.models import AuditEvent, ImportDraft
from tasks_app.plans import services
from tests.importer.draft_builders import small_draft


@pytest.fixture
def draft(supervisor):
    return small_draft(supervisor)


def edit(actor, draft, **change):
    draft.refresh_from_db()
    saved, outcome = draft_edits.import_draft_edit(
        actor=actor, draft=draft, version=draft.version, edit=change
    )
    return saved.data, outcome


def items(data) -> dict:
    return {item["code"]: item for item in draft_tasks(data)}


def area_codes(data, section, area) -> list[str]:
    tasks = data["sections"][section - 1]["key_areas"][area - 1]["tasks"]
    return [item["code"] for item in tasks]


def last_edit_event(draft):
    return AuditEvent.objects.filter(action="importdraft.edit", object_id=str(draft.pk)).last()


def test_the_office_edits_an_items_text_and_the_ledger_records_before_and_after(supervisor, draft):
    data, _ = edit(
        supervisor,
        draft,
        op="text",
        code="1.1.03",
        title="完善科技企业孵化器扶持政策",
        source_text="完善科技企业孵化器扶持政策体系。",
    )
    assert items(data)["1.1.03"]["title"] == "完善科技企业孵化器扶持政策"
    assert items(data)["1.1.03"]["source_text"] == "完善科技企业孵化器扶持政策体系。"
    draft.refresh_from_db()
    assert draft.version == 2
    event = last_edit_event(draft)
    assert event.before["items"][0]["title"] == "完善孵化器政策体系"
    assert event.after["edit"]["op"] == "text"
    assert event.after["items"][0]["title"] == "完善科技企业孵化器扶持政策"
    assert (event.before["version"], event.after["version"]) == (1, 2)


def test_splitting_an_item_gives_one_item_per_line_each_with_its_own_target(supervisor, draft):
    data, outcome = edit(
        supervisor,
        draft,
        op="split",
        code="1.1.01",
        parts=["新增高新技术企业50家以上,", "", "引进落地10个以上科技项目。"],
    )
    assert outcome.codes == ["1.1.01", "1.1.02"]
    first, second = items(data)["1.1.01"], items(data)["1.1.02"]
    assert first["title"] == "新增高新技术企业50家以上"
    assert [spec["name"] for spec in first["indicators"]] == ["高新技术企业"]
    assert [spec["name"] for spec in second["indicators"]] == ["科技项目"]
    # The items after the split item move down one code.
    assert items(data)["1.1.03"]["title"] == "建设港澳青年创业中心"
    assert area_codes(data, 1, 1) == ["1.1.01", "1.1.02", "1.1.03", "1.1.04"]


def test_merging_items_keeps_the_first_ones_place_and_joins_texts_targets_and_departments(
    supervisor, draft, economic_bureau, tech_bureau
):
    edit(supervisor, draft, op="assign", codes=["1.1.02"], lead_department=tech_bureau.pk)
    edit(supervisor, draft, op="assign", codes=["1.2.01"], lead_department=economic_bureau.pk)
    data, outcome = edit(supervisor, draft, op="merge", codes=["1.2.01", "1.1.02"])
    merged = items(data)["1.1.02"]
    assert outcome.codes == ["1.1.02"]
    assert merged["source_text"] == "建设港澳青年创业中心。推进产业园区建设。"
    assert merged["title"] == "建设港澳青年创业中心,推进产业园区建设"
    assert merged["assignment"]["lead_department"] == tech_bureau.pk
    assert merged["assignment"]["co_departments"] == [economic_bureau.pk]
    assert data["sections"][0]["key_areas"][1]["tasks"] == []
    assert len(items(data)) == 6


def test_moving_items_to_another_key_area_appends_them_there_and_renumbers_both_areas(
    supervisor, draft
):
    data, outcome = edit(supervisor, draft, op="move", codes=["1.1.01", "1.1.03"], area="2.1")
    assert area_codes(data, 1, 1) == ["1.1.01"]
    assert items(data)["1.1.01"]["title"] == "建设港澳青年创业中心"
    assert area_codes(data, 2, 1) == ["2.1.01", "2.1.02", "2.1.03", "2.1.04"]
    assert items(data)["2.1.03"]["indicators"][0]["name"] == "高新技术企业"
    assert items(data)["2.1.04"]["title"] == "完善孵化器政策体系"
    assert outcome.codes == ["2.1.03", "2.1.04"]


def test_deleting_what_is_not_a_task(supervisor, draft):
    data, _ = edit(supervisor, draft, op="delete", codes=["2.1.02"])
    assert area_codes(data, 2, 1) == ["2.1.01"]
    assert "各位代表" not in str(data)
    assert last_edit_event(draft).before["items"][0]["title"] == "各位代表,谢谢大家"


def test_adding_an_item_the_parser_missed_reads_its_targets_and_suggests_departments(
    supervisor, draft
):
    data, outcome = edit(
        supervisor, draft, op="add", area="2.1", text="新建幼儿园3所,新增学位1000个。"
    )
    added = items(data)[outcome.codes[0]]
    assert outcome.codes == ["2.1.03"]
    assert added["title"] == "新建幼儿园3所,新增学位1000个"
    assert {spec["unit"] for spec in added["indicators"]} == {"所", "个"}
    assert set(added["suggestions"]) == {"lead", "co", "keywords"}
    headline, _ = edit(supervisor, draft, op="add", area="H", text="城镇调查失业率5.5%以内。")
    assert items(headline)["H02"]["title"] == "城镇调查失业率5.5%以内"


def test_indicators_are_edited_removed_and_added_with_name_value_unit_and_comparator(
    supervisor, draft
):
    rows = [
        {
            "name": "高新技术企业",
            "comparator": "gte",
            "value": "60",
            "value_max": "",
            "unit": "家",
            "source": "0",
        },
        {
            "name": "研发投入强度",
            "comparator": "between",
            "value": "3.5",
            "value_max": "4",
            "unit": "%",
            "source": "",
        },
    ]
    data, _ = edit(supervisor, draft, op="indicators", code="1.1.01", indicators=rows)
    first, second = items(data)["1.1.01"]["indicators"]
    assert (first["value"], first["unit"], first["comparator"]) == ("60", "家", "gte")
    assert (first["kind"], first["text"]) == ("count", "新增高新技术企业50家以上")
    assert (second["value"], second["value_max"], second["kind"]) == ("3.5", "4", "range")
    assert second["text"] == "研发投入强度3.5-4%"


def test_many_items_get_a_lead_department_at_once_and_what_is_left_empty_stays(
    supervisor, draft, economic_bureau, tech_bureau, leader
):
    edit(
        supervisor,
        draft,
        op="assign",
        codes=["1.1.01"],
        lead_department=tech_bureau.pk,
        responsible_leader=leader.pk,
        deadline="6月底前",
        replace=True,
    )
    codes = ["H01", "1.1.01", "1.1.02", "1.2.01", "2.1.01"]
    data, outcome = edit(
        supervisor,
        draft,
        op="assign",
        codes=codes,
        lead_department=economic_bureau.pk,
        co_departments=[tech_bureau.pk],
        deadline="",
    )
    assert outcome.codes == codes
    assert all(
        items(data)[code]["assignment"]["lead_department"] == economic_bureau.pk for code in codes
    )
    kept = items(data)["1.1.01"]["assignment"]
    assert (kept["responsible_leader"], kept["deadline"]) == (leader.pk, "2020-06-30")
    assert kept["co_departments"] == [tech_bureau.pk]
    assert "assignment" not in items(data)["1.1.03"]
    event = last_edit_event(draft)  # the ledger keeps what a bulk assignment changed, no more
    assert event.before["items"][0] == {"code": "H01"}
    assert event.after["items"][0]["assignment"]["lead_department"] == economic_bureau.pk
    assert set(event.after["items"][0]) == {"code", "assignment"}


def test_accepting_suggestions_finds_departments_whose_names_carry_a_suffix(supervisor, draft):
    sample = services.department_create(actor=None, name="经济发展局(示例)", is_sample=True)
    tech = services.department_create(actor=None, name="科技创新和产业发展局(示例)")
    data, outcome = edit(supervisor, draft, op="accept_suggestions", codes=["1.1.02", "1.1.03"])
    assignment = items(data)["1.1.02"]["assignment"]
    # 经济发展局 also exists without a suffix (the supervisor's fixture): the exact name wins.
    assert assignment["lead_department"] != sample.pk
    assert assignment["co_departments"] == [tech.pk]  # 财政局 is not in the system
    assert "1 项没有可用的建议" in outcome.message
    assert "assignment" not in items(data)["1.1.03"]


def test_an_edit_made_in_a_second_tab_on_an_older_version_is_refused(supervisor, draft):
    seen = draft.version
    draft_edits.import_draft_edit(
        actor=supervisor, draft=draft, version=seen, edit={"op": "delete", "codes": ["2.1.02"]}
    )
    draft.refresh_from_db()
    data = copy.deepcopy(draft.data)
    with pytest.raises(PreconditionFailed) as caught:
        draft_edits.import_draft_edit(
            actor=supervisor, draft=draft, version=seen, edit={"op": "delete", "codes": ["1.1.01"]}
        )
    assert caught.value.message == "数据已被他人修改,请刷新后重试。"
    draft.refresh_from_db()
    assert draft.data == data and draft.version == seen + 1


BAD_EDITS = [
    ({"op": "explode"}, "unknown_edit"),
    ({"op": "text", "code": "9.9.99", "title": "x"}, "unknown_item"),
    ({"op": "text", "code": "1.1.01", "title": "  "}, "text_required"),
    ({"op": "text", "code": "1.1.01", "title": "长" * 201}, "text_too_long"),
    ({"op": "split", "code": "1.1.01", "parts": ["只有一段。"]}, "split_needs_parts"),
    ({"op": "merge", "codes": ["1.1.01"]}, "merge_needs_two"),
    ({"op": "merge", "codes": ["H01", "1.1.01"]}, "merge_mixed"),
    ({"op": "move", "codes": ["1.1.01"], "area": "7.7"}, "unknown_area"),
    ({"op": "move", "codes": ["H01"], "area": "2.1"}, "move_headline"),
    ({"op": "move", "codes": [], "area": "2.1"}, "no_items_selected"),
    ({"op": "delete", "codes": ["1.1.01", "1.1.01"]}, "invalid_selection"),
    ({"op": "add", "area": "2.1", "text": "。"}, "text_required"),
    (
        {"op": "indicators", "code": "1.1.01", "indicators": [{"name": "", "value": "1"}]},
        "invalid_indicator_name",
    ),
    (
        {
            "op": "indicators",
            "code": "1.1.01",
            "indicators": [{"name": "企业", "comparator": "gte", "value": "五十", "unit": "家"}],
        },
        "invalid_value",
    ),
    (
        {
            "op": "indicators",
            "code": "1.1.01",
            "indicators": [{"name": "企业", "comparator": "gte", "value": "1e20", "unit": "家"}],
        },
        "invalid_value",
    ),
    (
        {
            "op": "indicators",
            "code": "1.1.01",
            "indicators": [{"name": "企业", "comparator": "about", "value": "5", "unit": "家"}],
        },
        "invalid_comparator",
    ),
    (
        {
            "op": "indicators",
            "code": "1.1.01",
            "indicators": [
                {"name": "企业", "comparator": "between", "value": "5", "value_max": "3"}
            ],
        },
        "invalid_range",
    ),
    ({"op": "assign", "codes": ["1.1.01"]}, "nothing_to_assign"),
    ({"op": "assign", "codes": ["1.1.01"], "lead_department": 999999}, "unknown_department"),
    ({"op": "assign", "codes": ["1.1.01"], "lead_department": "经发局"}, "unknown_department"),
    ({"op": "assign", "codes": ["1.1.01"], "responsible_leader": 999999}, "unknown_leader"),
    ({"op": "assign", "codes": ["1.1.01"], "deadline": "明年再说"}, "invalid_deadline"),
    ({"op": "accept_suggestions", "codes": ["1.1.03"]}, "no_suggestion"),
]


@pytest.mark.parametrize(("change", "code"), BAD_EDITS, ids=[code for _, code in BAD_EDITS])
def test_bad_input_is_refused_in_chinese_and_writes_nothing(supervisor, draft, change, code):
    before, events = copy.deepcopy(draft.data), AuditEvent.objects.count()
    with pytest.raises(ServiceError) as caught:
        draft_edits.import_draft_edit(actor=supervisor, draft=draft, version=1, edit=change)
    assert caught.value.code == code
    assert any("\u4e00" <= char <= "\u9fff" for char in str(caught.value.message))
    draft.refresh_from_db()
    assert (draft.data, draft.version) == (before, 1)
    assert AuditEvent.objects.count() == events


def test_a_lead_department_cannot_also_be_a_co_department(supervisor, draft, economic_bureau):
    with pytest.raises(ServiceError) as caught:
        draft_edits.import_draft_edit(
            actor=supervisor,
            draft=draft,
            version=1,
            edit={
                "op": "assign",
                "codes": ["1.1.01"],
                "lead_department": economic_bureau.pk,
                "co_departments": [economic_bureau.pk],
            },
        )
    assert caught.value.code == "lead_is_co"


def test_only_the_office_edits_and_a_published_draft_no_longer_changes(supervisor, clerk, draft):
    with pytest.raises(NotPermitted):
        draft_edits.import_draft_edit(
            actor=clerk, draft=draft, version=1, edit={"op": "delete", "codes": ["2.1.02"]}
        )
    ImportDraft.objects.filter(pk=draft.pk).update(
        status="published", published_at="2020-01-22T00:00Z"
    )
    with pytest.raises(Conflict):
        draft_edits.import_draft_edit(
            actor=supervisor, draft=draft, version=1, edit={"op": "delete", "codes": ["2.1.02"]}
        )
    draft.refresh_from_db()
    assert draft.version == 1 and not AuditEvent.objects.filter(action="importdraft.edit").exists()


def test_titles_lose_their_closing_punctuation_ascii_or_full_width():
    assert draft_edits.title_of("建设港澳青年创业中心\uff0c") == "建设港澳青年创业中心"
    assert draft_edits.title_of(" 推进产业园区建设。\n") == "推进产业园区建设"
    assert len(draft_edits.title_of("长" * 300)) == draft_edits.TITLE_MAX


GOOD_EDITS = [
    {"op": "text", "code": "1.1.03", "title": "完善孵化器政策"},
    {
        "op": "split",
        "code": "1.1.01",
        "parts": ["新增高新技术企业50家以上,", "引进落地10个以上科技项目。"],
    },
    {"op": "merge", "codes": ["1.1.02", "1.1.03"]},
    {"op": "move", "codes": ["1.2.01"], "area": "2.1"},
    {"op": "delete", "codes": ["2.1.02"]},
    {"op": "add", "area": "1.2", "text": "建设智能制造产业园。"},
    {"op": "indicators", "code": "2.1.01", "indicators": []},
    {"op": "accept_suggestions", "codes": ["1.1.01"]},
]


@pytest.mark.parametrize("change", GOOD_EDITS, ids=[change["op"] for change in GOOD_EDITS])
def test_every_edit_is_one_ledger_event_and_one_new_version(supervisor, draft, tech_bureau, change):
    events = AuditEvent.objects.count()
    saved, _ = draft_edits.import_draft_edit(actor=supervisor, draft=draft, version=1, edit=change)
    assert saved.version == 2
    assert AuditEvent.objects.count() == events + 1
    event = last_edit_event(draft)
    assert (event.actor_id, event.after["edit"]) == (supervisor.pk, change)


def test_a_merge_whose_text_would_be_too_long_is_refused(supervisor, draft):
    long_text = "建" * 1990 + "。"
    edit(supervisor, draft, op="text", code="1.1.02", title="长事项", source_text=long_text)
    draft.refresh_from_db()
    before = copy.deepcopy(draft.data)
    with pytest.raises(ServiceError) as caught:
        edit(supervisor, draft, op="merge", codes=["1.1.02", "1.1.03"])
    assert caught.value.code == "merge_too_long"
    draft.refresh_from_db()
    assert draft.data == before
