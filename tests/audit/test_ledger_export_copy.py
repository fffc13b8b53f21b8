"""On PostgreSQL the ledger CSV is written by COPY: the very bytes the Python writer produces."""

import csv
import datetime as dt
import hashlib
import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tasks_app.audit import export_copy, export_jobs, exports, ledger
from tasks_app.audit import services as audit_services
from tasks_app.common import spreadsheets
from tasks_app.models import AuditEvent, ExportJob, Role
from tasks_app.plans import services as plans_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"

# Cells a spreadsheet would run, cells the CSV must quote, and JSON that sorts differently in
# PostgreSQL's jsonb (keys by length first) than in ledger.canonical (by code point).
AWKWARD = [
    dict(
        actor_username='=HYPERLINK("http://evil")',
        action="status_update.submit",
        object_repr="+86 138-0000-0000, 第一季度",
        before=None,
        after={
            "narrative": '完成"选址",\n推进方案设计;\r\n下一步:=SUM(A1)',
            "progress": "12.50",
            "zz": None,
            "b": [1, "二", {"y": True, "x": False, "中文": "值"}],
            "aa": {},
            "": [],
            "é": "\u2028 \x01 \\ \t",
            "😀": 12345678901234567890,
        },
    ),
    dict(
        actor_username="-clerk",
        action="@import",
        object_repr="'quoted",
        before={"status": "behind", "progress": 30},
        after={"status": "done", "progress": 100},
    ),
    dict(actor_username="\tclerk", action="\rcarriage", object_repr="", before=-5, after="=cmd"),
    dict(actor_username="审计局", action="plain", object_repr='引号"在中间', before=[], after=0),
]


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


@pytest.fixture
def awkward_ledger(supervisor, clerk, plan):
    for i, fields in enumerate(AWKWARD):
        ledger.append(
            actor_id=(clerk if i % 2 else supervisor).pk if i != 2 else None,
            actor_role="staff",
            actor_department="经济发展局, 综合科",
            object_type="statusupdate",
            object_id=str(i),
            context=ledger.RequestContext(
                ip="10.0.0.1", user_agent='Mozilla/5.0 (X11; "Linux")', request_id=f"-{i:07d}"
            ),
            **fields,
        )
    return AuditEvent.objects.count()


def python_csv(job: ExportJob) -> bytes:
    """The export as the row-by-row writer (the only one on SQLite) produces it."""
    stats = export_jobs.ExportStats()
    return b"".join(spreadsheets.csv_chunks(*export_jobs.export_rows(job, stats)))


def copy_csv(job: ExportJob, path: Path) -> tuple[bytes, export_jobs.ExportStats, str, int]:
    stats = export_jobs.ExportStats()
    with open(path, "wb") as handle:
        digest, size = export_copy.copy_ledger_csv(job, handle, stats)
    return path.read_bytes(), stats, digest, size


def start(auditor, filters=None) -> ExportJob:
    return export_jobs.export_start(
        actor=auditor, kind="ledger", format="csv", filters=filters or {}, background=True
    )


def test_the_copy_export_is_byte_identical_to_the_python_writer(auditor, awkward_ledger, tmp_path):
    job = start(auditor)
    expected = python_csv(job)
    written, stats, digest, size = copy_csv(job, tmp_path / "copy.csv")
    assert written == expected
    assert (size, stats.rows) == (len(expected), awkward_ledger + 1)  # + the export's own event
    assert (stats.first_seq, stats.last_seq) == (1, job.manifest["chain_head"]["seq"])
    assert digest == hashlib.sha256(expected).hexdigest()
    assert '\'=HYPERLINK(""http://evil"")' in written.decode("utf-8")
    assert ',"完成' not in written.decode("utf-8")  # JSON cells hold canonical text, quoted


def test_every_stored_canonical_column_is_ledger_canonical(awkward_ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, canonical_before, canonical_after FROM tasks_app_auditevent ORDER BY seq"
        )
        stored = {seq: (before, after) for seq, before, after in cursor.fetchall()}
    for event in AuditEvent.objects.order_by("seq"):
        assert stored[event.seq] == (ledger.canonical(event.before), ledger.canonical(event.after))


@pytest.mark.parametrize(
    "filters",
    [
        {"action": "status_update"},
        {"date_from": "2000-01-01", "date_to": "2999-12-31"},
        {"date_from": "2999-01-01"},
    ],
)
def test_filtered_copy_exports_match_the_python_writer_too(
    auditor, awkward_ledger, tmp_path, filters
):
    job = start(auditor, filters)
    written, stats, _digest, _size = copy_csv(job, tmp_path / "copy.csv")
    assert written == python_csv(job)
    rows = list(csv.reader(io.StringIO(written.decode("utf-8")[1:], newline="")))
    assert stats.rows == len(rows) - 1
    action = exports.LEDGER_KEYS.index("action")
    assert all(row[action].startswith(filters.get("action", "")) for row in rows[1:])
    if stats.rows == 0:
        assert (stats.first_seq, stats.last_seq) == (None, None)


def test_the_background_job_file_verifies_offline(auditor, awkward_ledger, tmp_path):
    job = export_jobs.export_job_run(job_id=start(auditor).pk)
    assert job.state == "done" and job.manifest["row_count"] == awkward_ledger + 1
    data, meta = tmp_path / "ledger.csv", tmp_path / "ledger.manifest.json"
    data.write_bytes(job.file.read())
    meta.write_text(json.dumps(job.manifest, ensure_ascii=False))
    result = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(data), str(meta)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK: {awkward_ledger + 1} rows")


def test_an_event_recorded_after_the_export_started_is_not_in_it(auditor, awkward_ledger, tmp_path):
    job = start(auditor)
    audit_services.audit_log(actor=auditor, action="later", object_type="x", object_repr="后来")
    written, stats, _digest, _size = copy_csv(job, tmp_path / "copy.csv")
    assert stats.last_seq == job.manifest["chain_head"]["seq"] < ledger.head().seq
    assert b"later" not in written


def test_timestamps_are_written_like_ledger_timestamp(auditor, supervisor, tmp_path):
    at = dt.datetime(2025, 3, 1, 16, 0, 0, tzinfo=dt.UTC)  # whole second: still .000000Z
    event = audit_services.audit_log(actor=supervisor, action="x", object_type="y", object_repr="z")
    with connection.cursor() as cursor:  # the ledger refuses UPDATE; compare the formatting
        cursor.execute(
            """SELECT to_char(%s::timestamptz AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
            [at],
        )
        assert cursor.fetchone()[0] == ledger.timestamp(at) == "2025-03-01T16:00:00.000000Z"
    written, *_ = copy_csv(start(auditor), tmp_path / "copy.csv")
    assert ledger.timestamp(event.created_at).encode() in written


# --- Which rows are neutralised: the ledger's formula_risk flag (migration 0031) ----------------

formula_risk = importlib.import_module("tasks_app.migrations.0031_auditevent_formula_risk")


def test_the_flag_tests_exactly_the_cells_the_export_neutralises_by_it():
    flagged = {
        key
        for key in exports.LEDGER_KEYS
        if key not in export_copy.READABLE_KEYS
        and export_copy.stored_cell(key)[1] == export_copy.FLAGGED
    }
    assert flagged == {*formula_risk.TEXT_CELLS, "actor_id", "before", "after"}
    codes = ", ".join(str(ord(prefix)) for prefix in spreadsheets.DANGEROUS_PREFIXES)
    assert formula_risk.CODES == codes


def one_risky_cell(column: str) -> dict:
    """An event whose one cell a spreadsheet would run is column's (none: no such cell)."""
    fields = dict(
        actor_username="clerk",
        actor_role="staff",
        actor_department="经济发展局",
        action="status_update.submit",
        object_type="statusupdate",
        object_id="7",
        object_repr="1.1.001 2025-03",
        before={"progress": 10},
        after={"progress": 20},
    )
    context = {"ip": "10.0.0.1", "user_agent": "Mozilla/5.0", "request_id": "ab12"}
    if column in ("before", "after"):
        fields[column] = -12  # canonical JSON "-12": the one JSON a formula character starts
    elif column in context:
        context[column] = "=1+1"
    elif column in fields:
        fields[column] = "@SUM(A1)"
    return dict(fields, context=ledger.RequestContext(**context))


@pytest.mark.parametrize(
    "column", [c for c in formula_risk.TEXT_CELLS if c not in ("prev_hash", "hash")] + ["before"]
)
def test_a_row_with_one_risky_cell_is_neutralised_as_the_python_writer_does(
    auditor, supervisor, tmp_path, column
):
    ledger.append(actor_id=supervisor.pk, **one_risky_cell(column))
    ledger.append(actor_id=supervisor.pk, **one_risky_cell("none"))  # a row with nothing risky
    with connection.cursor() as cursor:
        cursor.execute("SELECT formula_risk FROM tasks_app_auditevent ORDER BY seq DESC LIMIT 2")
        assert [flag for (flag,) in cursor.fetchall()] == [False, True]
    job = start(auditor)
    written, *_ = copy_csv(job, tmp_path / "copy.csv")
    assert written == python_csv(job)
    assert b",'=1+1," in written or b",'@SUM(A1)," in written or b",'-12," in written


# --- Two streams for a long chain ---------------------------------------------------------------


def test_a_long_chain_is_read_by_two_streams_into_the_same_bytes(
    transactional_db, auditor, awkward_ledger, tmp_path, settings, monkeypatch
):
    for i in range(20):
        audit_services.audit_log(actor=auditor, action="x.view", object_type="plan",
                                 object_repr=f"第{i}次")  # fmt: skip
    settings.AUDIT_EXPORT_PARALLEL_MIN_ROWS = 10
    streams = []
    start_stream = export_copy.SecondStream.start
    monkeypatch.setattr(
        export_copy.SecondStream,
        "start",
        lambda self: (streams.append(self), start_stream(self))[1],
    )
    job = start(auditor)
    written, stats, digest, size = copy_csv(job, tmp_path / "copy.csv")
    assert len(streams) == 1 and streams[0].rows.rows > 0  # the second half came from it
    assert written == python_csv(job)
    assert (stats.rows, stats.first_seq, stats.last_seq) == (
        awkward_ledger + 21,
        1,
        job.manifest["chain_head"]["seq"],
    )
    assert (digest, size) == (hashlib.sha256(written).hexdigest(), len(written))


def test_inside_a_transaction_the_export_stays_one_stream(auditor, awkward_ledger, settings):
    settings.AUDIT_EXPORT_PARALLEL_MIN_ROWS = 1
    assert connection.in_atomic_block
    # A second connection would not see the transaction's events.
    assert export_copy.stream_split(awkward_ledger) is None
