"""Anonymous denials (probes, forged CSRF) cannot flood the chained ledger: one event per client
address per minute, the rest counted into the next one."""

from unittest import mock

import pytest
from django.test import Client

from tasks_app.models import AuditEvent

pytestmark = pytest.mark.django_db

DENIED = "auth.permission_denied"


def probe(client, times: int, ip: str = "198.51.100.23") -> None:
    """POSTs without a CSRF token: Django answers 403 to each."""
    forger = Client(enforce_csrf_checks=True)
    for _ in range(times):
        assert forger.post("/accounts/login/", REMOTE_ADDR=ip).status_code == 403


def test_forty_anonymous_denials_in_a_minute_write_one_event(client):
    with mock.patch("time.time", return_value=60 * 1_000_000 + 5):
        probe(client, 40)
    assert AuditEvent.objects.filter(action=DENIED).count() == 1


def test_the_next_minutes_event_carries_the_earlier_minutes_count(client):
    with mock.patch("time.time", return_value=60 * 1_000_000 + 5):
        probe(client, 40)
    with mock.patch("time.time", return_value=60 * 1_000_001 + 5):
        probe(client, 1)
    latest = AuditEvent.objects.filter(action=DENIED).latest("seq")
    assert latest.after["earlier_minute_more_denials"] == 39
    assert AuditEvent.objects.filter(action=DENIED).count() == 2


def test_each_address_gets_its_own_event(client):
    with mock.patch("time.time", return_value=60 * 1_000_000 + 5):
        probe(client, 3, ip="198.51.100.1")
        probe(client, 3, ip="198.51.100.2")
    assert AuditEvent.objects.filter(action=DENIED).count() == 2


def test_a_signed_in_users_every_denial_is_still_an_event(client, clerk):
    client.force_login(clerk)
    for _ in range(3):
        assert client.get("/api/v1/audit/events/").status_code == 403
    assert AuditEvent.objects.filter(action=DENIED, actor=clerk).count() == 3
