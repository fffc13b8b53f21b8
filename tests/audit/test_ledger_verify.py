"""Verifying the ledger: one service walks the chain and records the check, for API and pages."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tasks_app.audit import services
from tasks_app.models import AuditEvent, Role
from tasks_app.plans import services as plans_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(plan):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


def verifications() -> list[dict]:
    return list(AuditEvent.objects.filter(action="audit.verify").values_list("after", flat=True))


def test_a_verification_walks_the_chain_and_records_who_checked_and_the_outcome(auditor):
    result = services.ledger_verify(actor=auditor)
    assert result.ok and result.checked > 100
    assert verifications() == [{"ok": True, "checked": result.checked, "broken_seq": None}]
    assert AuditEvent.objects.get(action="audit.verify").actor_id == auditor.pk


def test_a_verification_that_finds_a_break_records_where(auditor):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE tasks_app_auditevent SET object_repr = 'x' WHERE seq = 7")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    result = services.ledger_verify(actor=auditor, from_seq=1, to_seq=20)
    assert not result.ok and verifications()[0]["broken_seq"] == 7


def test_the_api_and_the_page_each_record_their_verification_once(auditor, client):
    api = APIClient()
    api.force_authenticate(auditor)
    assert api.get("/api/v1/audit/verify/?from_seq=1&to_seq=10").json()["checked"] == 10
    client.force_login(auditor)
    assert client.get("/audit/verify/").status_code == 200
    assert [after["checked"] for after in verifications()][0] == 10
    assert len(verifications()) == 2
