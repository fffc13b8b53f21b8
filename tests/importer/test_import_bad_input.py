"""Bad input: each case gets a clear Chinese error (or a defined behaviour), never a 500 or a
partial write."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app.common.errors import ServiceError
from tasks_app.importer import breakdown_apply, drafts
from tasks_app.importer.decoding import MAX_TEXT_BYTES, decode_report
from tasks_app.models import AuditEvent, ImportDraft, Plan, Task

DATA = Path(__file__).parents[1] / "data"
SEED_TEXT = (DATA / "zhuhai_gaoxin_2020_report.txt").read_text(encoding="utf-8")


def test_it_reads_utf8_with_and_without_bom_and_gbk():
    assert decode_report(SEED_TEXT.encode("utf-8")) == (SEED_TEXT, "utf-8")
    assert decode_report(b"\xef\xbb\xbf" + SEED_TEXT.encode("utf-8")) == (SEED_TEXT, "utf-8-sig")
    assert decode_report(SEED_TEXT.encode("gbk")) == (SEED_TEXT, "gb18030")
    assert decode_report(SEED_TEXT.replace("\n", "\r\n").encode("gb18030"))[0] == SEED_TEXT


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"  \n\r\n ", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_file"),
        (b"PK\x03\x04" + bytes(range(256)), "binary_file"),
        ("正文\x07响铃".encode(), "binary_file"),
        (b"x" * (MAX_TEXT_BYTES + 1), "file_too_large"),
        (SEED_TEXT[:800].encode("gbk") + SEED_TEXT[800:].encode("utf-8"), "unknown_encoding"),
        (SEED_TEXT[:800].encode("utf-8") + SEED_TEXT[800:].encode("gbk"), "unknown_encoding"),
    ],
    ids=[
        "empty",
        "blank",
        "png",
        "zip",
        "control-chars",
        "too-large",
        "gbk-then-utf8",
        "utf8-then-gbk",
    ],
)
def test_it_refuses_files_that_are_not_a_report_text(data, code):
    with pytest.raises(ServiceError) as caught:
        decode_report(data)
    assert caught.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value.message))


def test_a_text_without_a_plan_heading_is_parsed_whole_with_a_warning(supervisor):
    draft = drafts.import_draft_create(
        actor=supervisor, data="今年我们要新增学位800个。".encode(), source_name="a.txt", year=2020
    )
    assert draft.data["warnings"]
    assert draft.data["plan_part"]["heading"] == ""


def _post_report(client, data: bytes, name="report.txt"):
    return client.post(
        reverse("imports-report"),
        {"file": SimpleUploadedFile(name, data), "year": 2020, "government": "", "title": ""},
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "提交的是空文件"),  # Django's own check on an empty upload
        (b"\x00\x01\x02binary", "不是纯文本"),
        (b"a" * (6 * 1024 * 1024), "超过5 MB"),
        (SEED_TEXT[:800].encode("gbk") + SEED_TEXT[800:].encode("utf-8"), "无法识别文件编码"),
    ],
    ids=["empty", "binary", "6MB", "mixed-encodings"],
)
def test_the_upload_page_answers_bad_files_with_a_chinese_error_and_writes_nothing(
    client, supervisor, data, message
):
    client.force_login(supervisor)
    events = AuditEvent.objects.count()
    response = _post_report(client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportDraft.objects.exists() and not Plan.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_20mb_upload_is_refused_with_413_before_it_is_read_and_writes_nothing(client, supervisor):
    client.force_login(supervisor)
    events = AuditEvent.objects.count()
    response = _post_report(client, b"a" * (20 * 1024 * 1024))
    assert response.status_code == 413
    assert "内容过大" in response.content.decode()
    assert not ImportDraft.objects.exists() and AuditEvent.objects.count() == events


def test_the_upload_page_takes_a_gbk_report(client, supervisor):
    client.force_login(supervisor)
    response = _post_report(client, SEED_TEXT.encode("gbk"))
    assert response.status_code == 302
    assert ImportDraft.objects.get().encoding == "gb18030"


def test_the_upload_page_refuses_an_impossible_year(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("imports-report"),
        {"file": SimpleUploadedFile("r.txt", SEED_TEXT.encode()), "year": 1800},
    )
    assert response.status_code == 400
    assert not ImportDraft.objects.exists()


# --- Spreadsheets --------------------------------------------------------------------------


def _book(build) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _table(sheet):
    sheet.append(["序号", "任务内容", "牵头单位"])
    sheet.append(["H01", "地区生产总值增长7%", "经济发展局"])


def with_formula(book):
    _table(book.active)
    book.active["D2"] = "=A2&B2"


def with_merged_cells(book):
    _table(book.active)
    book.active.append(["H02", "规模以上工业增加值增长8.5%", "经济发展局"])
    book.active.merge_cells("C2:C3")


def with_extra_sheet(book):
    _table(book.active)
    book.create_sheet("说明").append(["填表说明"])


def with_merged_title(book):
    sheet = book.active
    sheet.append(["2020年任务分解表"])
    sheet.merge_cells("A1:C1")
    _table(sheet)


def with_empty_extra_sheet(book):
    _table(book.active)
    book.create_sheet("Sheet2")


def without_task_column(book):
    book.active.append(["序号", "牵头单位"])
    book.active.append(["H01", "经济发展局"])


def header_only(book):
    book.active.append(["序号", "任务内容", "牵头单位"])


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (with_formula, "公式"),
        (with_merged_cells, "合并单元格"),
        (with_extra_sheet, "多个非空工作表"),
        (without_task_column, "找不到表头"),
        (header_only, "没有任务行"),
    ],
    ids=["formula", "merged", "extra-sheet", "no-task-column", "no-rows"],
)
def test_it_refuses_spreadsheets_it_cannot_read_faithfully(
    plan, supervisor, economic_bureau, build, reason
):
    events = AuditEvent.objects.count()
    with pytest.raises(breakdown_apply.BreakdownRejected) as caught:
        breakdown_apply.breakdown_import(
            actor=supervisor, plan=plan, data=_book(build), filename="t.xlsx"
        )
    assert any(reason in error["reason"] for error in caught.value.errors)
    assert not Task.objects.filter(lead_department__isnull=False).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "build",
    [with_merged_title, with_empty_extra_sheet],
    ids=["merged-title-row", "empty-extra-sheet"],
)
def test_a_merged_title_above_the_header_and_empty_extra_sheets_are_accepted(
    plan, supervisor, economic_bureau, build
):
    breakdown_apply.breakdown_import(
        actor=supervisor, plan=plan, data=_book(build), filename="t.xlsx"
    )
    assert plan.tasks.get(code="H01").lead_department == economic_bureau


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("t.xlsx", b"", "文件为空"),
        ("t.xlsx", b"PK\x03\x04 not really a zip", "不是有效的 XLSX"),
        ("t.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "只支持"),
        ("t.csv", b"\x00\x01\x02", "不是纯文本"),
        (
            "t.csv",
            "序号,任务内容\nH01,地区生产总值增长7%\n".encode("gbk")[:-3] + b"\xff\xfe",
            "无法识别",
        ),
    ],
    ids=["empty", "broken-zip", "old-xls", "binary-csv", "bad-encoding-csv"],
)
def test_it_refuses_unreadable_spreadsheet_files(plan, supervisor, name, data, reason):
    with pytest.raises(breakdown_apply.BreakdownRejected) as caught:
        breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename=name)
    assert reason in caught.value.errors[0]["reason"]


def test_a_gbk_csv_with_the_office_headers_is_read(plan, supervisor, economic_bureau):
    data = "编号,工作任务,牵头部门\nH01,地区生产总值增长7%,经济发展局\n".encode("gbk")
    breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="分解表.csv")
    assert plan.tasks.get(code="H01").lead_department == economic_bureau


def test_the_breakdown_page_shows_a_spreadsheet_with_a_formula_as_an_error(
    client, plan, supervisor
):
    client.force_login(supervisor)
    response = client.post(
        reverse("imports-breakdown"),
        {"plan": plan.pk, "file": SimpleUploadedFile("f.xlsx", _book(with_formula))},
    )
    assert response.status_code == 400
    assert "公式" in response.content.decode()
