"""Exports of the ledger and of progress logs: safe CSV and XLSX, manifests, offline checks."""

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tasks_app.audit import export_jobs, exports, ledger
from tasks_app.common import spreadsheets
from tasks_app.models import AuditChainHead, AuditEvent, ExportJob, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None,
        username="shenji",
        password="pw-audit-123456",
        role=Role.AUDITOR,
        display_name="审计局张审计",
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def reported(plan, supervisor, clerk, economic_bureau, tech_bureau):
    """Two tasks of two departments, each with a report; one returned, one accepted."""
    tasks = list(plan.tasks.order_by("position")[:2])
    econ = plans_services.task_assign(
        actor=supervisor,
        task=tasks[0],
        lead_department=economic_bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    tech = plans_services.task_assign(actor=supervisor, task=tasks[1], lead_department=tech_bureau)
    update = reporting_services.status_update_submit(
        actor=clerk,
        task=econ,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative='=HYPERLINK("http://evil") 完成选址',
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    reporting_services.status_update_review(
        actor=supervisor, update=update, decision="returned", reason="请补充数据"
    )
    return {"econ": econ, "tech": tech, "update": update}


COLUMN = {key: index for index, key in enumerate(exports.LEDGER_KEYS)}
ACTION, AFTER = COLUMN["action"], COLUMN["after"]
OBJECT_TYPE, OBJECT_ID = COLUMN["object_type"], COLUMN["object_id"]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8")[1:], newline="")))


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_a_ledger_export_is_utf8_csv_with_bom_and_formula_cells_neutralised(auditor, reported):
    response, body = download(api(auditor), "/api/v1/audit/export/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(body)
    assert rows[0] == list(exports.LEDGER_COLUMNS)
    submit = next(r for r in rows[1:] if r[ACTION] == "status_update.submit")
    after = submit[AFTER]
    assert "完成选址" in after  # Chinese kept as is
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert spreadsheets.neutralise("=1+1") == "'=1+1" and spreadsheets.neutralise("-5") == "'-5"
    assert spreadsheets.neutralise("@SUM") == "'@SUM" and spreadsheets.neutralise("+1") == "'+1"
    assert spreadsheets.neutralise("正常") == "正常"


def test_an_export_comes_with_a_manifest_and_is_itself_in_the_ledger(auditor, reported):
    client = api(auditor)
    response, body = download(client, "/api/v1/audit/export/?format=csv&action=status_update")
    job = ExportJob.objects.get(pk=response["X-Export-Id"])
    manifest = client.get(f"/api/v1/audit/exports/{job.pk}/manifest/").json()
    events = AuditEvent.objects.filter(action__startswith="status_update").order_by("seq")
    assert manifest["filters"] == {"action": "status_update"}
    assert manifest["row_count"] == len(read_csv(body)) - 1 == events.count()
    assert (manifest["first_seq"], manifest["last_seq"]) == (events.first().seq, events.last().seq)
    assert manifest["file_sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["file_bytes"] == len(body)
    started = AuditEvent.objects.get(action="audit.export")
    assert manifest["chain_head"]["seq"] == started.seq  # the head includes the export's event
    assert manifest["exported_by"]["username"] == "shenji"
    assert started.after["filters"] == {"action": "status_update"}
    completed = AuditEvent.objects.get(action="audit.export.completed")
    assert completed.after["file_sha256"] == manifest["file_sha256"]
    assert completed.actor_id == auditor.pk


@pytest.mark.parametrize(
    "query, expected",
    [
        ("task={econ}", {"status_update.submit", "task.assign", "status_update.returned"}),
        ("department={dept}", {"status_update.submit", "task.assign", "status_update.returned"}),
        ("action=status_update.returned", {"status_update.returned"}),
    ],
)
def test_ledger_exports_filter_by_task_department_action(
    auditor, reported, economic_bureau, query, expected
):
    url = "/api/v1/audit/export/?" + query.format(econ=reported["econ"].pk, dept=economic_bureau.pk)
    rows = read_csv(download(api(auditor), url)[1])[1:]
    actions = {row[ACTION] for row in rows}
    assert expected <= actions
    assert all(
        row[OBJECT_ID] != str(reported["tech"].pk) or row[OBJECT_TYPE] != "task" for row in rows
    )


def test_ledger_exports_filter_by_plan_and_date_range(auditor, reported, plan):
    today = dt.date.today().isoformat()
    rows = read_csv(
        download(
            api(auditor), f"/api/v1/audit/export/?plan={plan.pk}&date_from={today}&date_to={today}"
        )[1]
    )[1:]
    assert {"plan.create", "task.create", "status_update.submit"} <= {row[ACTION] for row in rows}
    assert "department.create" not in {row[ACTION] for row in rows}
    empty = read_csv(download(api(auditor), "/api/v1/audit/export/?date_to=2001-01-01")[1])
    assert empty == [list(exports.LEDGER_COLUMNS)]


def test_a_bad_filter_answers_400_and_writes_nothing(auditor, reported):
    before = AuditEvent.objects.count()
    for query in (
        "task=999999",
        "date_from=2020-13-01",
        "format=pdf",
        "date_from=2020-02-01&date_to=2020-01-01",
    ):
        response = api(auditor).get("/api/v1/audit/export/?" + query)
        assert response.status_code == 400, query
        assert response.json()["code"] in {"invalid_filter", "invalid_format"}
        assert response.json()["message"]
    assert AuditEvent.objects.count() == before
    assert not ExportJob.objects.exists()


def test_an_xlsx_export_opens_in_a_spreadsheet_with_formulas_neutralised(auditor, reported):
    from openpyxl import load_workbook

    response, body = download(api(auditor), "/api/v1/audit/progress-log/?format=xlsx")
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(exports.PROGRESS_COLUMNS)
    (row,) = rows[1:]
    assert row[8].startswith("'=HYPERLINK")
    assert "退回" in row[14] and "请补充数据" in row[14]
    job = ExportJob.objects.get(pk=response["X-Export-Id"])
    assert job.manifest["file_sha256"] == hashlib.sha256(body).hexdigest()


def test_the_progress_log_lists_updates_with_reviews_by_department(
    auditor, reported, tech_bureau, economic_bureau
):
    rows = read_csv(
        download(api(auditor), f"/api/v1/audit/progress-log/?department={economic_bureau.pk}")[1]
    )
    assert rows[0] == list(exports.PROGRESS_COLUMNS)
    (row,) = rows[1:]
    assert (row[2], row[4], row[5], row[7]) == (
        reported["econ"].code,
        "经济发展局",
        "2020-03",
        "30",
    )
    assert row[13] == "已退回" and "请补充数据" in row[14]
    beijing = dt.datetime.strptime(row[11], "%Y-%m-%d %H:%M")
    utc = dt.datetime.strptime(row[12][:16], "%Y-%m-%dT%H:%M")
    assert row[12].endswith("Z") and beijing - utc == dt.timedelta(hours=8)
    # March's report was due 2020-04-07 (5 April was 清明) and first submitted years later.
    assert row[15:] == ["2020-04-07", "逾期"]
    other = read_csv(
        download(api(auditor), f"/api/v1/audit/progress-log/?department={tech_bureau.pk}")[1]
    )
    assert other == [list(exports.PROGRESS_COLUMNS)]


def test_the_progress_log_costs_the_same_queries_for_23_reports_as_for_1(auditor, reported, clerk):
    from django.test.utils import CaptureQueriesContext

    from tasks_app.models import StatusUpdate

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            download(api(auditor), "/api/v1/audit/progress-log/")
        return len(captured)

    few = queries()
    StatusUpdate.objects.bulk_create(
        StatusUpdate(
            task=task,
            period=dt.date(2020, month, 1),
            status="on_schedule",
            progress=month,
            narrative="按序时推进。",
            author=clerk,
        )
        for task in (reported["econ"], reported["tech"])
        for month in range(1, 13)
        if month != 3
    )
    assert queries() == few
    rows = read_csv(download(api(auditor), "/api/v1/audit/progress-log/")[1])
    assert len(rows) == 1 + 23
    # The second department's task has no start date and its plan is a draft: nothing is owed.
    assert {tuple(r[15:]) for r in rows[1:] if r[4] != "经济发展局"} == {("", "非应报期")}


def test_only_auditors_the_office_and_admins_reach_the_audit_api(
    auditor, supervisor, admin_user, clerk, reported
):
    leader = plans_services.user_create(
        actor=None, username="leader", password="pw-leader-123456", role=Role.LEADER
    )
    urls = [
        "/api/v1/audit/events/",
        "/api/v1/audit/export/",
        "/api/v1/audit/progress-log/",
        "/api/v1/audit/exports/",
        "/api/v1/audit/verify/",
        "/api/v1/audit/checkpoints/",
    ]
    for user in (clerk, leader):
        for url in urls:
            response = api(user).get(url)
            assert response.status_code == 403, (user, url)
            assert response.json()["code"] in {"forbidden", "permission_denied"}
        assert api(user).post("/api/v1/audit/exports/", {}, format="json").status_code == 403
    assert APIClient().get("/api/v1/audit/events/").status_code in (401, 403)
    for user in (auditor, supervisor, admin_user):
        assert api(user).get("/api/v1/audit/events/").status_code == 200
    denials = AuditEvent.objects.filter(action="auth.permission_denied", actor=clerk).count()
    assert denials == len(urls) + 1


def test_the_events_api_pages_the_ledger_newest_first(auditor, reported):
    page = api(auditor).get("/api/v1/audit/events/?page_size=5").json()
    seqs = [e["seq"] for e in page["results"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 5
    assert page["next"]


def test_verification_over_the_api_reports_ok_and_is_audited(auditor, reported):
    body = api(auditor).get("/api/v1/audit/verify/").json()
    assert body["ok"] is True and body["broken"] is None
    assert body["checked"] == body["head_seq"] - 0
    assert AuditEvent.objects.filter(action="audit.verify").exists()
    assert api(auditor).get("/api/v1/audit/verify/?from_seq=x").status_code == 400


@pytest.fixture
def celery_eager():
    """Background jobs run in-process, as they do when no broker is configured."""
    from gaoxin.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_a_large_export_becomes_a_background_job_to_poll_and_fetch(
    auditor, reported, settings, django_capture_on_commit_callbacks, celery_eager
):
    settings.AUDIT_EXPORT_SYNC_MAX_ROWS = 5
    client = api(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/api/v1/audit/export/?format=csv")
    assert response.status_code == 202
    job_url = response["Location"]
    job = client.get(job_url).json()
    assert job["state"] == "done" and job["background"] is True
    file = client.get(job["download_url"])
    body = b"".join(file.streaming_content)
    manifest = client.get(job["manifest_url"]).json()
    assert manifest["file_sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["row_count"] == len(read_csv(body)) - 1 > 5
    assert AuditEvent.objects.filter(action="audit.download", actor=auditor).exists()


def test_an_export_job_can_be_asked_for_directly_and_answers_409_until_ready(
    auditor, reported, monkeypatch
):
    monkeypatch.setattr("tasks_app.audit.tasks.run_export_job.delay", lambda job_id: None)
    client = api(auditor)
    response = client.post(
        "/api/v1/audit/exports/", {"kind": "progress", "format": "xlsx"}, format="json"
    )
    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert (job.kind, job.format, job.state) == ("progress", "xlsx", "pending")
    waiting = client.get(f"/api/v1/audit/exports/{job.pk}/download/")
    assert waiting.status_code == 409 and waiting.json()["code"] == "export_not_ready"
    export_jobs.export_job_run(job_id=job.pk)
    assert client.get(f"/api/v1/audit/exports/{job.pk}/").json()["state"] == "done"
    assert client.get(f"/api/v1/audit/exports/{job.pk}/download/").status_code == 200
    bad = client.post("/api/v1/audit/exports/", {"kind": "secrets"}, format="json")
    assert bad.status_code == 400


# --- Offline verification -------------------------------------------------------------------------


def _exported(auditor, tmp_path, query="") -> tuple[Path, Path]:
    client = api(auditor)
    response, body = download(client, "/api/v1/audit/export/?format=csv" + query)
    manifest = client.get(f"/api/v1/audit/exports/{response['X-Export-Id']}/manifest/")
    data, meta = tmp_path / "ledger.csv", tmp_path / "ledger.manifest.json"
    data.write_bytes(body)
    meta.write_bytes(manifest.content)
    return data, meta


def verify_offline(data: Path, meta: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(data), str(meta)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=data.parent,
    )


def test_an_exported_file_verifies_offline_with_the_standard_library_only(
    auditor, reported, tmp_path
):
    data, meta = _exported(auditor, tmp_path)
    result = verify_offline(data, meta)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ")
    imports = [line for line in VERIFIER.read_text().splitlines() if line.startswith("import")]
    assert imports == ["import csv", "import hashlib", "import io", "import json", "import sys"]
    filtered = _exported(auditor, tmp_path, "&action=status_update")
    assert verify_offline(*filtered).returncode == 0


def test_one_changed_byte_makes_the_offline_check_fail(auditor, reported, tmp_path):
    data, meta = _exported(auditor, tmp_path)
    content = bytearray(data.read_bytes())
    at = content.index("完成选址".encode())
    content[at + 2] ^= 0x01
    data.write_bytes(bytes(content))
    result = verify_offline(data, meta)
    assert result.returncode == 1
    assert "FAILED: file SHA-256" in result.stdout


def test_a_forged_row_with_a_matching_manifest_still_fails_on_its_hash(auditor, reported, tmp_path):
    """Even a forger who rewrites the manifest's digest cannot fix the chain inside the file."""
    data, meta = _exported(auditor, tmp_path)
    text = data.read_bytes().decode("utf-8").replace("请补充数据", "数据已齐全")
    data.write_bytes(text.encode("utf-8"))
    manifest = json.loads(meta.read_text())
    manifest["file_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    manifest["file_bytes"] = len(text.encode("utf-8"))
    meta.write_text(json.dumps(manifest))
    result = verify_offline(data, meta)
    assert result.returncode == 1 and ": hash expected " in result.stdout
    returned = AuditEvent.objects.get(action="status_update.returned")
    assert f"seq {returned.seq}:" in result.stdout


def _rewrite(data: Path, meta: Path, text: str, **manifest_changes) -> None:
    """What a forger with both files does: change the file, then make the manifest match it."""
    data.write_bytes(text.encode("utf-8"))
    manifest = json.loads(meta.read_text())
    manifest.update(manifest_changes)
    manifest["file_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    manifest["file_bytes"] = len(text.encode("utf-8"))
    meta.write_text(json.dumps(manifest))


def test_an_unfiltered_export_cut_short_fails_even_with_its_manifest_edited_to_match(
    auditor, reported, tmp_path
):
    data, meta = _exported(auditor, tmp_path)
    lines = data.read_bytes().decode("utf-8").splitlines(keepends=True)
    manifest = json.loads(meta.read_text())
    _rewrite(
        data,
        meta,
        "".join(lines[:-1]),
        row_count=manifest["row_count"] - 1,
        last_seq=manifest["last_seq"] - 1,
    )
    result = verify_offline(data, meta)
    assert result.returncode == 1
    assert "rows are missing at the end" in result.stdout


def test_a_quote_added_before_a_cell_fails_the_offline_check(auditor, reported, tmp_path):
    data, meta = _exported(auditor, tmp_path)
    text = data.read_bytes().decode("utf-8").replace(",supervisor,", ",'supervisor,", 1)
    assert ",'supervisor," in text  # the actor_role cell of the office's first event
    _rewrite(data, meta, text)
    result = verify_offline(data, meta)
    assert result.returncode == 1
    assert "quote the exporter never adds" in result.stdout


# --- Memory -------------------------------------------------------------------------------------

ROWS = 100_000
MEMORY_BOUND = 24 * 1024 * 1024


def _bulk_chain(rows: int) -> None:
    """rows chained events, inserted fast (bulk), continuing the existing chain."""
    head = ledger.head()
    seq, prev_hash = head.seq, head.hash
    now = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
    batch = []
    for i in range(rows):
        seq += 1
        event = AuditEvent(
            government_id=head.government_id,
            seq=seq,
            prev_hash=prev_hash,
            created_at=now + dt.timedelta(seconds=i),
            actor_username="bulk",
            actor_role="staff",
            actor_department="经济发展局",
            action="status_update.submit",
            object_type="statusupdate",
            object_id=str(i),
            object_repr=f"任务 {i}",
            after={"narrative": "本月完成选址和方案设计," * 3, "i": i},
            ip="10.0.0.1",
            user_agent="Mozilla/5.0",
            request_id=f"{i:032x}",
        )
        event.hash = ledger.event_hash(event)
        prev_hash = event.hash
        batch.append(event)
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    AuditChainHead.objects.update_or_create(
        government_id=head.government_id, defaults={"seq": seq, "hash": prev_hash}
    )


def test_an_export_of_100000_rows_keeps_memory_under_a_fixed_bound(auditor):
    _bulk_chain(ROWS)
    job = export_jobs.export_start(
        actor=auditor, kind="ledger", format="csv", filters={}, background=False
    )
    size = 0
    tracemalloc.start()
    try:
        for chunk in export_jobs.csv_stream(job):
            size += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    assert job.manifest["row_count"] >= ROWS
    assert size > MEMORY_BOUND  # the file is bigger than the bound: it was never held whole
    print(
        f"\n[{connection.vendor}] {job.manifest['row_count']} rows, {size / 1e6:.1f} MB CSV, "
        f"peak traced memory {peak / 1e6:.1f} MB"
    )
    assert peak < MEMORY_BOUND
