from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from tasks_app.audit.services import audit_log
from tasks_app.common import rls
from tasks_app.common.errors import LockedOut, ServiceError
from tasks_app.models import (
    AuditEvent,
    User,
)


def login_record(*, username: str, user: User | None, success: bool) -> AuditEvent:
    """Every login attempt, successful or not, is a ledger event (never the password)."""
    return audit_log(
        actor=user if success else None,
        action="auth.login" if success else "auth.login_failed",
        object_type="user",
        object_id=str(user.pk) if user else "",
        object_repr=username[:150],
        after={"username": username[:150]},
    )


def _token_event(actor: User, action: str, after: dict) -> AuditEvent:
    # The token's key is its primary key and its str(): the event names the user, never the token.
    return audit_log(
        actor=actor,
        action=action,
        object_type="token",
        object_id=str(actor.pk),
        object_repr=actor.username,
        after=after,
    )


def token_issue(*, username: str, password: str, request: HttpRequest | None = None) -> Token:
    """A script exchanges a username and password for the user's API token.

    request goes to the authentication backends: django-axes counts failures per address and
    username and locks the account out after too many (a failure is audited by the login
    receivers). A success is the login event and an "auth.token_issue" event saying whether a
    new token was made or the existing one handed out; neither holds the password or the token.
    """
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    if user is None or not user.is_active:
        raise ServiceError("invalid_credentials", _("用户名或密码不正确。"))
    # Anonymous until now: the records are written as the user (row-level security).
    with rls.user_context(user), transaction.atomic():
        login_record(username=user.username, user=user, success=True)
        token, created = Token.objects.get_or_create(user=user)
        _token_event(user, "auth.token_issue", {"created": created})
    return token


@transaction.atomic
def token_revoke(*, actor: User) -> bool:
    """The actor's token stops working at once (audited); False, and no event, when there was none.

    A later token_issue makes a new token.
    """
    deleted, _rows = Token.objects.filter(user=actor).delete()
    if deleted:
        _token_event(actor, "auth.token_revoke", {"revoked": True})
    return bool(deleted)
