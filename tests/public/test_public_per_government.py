"""Each government keeps its own ledger chain, so two governments' snapshots can be recorded at
the same seq: each publishes, each page shows its own hash, and a snapshot is named by its plan
and seq. A link by seq alone (made before the chains were split) still leads to its snapshot
while no other government's has that seq."""

import json

import pytest
from django.test import Client

from tasks_app.audit import ledger
from tasks_app.models import Government, PublicSnapshot, Role, User
from tasks_app.plans import services as plans_services
from tasks_app.plans.tenants import default_government_id
from tasks_app.public import services as public_services
from tests.public.test_public_progress import ledger_export, verify

CLIENT = Client  # nobody logged in


@pytest.fixture
def longgang_office(db) -> User:
    """龙岗区督查室, of a second government."""
    longgang = Government.objects.create(name="深圳市龙岗区", code="longgang", level="district")
    office = User(username="lg-dcs", role=Role.SUPERVISOR, government=longgang)
    office.set_password("pw-lg-dcs-123456")
    office.save()
    return office


def _chain_at(government_id: int, seq: int) -> None:
    """Ledger events of nobody in particular until the government's chain head is at seq."""
    while ledger.lock_head(government_id)[0] < seq:
        ledger.append(
            government_id=government_id,
            actor_id=None,
            actor_username="system",
            action="test.filler",
            object_type="",
            object_id="",
            object_repr="",
        )


@pytest.fixture
def same_seq(plan, supervisor, longgang_office, plan_data) -> tuple[PublicSnapshot, PublicSnapshot]:
    """珠海高新区 and 龙岗区 each publish a plan, then a snapshot at one seq of both chains."""
    longgang = longgang_office.government_id
    longgang_plan, _ = plans_services.plan_load(
        actor=longgang_office, data=plan_data, government=longgang_office.government
    )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    plans_services.plan_publish(actor=longgang_office, plan=longgang_plan)
    zhuhai = default_government_id()
    top = max(ledger.lock_head(zhuhai)[0], ledger.lock_head(longgang)[0]) + 5
    _chain_at(zhuhai, top)
    _chain_at(longgang, top)
    return (
        public_services.public_snapshot_publish(
            actor=supervisor, plan=plan, title="高新区落实情况"
        ),
        public_services.public_snapshot_publish(
            actor=longgang_office, plan=longgang_plan, title="龙岗区落实情况"
        ),
    )


def address(snapshot: PublicSnapshot, ending: str = "/") -> str:
    return f"/public/plans/{snapshot.plan_id}/snapshots/{snapshot.ledger_seq}{ending}"


def test_two_governments_publish_at_the_same_seq_and_each_page_shows_its_own_hash(same_seq):
    zhuhai, longgang = same_seq

    assert zhuhai.ledger_seq == longgang.ledger_seq
    for mine, theirs in ((zhuhai, longgang), (longgang, zhuhai)):
        page = CLIENT().get(address(mine)).content.decode()
        assert mine.title in page and mine.sha256 in page
        assert theirs.title not in page and theirs.sha256 not in page
        assert CLIENT().get(address(mine, ".json")).content == mine.content.encode("utf-8")
    index = CLIENT().get("/public/snapshots.json").json()["snapshots"]
    listed = {(s["government_id"], s["ledger_seq"]): s["sha256"] for s in index}
    assert listed == {
        (default_government_id(), zhuhai.ledger_seq): zhuhai.sha256,
        (longgang.plan.government_id, longgang.ledger_seq): longgang.sha256,
    }


def test_a_link_by_seq_alone_answers_404_once_two_governments_share_the_seq(same_seq):
    zhuhai, _longgang = same_seq

    assert CLIENT().get(f"/public/snapshots/{zhuhai.ledger_seq}/").status_code == 404
    assert CLIENT().get(f"/public/snapshots/{zhuhai.ledger_seq}.json").status_code == 404


def test_a_link_by_seq_alone_leads_to_the_one_snapshot_with_that_seq(plan, supervisor):
    plans_services.plan_publish(actor=supervisor, plan=plan)
    snapshot = public_services.public_snapshot_publish(
        actor=supervisor, plan=plan, title="落实情况"
    )

    for ending in ("/", ".json"):
        answer = CLIENT().get(f"/public/snapshots/{snapshot.ledger_seq}{ending}")
        assert answer.status_code == 301 and answer["Location"] == address(snapshot, ending)
    assert CLIENT().get(f"/public/snapshots/{snapshot.ledger_seq + 1}/").status_code == 404
    huge = 10**30  # beyond any id or seq the database can hold: 404, not an error
    assert CLIENT().get(f"/public/snapshots/{huge}/").status_code == 404
    assert CLIENT().get(f"/public/plans/{huge}/snapshots/{huge}.json").status_code == 404


def test_the_verifier_checks_a_snapshot_against_its_own_governments_checkpoints_only(
    same_seq, tmp_path
):
    zhuhai, longgang = same_seq
    ledger.checkpoint_record(government_id=default_government_id())
    ledger.checkpoint_record(government_id=longgang.plan.government_id)
    feed = CLIENT().get("/public/checkpoints.json").json()
    assert {p["seq"] for p in feed["checkpoints"]} == {zhuhai.ledger_seq}  # both chains' heads
    (tmp_path / "checkpoints.json").write_text(json.dumps(feed), encoding="utf-8")
    auditor = plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )

    result = verify(
        tmp_path,
        CLIENT().get(address(zhuhai, ".json")).content,
        zhuhai.sha256,
        "--seq",
        str(zhuhai.ledger_seq),
        *ledger_export(auditor, tmp_path),
        "--checkpoints",
        str(tmp_path / "checkpoints.json"),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 checkpoints hold" in result.stdout
