"""The ledger is a hash chain: every event links to the one before, and tampering shows where.

Tampering is done the way an attacker with the database's superuser rights would: on PostgreSQL
with the triggers switched off (session_replication_role = replica); on SQLite there are none.
"""

import datetime as dt
import hashlib
import io
import json
import time

import pytest
from django.core.management import call_command
from django.db import connection

from tasks_app.audit import ledger
from tasks_app.audit import services as audit_services
from tasks_app.models import AuditChainHead, AuditCheckpoint, AuditEvent, Role
from tasks_app.plans import services as plans_services
from tests.audit.conftest import bypassing_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None,
        username="shenji",
        password="pw-audit-123456",
        role=Role.AUDITOR,
        display_name="审计局张审计",
    )


def test_every_service_write_joins_the_chain_and_the_chain_verifies(chain):
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, chain + 1))
    first = AuditEvent.objects.get(seq=1)
    assert first.prev_hash == ledger.GENESIS
    for earlier, later in zip(
        AuditEvent.objects.order_by("seq")[:50],
        AuditEvent.objects.order_by("seq")[1:51],
        strict=False,
    ):
        assert later.prev_hash == earlier.hash
    result = ledger.verify()
    assert result.ok and result.checked == chain
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (chain, AuditEvent.objects.get(seq=chain).hash)


def test_the_hash_is_sha256_over_sorted_compact_json_with_utc_timestamps(supervisor):
    plans_services.department_create(actor=supervisor, name='社会事务局 "新"\n')
    event = AuditEvent.objects.latest("seq")
    text = json.dumps(
        {
            "seq": event.seq,
            "prev_hash": event.prev_hash,
            "created_at": event.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": supervisor.pk,
            "actor_username": "dcs",
            "actor_role": "supervisor",
            "actor_department": "",
            "action": "department.create",
            "object_type": "department",
            "object_id": event.object_id,
            "object_repr": '社会事务局 "新"\n',
            "before": None,
            "after": event.after,
            "ip": "",
            "user_agent": "",
            "request_id": "",
            "government_id": supervisor.government_id,  # since the ledger has one chain each
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert event.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert '"actor_department":"","actor_id":' in text  # keys sorted, no spaces


def test_decimals_and_floats_are_stored_as_strings_so_every_platform_hashes_them_alike(supervisor):
    from decimal import Decimal

    event = audit_services.audit_log(
        actor=supervisor,
        action="test.values",
        object_type="x",
        after={"d": Decimal("12.5000"), "f": 0.1, "n": 3, 7: "key"},
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.after == {"d": "12.5", "f": "0.1", "n": 3, "7": "key"}
    assert ledger.verify().ok


def test_changing_a_rows_data_is_detected_at_that_row(chain):
    target = chain // 2
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET object_repr = %s WHERE seq = %s", ["改过的", target]
    )
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (target, "hash")
    assert broken.found == AuditEvent.objects.get(seq=target).hash
    assert broken.expected != broken.found


def test_changing_a_row_and_rehashing_it_is_detected_at_the_next_row(chain):
    target = chain // 2
    event = AuditEvent.objects.get(seq=target)
    event.after = {"title": "伪造"}
    forged = ledger.event_hash(event)
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET after = %s, hash = %s WHERE seq = %s",
        [json.dumps({"title": "伪造"}), forged, target],
    )
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (target + 1, "prev_hash")
    assert (broken.expected, broken.found) == (forged, event.hash)


def test_deleting_a_row_is_detected_at_its_sequence(chain):
    target = chain // 3
    bypassing_triggers("DELETE FROM tasks_app_auditevent WHERE seq = %s", [target])
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason, broken.expected, broken.found) == (
        target,
        "missing",
        str(target),
        str(target + 1),
    )


def test_deleting_the_last_rows_is_detected_against_the_head(chain):
    bypassing_triggers("DELETE FROM tasks_app_auditevent WHERE seq > %s", [chain - 2])
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (chain - 1, "missing")


def test_inserting_a_row_is_detected_where_the_forged_row_meets_the_real_chain(chain):
    """The forger shifts the rows after seq k up by one and writes a well-formed row at k."""
    k = chain // 2
    bypassing_triggers("UPDATE tasks_app_auditevent SET seq = seq + 1000000 WHERE seq >= %s", [k])
    bypassing_triggers("UPDATE tasks_app_auditevent SET seq = seq - 999999 WHERE seq > 1000000")
    previous = AuditEvent.objects.get(seq=k - 1)
    forged = AuditEvent(
        government_id=previous.government_id,
        seq=k,
        prev_hash=previous.hash,
        created_at=previous.created_at,
        actor_username="ghost",
        action="task.update",
        object_type="task",
        object_id="1",
        object_repr="伪造",
        after={"title": "伪造"},
    )
    forged.hash = ledger.event_hash(forged)
    forged.save(force_insert=True)
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (k + 1, "prev_hash")
    assert broken.expected == forged.hash


def test_reordering_two_rows_is_detected_at_the_first_of_them(chain):
    k = chain // 2
    bypassing_triggers("UPDATE tasks_app_auditevent SET seq = 1000000 WHERE seq = %s", [k])
    bypassing_triggers("UPDATE tasks_app_auditevent SET seq = %s WHERE seq = %s", [k, k + 1])
    bypassing_triggers("UPDATE tasks_app_auditevent SET seq = %s WHERE seq = 1000000", [k + 1])
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (k, "prev_hash")


def _rewrite_whole_chain_from(seq: int) -> None:
    """What a forger with full rights does: change one event and rehash everything after it."""
    events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev_hash = AuditEvent.objects.get(seq=seq - 1).hash
    events[0].object_repr = "改写"
    for event in events:
        event.prev_hash = prev_hash
        event.hash = ledger.event_hash(event)
        bypassing_triggers(
            "UPDATE tasks_app_auditevent SET object_repr = %s, prev_hash = %s, hash = %s "
            "WHERE seq = %s",
            [event.object_repr, event.prev_hash, event.hash, event.seq],
        )
        prev_hash = event.hash
    AuditChainHead.objects.update(hash=prev_hash)


def test_a_rewrite_of_the_whole_chain_is_caught_by_an_earlier_checkpoint(chain):
    checkpoint = ledger.checkpoint_record()
    kept = ledger.checkpoints_parse(ledger.checkpoints_export())
    _rewrite_whole_chain_from(chain // 2)
    # The forger can rewrite the stored checkpoints too; the copy kept elsewhere still holds.
    bypassing_triggers("DELETE FROM tasks_app_auditcheckpoint")
    assert ledger.verify().ok
    broken = ledger.verify(checkpoints=kept).broken
    assert (broken.seq, broken.reason, broken.expected) == (
        checkpoint.seq,
        "checkpoint",
        checkpoint.hash,
    )


def test_stored_checkpoints_are_checked_by_default(chain):
    checkpoint = ledger.checkpoint_record()
    _rewrite_whole_chain_from(3)
    broken = ledger.verify().broken
    assert (broken.seq, broken.reason) == (checkpoint.seq, "checkpoint")


def test_verify_audit_prints_the_first_broken_link_and_exits_non_zero(chain):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith(f"OK: {chain} events")
    event = AuditEvent.objects.get(seq=5)
    bypassing_triggers("UPDATE tasks_app_auditevent SET action = 'x' WHERE seq = 5")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stderr=err)
    assert exit_info.value.code == 1
    assert "BROKEN at seq 5 (hash)" in err.getvalue()
    assert f"found {event.hash}" in err.getvalue()
    ranged = io.StringIO()
    call_command("verify_audit", "--from-seq", "6", "--to-seq", "20", stdout=ranged)
    assert ranged.getvalue().startswith("OK: 15 events (seq 6..20)")


def test_verify_audit_takes_checkpoints_kept_in_a_file(chain, tmp_path):
    ledger.checkpoint_record()
    kept = tmp_path / "checkpoints.json"
    listing = io.StringIO()
    call_command("audit_checkpoint", "--list", stdout=listing)
    kept.write_text(listing.getvalue(), encoding="utf-8")
    _rewrite_whole_chain_from(10)
    bypassing_triggers("DELETE FROM tasks_app_auditcheckpoint")
    call_command("verify_audit", stdout=io.StringIO())
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_audit", "--checkpoints", str(kept), stderr=err)
    assert f"BROKEN at seq {chain} (checkpoint)" in err.getvalue()


def test_the_checkpoint_command_and_task_record_the_head_once_per_change(chain):
    from tasks_app.audit import tasks

    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert json.loads(out.getvalue())["seq"] == chain
    assert tasks.audit_checkpoint() == 0  # no chain moved since
    plans_services.department_create(actor=None, name="新部门")
    assert tasks.audit_checkpoint() == 1  # one chain moved: the default government's
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [chain + 1, chain]


def test_the_checkpoint_task_is_scheduled_by_beat(db):
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(task="tasks_app.audit_checkpoint")
    assert entry.enabled and entry.crontab.minute == "0"


def test_a_login_carries_ip_user_agent_and_the_request_id(client, supervisor):
    response = client.post(
        "/accounts/login/",
        {"username": "dcs", "password": "pw-dcs-123456"},
        HTTP_USER_AGENT="Mozilla/5.0 审计测试",
        HTTP_X_REQUEST_ID="req-0123456789",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-0123456789"
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.ip, event.user_agent, event.request_id) == (
        "10.1.2.3",
        "Mozilla/5.0 审计测试",
        "req-0123456789",
    )
    client.post("/accounts/login/", {"username": "dcs", "password": "wrong"})
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_id is None and len(failed.request_id) == 32


def test_a_permission_denial_is_an_event(client, clerk):
    client.force_login(clerk)
    assert client.get("/api/v1/audit/events/").status_code == 403
    event = AuditEvent.objects.get(action="auth.permission_denied")
    assert (event.actor_id, event.object_repr) == (clerk.pk, "GET /api/v1/audit/events/")
    assert event.actor_department == "经济发展局"


def test_a_user_with_events_cannot_be_deleted_so_the_ledger_never_changes(supervisor):
    from django.db.models import ProtectedError

    plans_services.department_create(actor=supervisor, name="社会事务局")
    with pytest.raises(ProtectedError):
        supervisor.delete()


def test_it_measures_what_chaining_costs_a_write(plan, supervisor, economic_bureau, capsys):
    """Not a timed test: prints status updates per second, and raw event inserts, with and
    without the chain, so the cost can be reported."""
    from tasks_app.models import Task

    task = plan.tasks.order_by("position").first()
    plans_services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    n = 200

    def chained_updates() -> float:
        start = time.perf_counter()
        for i in range(n):
            task_now = Task.objects.get(pk=task.pk)
            plans_services.task_update(
                actor=supervisor, task=task_now, expected_version=task_now.version, title=f"标题{i}"
            )
        return n / (time.perf_counter() - start)

    def inserts(chained: bool) -> float:
        start = time.perf_counter()
        base = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        for i in range(n):
            if chained:
                audit_services.audit_log(
                    actor=supervisor, action="bench", object_type="x", after={"i": i}
                )
            else:
                AuditEvent.objects.create(
                    government_id=supervisor.government_id,
                    seq=base + 10_000_000 + i,
                    prev_hash="",
                    hash="",
                    actor=supervisor,
                    actor_username="dcs",
                    action="bench",
                    object_type="x",
                    after={"i": i},
                )
        return n / (time.perf_counter() - start)

    updates_per_second = chained_updates()
    chained, plain = inserts(True), inserts(False)
    with capsys.disabled():
        print(
            f"\n[{connection.vendor}] status/task updates through services: "
            f"{updates_per_second:.0f}/s; audit event inserts: chained {chained:.0f}/s, "
            f"unchained {plain:.0f}/s ({plain / chained:.2f}x)"
        )
    assert updates_per_second > 0 and chained > 0
