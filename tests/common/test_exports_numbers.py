"""Every XLSX the system hands out is laid out for people: numbers as numbers, shares with a
percent format, a bold frozen header, fitted column widths and a Chinese sheet title."""

import io
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from rest_framework.test import APIClient

from tasks_app.audit import export_jobs
from tasks_app.models import Role
from tasks_app.plans import services as plans_services

pytestmark = pytest.mark.django_db

# Text a spreadsheet would flag as "number stored as text" (Excel keeps 15 significant digits,
# so a 64-digit hash is text by nature).
NUMBER_AS_TEXT = re.compile(r"-?\d{1,15}(\.\d+)?%?")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


def body_of(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


def every_xlsx(
    counted, auditor, leader, supervisor, settings, capture, monkeypatch
) -> dict[str, bytes]:
    plan, _tasks = counted
    bodies = {}
    api = APIClient()
    api.force_authenticate(auditor)
    bodies["ledger"] = body_of(api.get("/api/v1/audit/export/?format=xlsx"))
    bodies["progress"] = body_of(api.get("/api/v1/audit/progress-log/?format=xlsx"))
    settings.AUDIT_EXPORT_SYNC_MAX_ROWS = 1
    handed: list[int] = []  # the broker's part: the job id goes to this worker, not to Redis
    monkeypatch.setattr("tasks_app.audit.tasks.run_export_job.delay", handed.append)
    with capture(execute=True):
        job = api.post(
            "/api/v1/audit/exports/", {"kind": "ledger", "format": "xlsx"}, format="json"
        )
    assert job.status_code == 202, job.content
    assert handed == [job.json()["id"]]
    export_jobs.export_job_run(job_id=handed[0])
    bodies["ledger job"] = body_of(api.get(f"/api/v1/audit/exports/{job.json()['id']}/download/"))
    api.force_login(leader)  # the pages: a session
    bodies["dashboard"] = body_of(
        api.get(f"/dashboard/plans/{plan.pk}/export.xlsx?as_of=2020-06-30")
    )
    api.force_login(supervisor)
    bodies["breakdown"] = body_of(api.get(f"/imports/plans/{plan.pk}/breakdown/"))
    return bodies


def test_no_exported_xlsx_cell_holds_a_number_as_text_and_every_sheet_is_laid_out(
    counted,
    auditor,
    leader,
    supervisor,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    bodies = every_xlsx(
        counted,
        auditor,
        leader,
        supervisor,
        settings,
        django_capture_on_commit_callbacks,
        monkeypatch,
    )
    numbers_seen = 0
    for name, body in bodies.items():
        book = load_workbook(io.BytesIO(body))
        for sheet in book.worksheets:
            where = f"{name}/{sheet.title}"
            assert CJK.search(sheet.title), where
            assert sheet.freeze_panes == "A2", where
            header = [c for c in sheet[1] if c.value is not None]
            assert header and all(c.font.b for c in header), where
            for column in range(1, sheet.max_column + 1):
                width = sheet.column_dimensions[get_column_letter(column)].width
                assert width and width >= 6, (where, column)
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if isinstance(cell.value, str):
                        assert not NUMBER_AS_TEXT.fullmatch(cell.value), (where, cell.coordinate)
                    elif isinstance(cell.value, int | float):
                        numbers_seen += 1
    assert numbers_seen > 100


def test_shares_and_progress_carry_a_percent_format(
    counted,
    auditor,
    leader,
    supervisor,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    bodies = every_xlsx(
        counted,
        auditor,
        leader,
        supervisor,
        settings,
        django_capture_on_commit_callbacks,
        monkeypatch,
    )
    book = load_workbook(io.BytesIO(bodies["dashboard"]))
    overview = book["总览"]
    rate = [c for c in overview[1] if c.value == "完成率"][0].column
    assert overview.cell(row=2, column=rate).value == pytest.approx(1 / 6, abs=1e-4)
    assert overview.cell(row=2, column=rate).number_format == "0.0%"
    exceptions = book["异常任务"]
    progress = [c for c in exceptions[1] if c.value == "进度"][0].column
    assert exceptions.cell(row=2, column=progress).number_format == "0%"
    ledger = load_workbook(io.BytesIO(bodies["ledger"])).active
    assert ledger.title == "审计日志" and isinstance(ledger["A2"].value, int)
