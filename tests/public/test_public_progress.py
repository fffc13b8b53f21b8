"""Public progress (政务公开): anyone reads the office's frozen snapshots without logging in, and
anyone who saved a snapshot, its hash and the checkpoints can prove later it was not rewritten."""

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from tasks_app.audit import ledger
from tasks_app.models import AuditEvent, PublicSnapshot, Role
from tasks_app.plans import demo
from tasks_app.plans import services as plans_services
from tasks_app.public import services as public_services
from tasks_app.reporting import services as reporting_services
from tests.audit.conftest import bypassing_triggers

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_public.py"
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def verify(tmp_path, content: bytes, sha256: str, *extra: str) -> subprocess.CompletedProcess:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_bytes(content)
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(snapshot), sha256, *extra],
        capture_output=True,
        text=True,
    )


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


@pytest.fixture
def published(plan, supervisor):
    plans_services.plan_publish(actor=supervisor, plan=plan)
    return plan


@pytest.fixture
def snapshot(published, supervisor) -> PublicSnapshot:
    return public_services.public_snapshot_publish(
        actor=supervisor, plan=published, title="2020年政府工作报告落实情况(第三季度)"
    )


def ledger_export(auditor, tmp_path) -> list[str]:
    """An auditor's ledger CSV export and its manifest, saved as files: verifier arguments."""
    client = api(auditor)
    response = client.get("/api/v1/audit/export/?format=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    manifest = client.get(f"/api/v1/audit/exports/{response['X-Export-Id']}/manifest/").json()
    (tmp_path / "ledger.csv").write_bytes(body)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return ["--ledger", str(tmp_path / "ledger.csv"), "--manifest", str(tmp_path / "manifest.json")]


def address(snapshot: PublicSnapshot, ending: str = "/") -> str:
    """A snapshot's public address: its plan, and its seq in the chain of the plan's government."""
    return f"/public/plans/{snapshot.plan_id}/snapshots/{snapshot.ledger_seq}{ending}"


def public_download(snapshot: PublicSnapshot) -> bytes:
    response = Client().get(address(snapshot, ".json"))
    assert response.status_code == 200
    return response.content


def test_after_the_demo_anyone_reads_public_progress_with_a_hash_and_its_ledger_seq(plan):
    demo.demo_seed(plan=plan)
    [snapshot] = PublicSnapshot.objects.all()
    event = AuditEvent.objects.get(seq=snapshot.ledger_seq)

    page = Client().get("/public/")  # nobody logged in
    text = page.content.decode()

    assert page.status_code == 200
    assert event.action == "public_snapshot.publish"
    assert event.after["sha256"] in HEX64.findall(text)
    assert f'<dd class="seq">{event.seq}</dd>' in text
    detail = Client().get(address(snapshot)).content.decode()
    assert event.after["sha256"] in detail and event.hash in detail
    content = public_download(snapshot)
    assert hashlib.sha256(content).hexdigest() == event.after["sha256"]
    assert len(json.loads(content)["tasks"]) == plan.tasks.count()


def test_the_verifier_accepts_an_untouched_snapshot_against_hash_ledger_and_checkpoints(
    snapshot, auditor, tmp_path
):
    ledger.checkpoint_record()
    feed = Client().get("/public/checkpoints.json").json()
    (tmp_path / "checkpoints.json").write_text(json.dumps(feed), encoding="utf-8")
    index = Client().get("/public/snapshots.json").json()["snapshots"]
    [listed] = [s for s in index if s["ledger_seq"] == snapshot.ledger_seq]

    result = verify(
        tmp_path,
        public_download(snapshot),
        listed["sha256"],
        "--seq",
        str(listed["ledger_seq"]),
        *ledger_export(auditor, tmp_path),
        "--checkpoints",
        str(tmp_path / "checkpoints.json"),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"published at ledger seq {snapshot.ledger_seq}" in result.stdout
    assert "1 checkpoints hold" in result.stdout


def test_a_snapshot_row_altered_behind_the_apps_back_fails_the_verifier(
    snapshot, auditor, tmp_path
):
    published_hash = snapshot.sha256
    forged = snapshot.content.replace('"progress":0', '"progress":100', 1)
    forged_hash = hashlib.sha256(forged.encode()).hexdigest()
    # Whoever owns the database rewrites the row, hash and all, with its triggers switched off.
    bypassing_triggers(
        "UPDATE tasks_app_publicsnapshot SET content = %s, sha256 = %s WHERE id = %s",
        [forged, forged_hash, snapshot.pk],
    )
    download = public_download(snapshot)
    page = Client().get(address(snapshot)).content.decode()

    assert download == forged.encode()
    assert published_hash in page and forged_hash not in page  # the page shows the ledger's hash
    against_page = verify(tmp_path, download, published_hash)
    assert against_page.returncode == 1 and "FAILED" in against_page.stdout
    # Even taking the forged hash at its word, the ledger never recorded it.
    against_ledger = verify(tmp_path, download, forged_hash, *ledger_export(auditor, tmp_path))
    assert against_ledger.returncode == 1
    assert "no publication" in against_ledger.stdout


def test_a_rewritten_ledger_fails_against_the_checkpoints_saved_before(snapshot, auditor, tmp_path):
    ledger.checkpoint_record()
    saved = Client().get("/public/checkpoints.json").json()
    (tmp_path / "checkpoints.json").write_text(json.dumps(saved), encoding="utf-8")
    last = AuditEvent.objects.order_by("-seq").first()
    bypassing_triggers(
        "UPDATE tasks_app_auditcheckpoint SET hash = %s", [last.hash]
    )  # the owner also rewrote the stored checkpoints...
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET hash = %s WHERE seq = %s", ["f" * 64, last.seq]
    )  # ...and the chain's last event

    result = verify(
        tmp_path,
        public_download(snapshot),
        snapshot.sha256,
        *ledger_export(auditor, tmp_path),
        "--checkpoints",
        str(tmp_path / "checkpoints.json"),
    )

    assert result.returncode == 1, result.stdout


@pytest.mark.postgres
def test_the_application_cannot_update_a_published_snapshot_on_postgres(snapshot):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tasks_app_publicsnapshot SET title = 'x'")


def test_an_unpublished_plan_answers_404_and_cannot_be_published(plan, supervisor):
    assert Client().get(f"/public/plans/{plan.pk}/").status_code == 404

    response = api(supervisor).post(f"/api/v1/plans/{plan.pk}/public-snapshots/", {})

    assert response.status_code == 409 and response.json()["code"] == "plan_not_published"
    assert not PublicSnapshot.objects.exists()


def test_a_plan_withdrawn_from_publication_disappears_from_the_public_pages(snapshot):
    PlanModel = type(snapshot.plan)
    PlanModel.objects.filter(pk=snapshot.plan_id).update(status="draft", published_at=None)

    assert Client().get(f"/public/plans/{snapshot.plan_id}/").status_code == 404
    assert Client().get(address(snapshot)).status_code == 404
    assert Client().get(address(snapshot, ".json")).status_code == 404
    assert Client().get(f"/public/snapshots/{snapshot.ledger_seq}/").status_code == 404
    assert snapshot.sha256 not in Client().get("/public/").content.decode()


def test_the_api_still_refuses_anonymous_callers(published):
    anonymous = APIClient()

    assert anonymous.get(f"/api/v1/plans/{published.pk}/public-snapshots/").status_code == 401
    assert anonymous.post(f"/api/v1/plans/{published.pk}/public-snapshots/").status_code == 401
    assert anonymous.get("/api/v1/tasks/").status_code == 401
    assert not PublicSnapshot.objects.exists()


def test_only_the_office_publishes_over_the_api_and_the_web_and_it_is_audited(
    published, supervisor, clerk
):
    refused = api(clerk).post(f"/api/v1/plans/{published.pk}/public-snapshots/", {})
    assert refused.status_code == 403 and not PublicSnapshot.objects.exists()

    created = api(supervisor).post(
        f"/api/v1/plans/{published.pk}/public-snapshots/", {"title": "第三季度落实情况"}
    )
    assert created.status_code == 201
    assert (
        created.json()["ledger_seq"] == AuditEvent.objects.get(action="public_snapshot.publish").seq
    )

    web = Client()
    web.force_login(clerk)
    assert web.get("/public/manage/").status_code == 404
    assert web.post(f"/public/manage/{published.pk}/publish/").status_code == 404
    web.force_login(supervisor)
    assert "发布快照" in web.get("/public/manage/").content.decode()
    answer = web.post(f"/public/manage/{published.pk}/publish/", {"title": "第四季度落实情况"})
    latest = PublicSnapshot.objects.order_by("-ledger_seq").first()
    assert answer.status_code == 302
    assert answer["Location"] == f"/public/plans/{published.pk}/snapshots/{latest.ledger_seq}/"
    assert latest.title == "第四季度落实情况" and PublicSnapshot.objects.count() == 2


def test_nothing_unpublished_no_person_and_no_evidence_file_is_public(
    published, supervisor, clerk, economic_bureau
):
    leader = plans_services.user_create(
        actor=None,
        username="quzhang",
        password="pw-leader-123456",
        role=Role.LEADER,
        display_name="李区长",
    )
    first, second = (
        plans_services.task_assign(
            actor=supervisor,
            task=task,
            lead_department=economic_bureau,
            responsible_leader=leader,
            start_date=dt.date(2020, 1, 1),
            deadline=dt.date(2020, 12, 31),
        )
        for task in published.tasks.order_by("position")[:2]
    )
    accepted = reporting_services.status_update_submit(
        actor=clerk,
        task=first,
        period=dt.date(2020, 3, 1),
        status="done",
        progress=100,
        narrative="内部情况:经办人反映资金缺口",
        explanation="审批延迟",  # the task is red: past its 2020 deadline
        public_narrative="项目已建成投用",
        evidence=[SimpleUploadedFile("验收报告-机密.pdf", PDF, "application/pdf")],
    )
    reporting_services.status_update_review(actor=supervisor, update=accepted, decision="accepted")
    reporting_services.status_update_submit(
        actor=clerk,
        task=second,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=40,
        narrative="草稿",
        explanation="审批延迟",
        public_narrative="尚未审核的公开口径",
    )
    named = plans_services.task_assign(
        actor=supervisor,
        task=published.tasks.order_by("position")[2],
        lead_department=economic_bureau,
    )
    with_name = reporting_services.status_update_submit(
        actor=clerk,
        task=named,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=50,
        narrative="进展",
        explanation="审批延迟",
        public_narrative="在李区长带领下推进",
    )
    reporting_services.status_update_review(actor=supervisor, update=with_name, decision="accepted")

    snapshot = public_services.public_snapshot_publish(actor=supervisor, plan=published)
    public = (
        public_download(snapshot).decode()
        + Client().get(address(snapshot)).content.decode()
        + Client().get("/public/").content.decode()
        + Client().get("/public/snapshots.json").content.decode()
    )

    assert "项目已建成投用" in public  # the office-approved public narrative
    for private in (
        "内部情况",  # the internal narrative
        "尚未审核的公开口径",  # a public narrative the office has not accepted
        "李区长",  # the leader, named in a field and in an approved narrative
        clerk.display_name or clerk.username,
        supervisor.display_name,
        "验收报告",  # the evidence file's name
        "/evidence/",
        accepted.evidence.get().sha256,
    ):
        assert private not in public, private
    event = AuditEvent.objects.get(seq=snapshot.ledger_seq)
    assert event.after["narratives_withheld"] == [named.code]


def test_the_checkpoint_feed_is_public_and_only_grows(snapshot):
    first = ledger.checkpoint_record()
    before = Client().get("/public/checkpoints.json").json()["checkpoints"]
    public_services.public_snapshot_publish(actor=snapshot.published_by, plan=snapshot.plan)
    ledger.checkpoint_record()
    after = Client().get("/public/checkpoints.json").json()["checkpoints"]

    assert before == [
        {
            "government_id": first.government_id,  # each government's chain has its checkpoints
            "government": first.government.name,
            "seq": first.seq,
            "hash": first.hash,
            "created_at": before[0]["created_at"],
        }
    ]
    assert after[: len(before)] == before and len(after) == len(before) + 1


def test_anonymous_readers_are_rate_limited_and_told_to_cache(snapshot, settings):
    settings.PUBLIC_RATE_PER_MINUTE = 3
    reader = Client()
    answers = [reader.get("/public/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "public" in answers[0]["Cache-Control"] and "max-age=60" in answers[0]["Cache-Control"]
    assert "Cookie" not in answers[0].get("Vary", "")
    assert Client(REMOTE_ADDR="10.0.0.9").get("/public/").status_code == 200  # another reader
