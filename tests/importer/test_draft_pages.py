"""The draft page: one section at a time, every edit a form post carrying the draft's version."""

import pytest
from django.urls import reverse

from tasks_app.models import AuditEvent, ImportDraft
from tests.importer.draft_builders import small_draft


@pytest.fixture
def draft(supervisor):
    return small_draft(supervisor)


@pytest.fixture
def office(client, supervisor):
    client.force_login(supervisor)
    return client


def page(client, draft, **params) -> str:
    response = client.get(reverse("imports-draft", args=[draft.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def post(client, draft, **form):
    return client.post(reverse("imports-edit", args=[draft.pk]), form)


def test_the_page_shows_the_headline_targets_then_one_section_at_a_time(office, draft):
    first = page(office, draft)
    assert 'id="row-H01"' in first and 'id="row-1.1.01"' not in first
    section = page(office, draft, p="1")
    assert 'id="row-1.1.01"' in section and 'id="row-1.2.01"' in section
    assert 'id="row-2.1.01"' not in section
    assert "(一)" in section and "(二)" in section  # the tabs of every section
    assert "未指定牵头单位的事项" in section  # the checks, on every page


def test_opening_an_item_shows_its_edit_forms(office, draft):
    opened = page(office, draft, p="1", edit="1.1.01")
    for form in ("text-form", "split-form", "indicators-form", "assign-form", "move-form"):
        assert f'id="{form}"' in opened
    assert 'value="高新技术企业"' in opened  # its indicator, editable


def test_an_edit_posted_from_the_page_is_saved_and_leads_back_to_its_row(office, draft):
    response = post(
        office,
        draft,
        version=1,
        p="1",
        op="split",
        code="1.1.01",
        parts="新增高新技术企业50家以上,\r\n引进落地10个以上科技项目。",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports-draft", args=[draft.pk]) + "?p=1#row-1.1.01"
    draft.refresh_from_db()
    assert draft.version == 2
    assert len(draft.data["sections"][0]["key_areas"][0]["tasks"]) == 4
    assert "已拆分为 2 项" in page(office, draft, p="1")


def test_an_item_open_for_editing_stays_open_after_its_text_is_saved(office, draft):
    response = post(
        office, draft, version=1, p="1", edit="1.1.03", op="text", code="1.1.03", title="新名称"
    )
    assert response["Location"].endswith("?p=1&edit=1.1.03#row-1.1.03")


def test_the_bulk_bar_assigns_the_ticked_rows(office, draft, economic_bureau):
    response = post(
        office,
        draft,
        version=1,
        p="1",
        op="assign",
        codes=["1.1.01", "1.1.02", "1.2.01"],
        lead_department=economic_bureau.pk,
        co_departments=[],
        responsible_leader="",
        deadline="",
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    leads = [
        item.get("assignment", {}).get("lead_department")
        for area in draft.data["sections"][0]["key_areas"]
        for item in area["tasks"]
    ]
    assert leads == [economic_bureau.pk, economic_bureau.pk, None, economic_bureau.pk]


def test_a_bad_edit_answers_400_with_the_reason_in_chinese_and_writes_nothing(office, draft):
    events = AuditEvent.objects.count()
    response = post(
        office, draft, version=1, p="1", edit="1.1.01", op="split", code="1.1.01", parts="一段"
    )
    assert response.status_code == 400
    assert "拆分须至少分成两段" in response.content.decode()
    assert 'id="split-form"' in response.content.decode()  # the item stays open
    draft.refresh_from_db()
    assert draft.version == 1 and AuditEvent.objects.count() == events


def test_a_second_tab_with_an_older_version_is_told_to_reload(office, draft):
    assert post(office, draft, version=1, op="delete", codes=["2.1.02"]).status_code == 302
    response = post(office, draft, version=1, op="delete", codes=["1.1.01"])
    assert response.status_code == 412
    assert "数据已被他人修改,请刷新后重试。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.version == 2 and len(draft.data["sections"][0]["key_areas"][0]["tasks"]) == 3


def test_publishing_is_offered_only_when_the_checks_pass(office, draft, economic_bureau):
    assert "disabled" in page(office, draft).split('id="publish-form"')[1].split("</form>")[0]
    response = office.post(reverse("imports-publish", args=[draft.pk]), {"version": 1})
    assert response.status_code == 409
    codes = ["H01", "1.1.01", "1.1.02", "1.1.03", "1.2.01", "2.1.01", "2.1.02"]
    post(office, draft, version=1, op="assign", codes=codes, lead_department=economic_bureau.pk)
    assert 'id="checks-ok"' in page(office, draft)
    response = office.post(reverse("imports-publish", args=[draft.pk]), {"version": 2})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ImportDraft.Status.PUBLISHED


def test_departments_cannot_edit_a_draft(client, clerk, draft):
    client.force_login(clerk)
    assert post(client, draft, version=1, op="delete", codes=["2.1.02"]).status_code == 403
    assert client.get(reverse("imports-draft", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.version == 1


def test_an_unknown_draft_is_404(office):
    response = office.post(reverse("imports-edit", args=[999999]), {"version": 1, "op": "delete"})
    assert response.status_code == 404
