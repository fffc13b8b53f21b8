"""API tokens for scripts: issued and revoked by audited services; no secret reaches the ledger."""

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tasks_app.accounts import services
from tasks_app.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-clerk-123456"


def ask_for_token(password: str = PASSWORD):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": "clerk", "password": password}, format="json"
    )


def ledger_text() -> str:
    rows = AuditEvent.objects.values("object_id", "object_repr", "before", "after")
    return json.dumps(list(rows), ensure_ascii=False)


def token_events(action: str) -> list[dict]:
    return list(AuditEvent.objects.filter(action=action).values_list("after", flat=True))


def test_a_clerk_gets_a_token_and_the_ledger_records_the_issue_without_any_secret(clerk):
    response = ask_for_token()
    assert response.status_code == 200
    key = response.json()["token"]
    event = AuditEvent.objects.get(action="auth.token_issue")
    assert (event.actor_id, event.object_type, event.object_repr) == (clerk.pk, "token", "clerk")
    assert event.after == {"created": True}
    assert key not in ledger_text() and PASSWORD not in ledger_text()


def test_asking_again_hands_out_the_same_token_and_the_ledger_says_it_was_not_new(clerk):
    first, second = ask_for_token().json()["token"], ask_for_token().json()["token"]
    assert first == second
    assert token_events("auth.token_issue") == [{"created": True}, {"created": False}]


def test_a_wrong_password_issues_no_token_and_no_issue_event(clerk):
    assert ask_for_token("wrong").status_code == 400
    assert not Token.objects.exists() and token_events("auth.token_issue") == []


def test_a_clerk_revokes_the_token_and_the_ledger_records_it_without_the_key(clerk):
    key = ask_for_token().json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert not Token.objects.exists()
    event = AuditEvent.objects.get(action="auth.token_revoke")
    assert (event.actor_id, event.object_repr) == (clerk.pk, "clerk")
    assert key not in ledger_text()


def test_revoking_when_there_is_no_token_writes_nothing(clerk):
    assert services.token_revoke(actor=clerk) is False
    assert token_events("auth.token_revoke") == []
