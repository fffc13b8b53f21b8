"""No export runs what a department typed: hostile text in every free-text field, then every
CSV and XLSX the system hands out, and not one cell a spreadsheet would evaluate."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tasks_app.common.spreadsheets import DANGEROUS_PREFIXES
from tasks_app.models import Department, Review, Role, StatusUpdate, Task
from tasks_app.plans import services as plans_services

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/","x")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
]


@pytest.fixture
def hostile(counted):
    """The hand-counted plan with every free text a department or the office types hostile."""
    plan, _tasks = counted
    for n, task in enumerate(Task.objects.filter(plan=plan)):
        Task.objects.filter(pk=task.pk).update(title=HOSTILE[n % len(HOSTILE)])
    StatusUpdate.objects.update(narrative=HOSTILE[0])
    Review.objects.update(reason=HOSTILE[2])
    for n, department in enumerate(Department.objects.all()):
        Department.objects.filter(pk=department.pk).update(name=f"{HOSTILE[4]}{n}")
    return plan


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


def live_cells_in_csv(body: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig")))
    return [cell for row in rows for cell in row if cell.startswith(DANGEROUS_PREFIXES[:-1])]


def live_cells_in_xlsx(body: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(body))
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = cell.value if isinstance(cell.value, str) else ""
                if cell.data_type == "f" or text.startswith(DANGEROUS_PREFIXES[:-1]):
                    found.append(f"{sheet.title}!{cell.coordinate}: {cell.value!r}")
    return found


def body_of(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_no_export_holds_a_cell_a_spreadsheet_would_evaluate(
    client, hostile, supervisor, leader, auditor
):
    client.force_login(auditor)
    exports = {
        "ledger.csv": "/api/v1/audit/export/?format=csv",
        "ledger.xlsx": "/api/v1/audit/export/?format=xlsx",
        "progress.csv": "/api/v1/audit/progress-log/?format=csv",
        "progress.xlsx": "/api/v1/audit/progress-log/?format=xlsx",
    }
    bodies = {name: body_of(client.get(path)) for name, path in exports.items()}
    client.force_login(leader)
    bodies["dashboard.xlsx"] = body_of(
        client.get(f"/dashboard/plans/{hostile.pk}/export.xlsx?as_of=2020-06-30")
    )
    client.force_login(supervisor)
    bodies["workbench.csv"] = body_of(client.get("/workbench/export/?format=csv"))
    bodies["workbench.xlsx"] = body_of(client.get("/workbench/export/?format=xlsx"))
    breakdown = f"/imports/plans/{hostile.pk}/breakdown/"
    bodies["breakdown.csv"] = body_of(client.get(breakdown + "?format=csv"))
    bodies["breakdown.xlsx"] = body_of(client.get(breakdown))
    for name, body in bodies.items():
        live = live_cells_in_csv(body) if name.endswith(".csv") else live_cells_in_xlsx(body)
        assert live == [], f"{name}: {live[:5]}"
    progress = bodies["progress.csv"].decode("utf-8-sig")
    assert "'" + HOSTILE[0].replace('"', '""') in progress, "the text is kept, only disarmed"


def test_a_breakdown_exported_and_imported_back_keeps_its_hostile_titles_exactly(
    client, hostile, supervisor
):
    from tasks_app.importer.breakdown import read_rows, text

    client.force_login(supervisor)
    for query, name in (("?format=csv", "register.csv"), ("", "register.xlsx")):
        body = body_of(client.get(f"/imports/plans/{hostile.pk}/breakdown/{query}"))
        titles = {text(row.values["任务内容"]) for row in read_rows(body, name)}
        assert {"=1+1", "-2+3", "@SUM(A1:A9)"} <= titles, name
