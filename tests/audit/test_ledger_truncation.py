"""Cutting the chain back (deleting its last events and rewinding the head) is caught by any
checkpoint that lies beyond the new head: stored ones, and ones kept outside the system."""

import io
import json

import pytest
from django.core.management import call_command

from tasks_app.audit import ledger
from tasks_app.models import AuditChainHead, AuditCheckpoint, AuditEvent
from tests.audit.conftest import bypassing_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture
def truncated(chain):
    """The chain with a checkpoint at its head, kept outside, then its last event cut off the way
    the database's owner could: rows deleted, the stored checkpoint too, the head rewound."""
    kept = ledger.checkpoints_export() if ledger.checkpoint_record(created_by="test") else []
    last = AuditEvent.objects.order_by("-seq").first()
    previous = AuditEvent.objects.get(seq=last.seq - 1)
    bypassing_triggers("DELETE FROM tasks_app_auditcheckpoint")
    bypassing_triggers("DELETE FROM tasks_app_auditevent WHERE seq = %s", [last.seq])
    bypassing_triggers(
        "UPDATE tasks_app_auditchainhead SET seq = %s, hash = %s",
        [previous.seq, previous.hash],
    )
    return kept, last.seq


def test_without_a_checkpoint_beyond_it_a_cut_chain_still_verifies(truncated):
    assert ledger.verify().ok, "nothing inside the chain shows the cut: only a checkpoint can"
    assert AuditChainHead.objects.get().seq == truncated[1] - 1


def test_a_checkpoint_kept_outside_beyond_the_head_reports_the_truncation(truncated):
    kept, cut_seq = truncated
    result = ledger.verify(checkpoints=ledger.checkpoints_parse(kept))
    assert not result.ok
    assert result.broken.reason == "truncated" and result.broken.seq == cut_seq
    assert str(cut_seq) in result.broken.expected


def test_verify_audit_with_kept_checkpoints_exits_1_naming_the_truncation(truncated, tmp_path):
    kept, cut_seq = truncated
    path = tmp_path / "kept.json"
    path.write_text(json.dumps(kept), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_audit", "--checkpoints", str(path), stderr=err)
    assert exit_code.value.code == 1
    assert "truncated" in err.getvalue() and f"seq {cut_seq}" in err.getvalue()


def test_a_stored_checkpoint_beyond_the_head_is_caught_too(chain):
    checkpoint = ledger.checkpoint_record(created_by="test")
    last = AuditEvent.objects.get(seq=checkpoint.seq)
    bypassing_triggers("DELETE FROM tasks_app_auditevent WHERE seq = %s", [last.seq])
    bypassing_triggers("UPDATE tasks_app_auditchainhead SET seq = seq - 1")
    assert AuditCheckpoint.objects.filter(seq=last.seq).exists()
    result = ledger.verify()
    assert not result.ok and result.broken.reason == "truncated"


def test_a_range_check_below_the_head_is_not_a_truncation(chain):
    ledger.checkpoint_record(created_by="test")
    assert ledger.verify(from_seq=1, to_seq=chain - 5).ok
