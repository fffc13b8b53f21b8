"""The benchmark's generated ledger is a valid chain: verify_audit passes on it."""

import io

import pytest
from django.core.management import call_command

from bench import ledgerfill
from bench.generate import Counts, generate
from tasks_app.audit import ledger
from tasks_app.models import AuditChainHead, AuditEvent, StatusUpdate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def province(db):
    """One government's plan and two months of reports, without a ledger yet."""
    return generate(scale=0.001, seed=3, months=2, without=("reminders", "ledger"))


def test_the_filled_ledger_continues_the_chain_and_verifies(supervisor, province):
    before = ledger.head()
    assert before.seq > 0  # the personas' creation is already in the ledger
    counts = Counts()
    ledgerfill.fill(scale=0.001, seed=3, counts=counts)
    filled = counts.rows["auditevent"]
    head = AuditChainHead.objects.get()
    last = AuditEvent.objects.order_by("-seq").first()
    assert (head.seq, head.hash) == (last.seq, last.hash) == (before.seq + filled, last.hash)
    assert AuditEvent.objects.get(seq=before.seq + 1).prev_hash == before.hash
    result = ledger.verify()
    assert result.ok and result.checked == head.seq, result.broken
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith(f"OK: {head.seq} events")


def test_every_report_and_review_has_its_events_in_time_order(supervisor, province):
    start = ledger.head().seq
    ledgerfill.fill(scale=0.001, seed=3, counts=Counts())
    updates = StatusUpdate.objects.count()
    assert AuditEvent.objects.filter(action="status_update.submit").count() == updates
    assert AuditEvent.objects.filter(action="status_update.accepted").count() == updates
    submit = AuditEvent.objects.filter(action="status_update.submit").first()
    update = StatusUpdate.objects.get(pk=submit.object_id)
    assert submit.actor_id == update.author_id and submit.actor_department.endswith("局")
    assert submit.after["progress"] == update.progress and submit.after["task"] == update.task_id
    assert len(submit.request_id) == 32 and submit.ip.startswith("10.")
    filled = AuditEvent.objects.filter(seq__gt=start).order_by("seq")
    times = list(filled.values_list("created_at", flat=True))
    assert times == sorted(times)
