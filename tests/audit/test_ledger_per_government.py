"""Each government keeps its own hash chain: its own head, seq and checkpoints. Two governments'
offices write at once without waiting for each other, each chain verifies on its own, a tamper in
one is reported for that government alone, and an auditor reads and exports only its own."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from tasks_app.audit import export_jobs, ledger
from tasks_app.models import AuditEvent, Department, Government, Role, Task, User
from tasks_app.plans import services as plans_services
from tasks_app.plans.tenants import default_government_id
from tests.audit.conftest import bypassing_triggers

LONGGANG = "深圳市龙岗区"


def _person(government: Government, username: str, role: str, department=None) -> User:
    user = User(username=username, role=role, government=government, department=department)
    user.set_password(f"pw-{username}-123456")
    user.save()
    return user


@pytest.fixture
def longgang(db) -> Government:
    return Government.objects.create(name=LONGGANG, code="longgang", level="district")


@pytest.fixture
def longgang_office(longgang) -> User:
    """龙岗区督查室."""
    return _person(longgang, "lg-dcs", Role.SUPERVISOR)


@pytest.fixture
def longgang_auditor(longgang) -> User:
    return _person(longgang, "lg-audit", Role.AUDITOR)


@pytest.fixture
def zhuhai_auditor(db) -> User:
    """An auditor of the default government (珠海高新区)."""
    return _person(Government.objects.get(pk=default_government_id()), "zh-audit", Role.AUDITOR)


def _office_writes(office: User, plan, department) -> None:
    for task in plan.tasks.order_by("position")[:3]:
        plans_services.task_assign(actor=office, task=task, lead_department=department)
    plans_services.plan_publish(actor=office, plan=plan)


@pytest.fixture
def two_chains(plan, supervisor, economic_bureau, longgang, longgang_office, plan_data):
    """珠海高新区's office and 龙岗区's office each load, assign and publish a plan."""
    bureau = Department.objects.create(government=longgang, name="龙岗区发展和改革局")
    longgang_plan, _ = plans_services.plan_load(
        actor=longgang_office, data=plan_data, government=longgang
    )
    _office_writes(supervisor, plan, economic_bureau)
    _office_writes(longgang_office, longgang_plan, bureau)
    return {"zhuhai": default_government_id(), "longgang": longgang.pk, "plan": longgang_plan}


def _seqs(government_id: int) -> list[int]:
    events = AuditEvent.objects.filter(government_id=government_id).order_by("seq")
    return list(events.values_list("seq", flat=True))


def test_each_governments_writes_go_to_its_own_chain_and_each_chain_verifies(two_chains):
    zhuhai, longgang = two_chains["zhuhai"], two_chains["longgang"]
    for government_id in (zhuhai, longgang):
        seqs = _seqs(government_id)
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 10
        result = ledger.verify(government_id=government_id)
        assert result.ok and result.checked == len(seqs) and result.government_id == government_id
    published = AuditEvent.objects.get(action="plan.publish", object_id=str(two_chains["plan"].pk))
    assert published.government_id == longgang and published.hash_version == 2
    assert ledger.head(longgang).seq == len(_seqs(longgang))


def test_a_tamper_in_one_chain_is_reported_for_that_government_alone(two_chains):
    longgang = two_chains["longgang"]
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET object_repr = '改过' WHERE government_id = %s AND seq = 3",
        [longgang],
    )
    broken = ledger.verify(government_id=longgang).broken
    assert (broken.seq, broken.reason) == (3, "hash")
    assert ledger.verify(government_id=two_chains["zhuhai"]).ok


def test_verify_audit_names_each_government_and_exits_non_zero_for_the_tampered_one(two_chains):
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET object_repr = '改过' WHERE government_id = %s AND seq = 3",
        [two_chains["longgang"]],
    )
    out = io.StringIO()
    call_command("verify_audit", "--government", "珠海高新区", stdout=out)
    assert out.getvalue().startswith("OK: ") and out.getvalue().rstrip().endswith(" 珠海高新区")
    for name in ("longgang", LONGGANG, str(two_chains["longgang"])):  # code, name or id
        err = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("verify_audit", "--government", name, stderr=err)
        assert err.getvalue().startswith("BROKEN at seq 3 (hash)")
        assert err.getvalue().rstrip().endswith(f"government {two_chains['longgang']} {LONGGANG}")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_audit", stdout=out, stderr=err)  # every chain, each reported
    assert "珠海高新区" in out.getvalue() and LONGGANG not in out.getvalue()
    assert LONGGANG in err.getvalue() and "珠海高新区" not in err.getvalue()


def test_an_event_moved_into_another_governments_chain_breaks_there(two_chains):
    """The forger relinks 龙岗区's last event onto 珠海高新区's head: its hash names 龙岗区."""
    zhuhai, longgang = two_chains["zhuhai"], two_chains["longgang"]
    head = ledger.head(zhuhai)
    bypassing_triggers(
        "UPDATE tasks_app_auditevent SET government_id = %s, seq = %s, prev_hash = %s "
        "WHERE government_id = %s AND seq = %s",
        [zhuhai, head.seq + 1, head.hash, longgang, ledger.head(longgang).seq],
    )
    bypassing_triggers(
        "UPDATE tasks_app_auditchainhead SET seq = seq + 1 WHERE government_id = %s", [zhuhai]
    )
    broken = ledger.verify(government_id=zhuhai).broken
    assert (broken.seq, broken.reason) == (head.seq + 1, "hash")


def test_a_manifest_and_the_checkpoints_name_their_government(two_chains, longgang_auditor):
    export = export_jobs.export_request(
        actor=longgang_auditor, kind="ledger", format="csv", filters={}
    )
    b"".join(export.content)
    export.job.refresh_from_db()
    manifest = export.job.manifest
    assert manifest["government"] == {
        "id": two_chains["longgang"],
        "name": LONGGANG,
        "code": "longgang",
    }
    assert manifest["row_count"] == len(_seqs(two_chains["longgang"])) - 1  # not its completion
    assert ledger.checkpoint_record(government_id=two_chains["longgang"]) is not None
    kept = ledger.checkpoints_export([two_chains["longgang"]])
    assert [(point["government"], point["seq"]) for point in kept] == [
        (LONGGANG, ledger.head(two_chains["longgang"]).seq)
    ]


def test_an_auditor_of_one_government_cannot_read_anothers_events_or_exports(
    two_chains, zhuhai_auditor, longgang_auditor
):
    job = export_jobs.export_job_start(
        actor=zhuhai_auditor, kind="ledger", format="csv", filters={}
    )
    client = APIClient()
    client.force_authenticate(longgang_auditor)
    for url in (f"/api/v1/audit/exports/{job.pk}/", f"/api/v1/audit/exports/{job.pk}/manifest/"):
        assert client.get(url).status_code == 404
    assert job.pk not in [j["id"] for j in client.get("/api/v1/audit/exports/").json()["results"]]
    events = client.get("/api/v1/audit/events/").json()["results"]
    assert events and {e["seq"] for e in events} <= set(_seqs(two_chains["longgang"]))
    assert "dcs" not in {event["actor_username"] for event in events}  # 珠海高新区's office
    plans = {event["object_id"] for event in events if event["object_type"] == "plan"}
    assert plans == {str(two_chains["plan"].pk)}
    verified = client.get("/api/v1/audit/verify/").json()
    assert verified["government"] == LONGGANG and verified["ok"]
    browser = client_logged_in(longgang_auditor)
    beyond = ledger.head(two_chains["zhuhai"]).seq  # a seq only 珠海高新区's chain reaches
    assert beyond > ledger.head(two_chains["longgang"]).seq
    assert browser.get(f"/audit/events/{beyond}/").status_code == 404
    assert browser.get(f"/audit/exports/{job.pk}/manifest/").status_code == 404


def test_an_export_filtered_by_another_governments_plan_is_refused_not_empty(
    two_chains, zhuhai_auditor, longgang_auditor
):
    theirs = two_chains["plan"]  # 龙岗区's plan
    task = Task.objects.filter(plan=theirs).first()
    client = APIClient()
    client.force_authenticate(zhuhai_auditor)
    events = AuditEvent.objects.count()
    for query in (f"plan={theirs.pk}", f"task={task.pk}"):
        answer = client.get(f"/api/v1/audit/export/?format=csv&{query}")
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_filter"), query
    answer = client.post("/api/v1/audit/exports/", {"kind": "ledger", "plan": theirs.pk})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_filter")
    assert AuditEvent.objects.count() == events  # nothing exported, nothing recorded
    client.force_authenticate(longgang_auditor)  # its own government's plan: exported
    assert client.get(f"/api/v1/audit/export/?format=csv&plan={theirs.pk}").status_code == 200


def client_logged_in(user: User):
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.postgres
def test_an_append_in_one_government_does_not_wait_for_anothers_head(transactional_db, longgang):
    """珠海高新区 holds its head's lock (a long transaction); 龙岗区 appends meanwhile."""
    zhuhai = default_government_id()
    holding, released, appended = threading.Event(), threading.Event(), []

    def zhuhai_writer():
        try:
            with transaction.atomic():
                ledger.append(government_id=zhuhai, actor_id=None, actor_username="system",
                              action="test.hold", object_type="ledger", object_id="",
                              object_repr="hold")  # fmt: skip
                holding.set()
                released.wait(timeout=30)
        finally:
            connections.close_all()

    writer = threading.Thread(target=zhuhai_writer)
    writer.start()
    assert holding.wait(timeout=30)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            appended.append(
                ledger.append(
                    government_id=longgang.pk,
                    actor_id=None,
                    actor_username="system",
                    action="test.free",
                    object_type="ledger",
                    object_id="",
                    object_repr="free",
                )  # fmt: skip
            )
    finally:
        released.set()
        writer.join(timeout=30)
    assert appended[0].seq == 1 and appended[0].government_id == longgang.pk
    assert ledger.verify(government_id=zhuhai).ok and ledger.verify(government_id=longgang.pk).ok


def test_a_batch_across_two_governments_continues_each_chain(two_chains):
    zhuhai, longgang = two_chains["zhuhai"], two_chains["longgang"]
    heads = {g: ledger.head(g).seq for g in (zhuhai, longgang)}
    entries = [
        ledger.Entry(
            actor_id=None,
            actor_username="system",
            action="test.batch",
            object_type="ledger",
            object_id=str(number),
            object_repr="batch",
            government_id=government,
        )
        for number, government in enumerate([longgang, zhuhai, longgang])
    ]
    events = ledger.append_many(entries)
    assert [(e.government_id, e.seq) for e in events] == [
        (longgang, heads[longgang] + 1),
        (zhuhai, heads[zhuhai] + 1),
        (longgang, heads[longgang] + 2),
    ]
    assert ledger.verify(government_id=zhuhai).ok and ledger.verify(government_id=longgang).ok


@pytest.mark.postgres
def test_a_change_behind_the_services_back_is_captured_in_its_governments_chain(two_chains):
    longgang = two_chains["longgang"]
    task = two_chains["plan"].tasks.order_by("position").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gaoxin.audited', '', true)")  # as a new transaction
        cursor.execute("UPDATE tasks_app_task SET title = '改名' WHERE id = %s", [task.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the capture trigger fires now
    # The fixtures' own pending changes are captured too (the flag is off as they fire now):
    # each in the chain of its task's government.
    captured = AuditEvent.objects.filter(action="task.update.sql")
    governments = dict(Task.objects.values_list("pk", "government_id"))
    assert all(event.government_id == governments[int(event.object_id)] for event in captured)
    renamed = captured.get(object_id=str(task.pk), after__title="改名")
    assert renamed.government_id == longgang
    assert ledger.verify(government_id=longgang).ok
    assert ledger.verify(government_id=two_chains["zhuhai"]).ok
