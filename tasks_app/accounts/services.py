from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from tasks_app.audit.services import audit_log
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


def token_issue(*, username: str, password: str, request: HttpRequest | None = None) -> Token:
    """A script exchanges a username and password for the user's API token.

    request goes to the authentication backends: django-axes counts failures per address and
    username and locks the account out after too many.
    """
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    if user is None or not user.is_active:
        raise ServiceError("invalid_credentials", _("用户名或密码不正确。"))
    login_record(username=user.username, user=user, success=True)
    token, _created = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, actor: User) -> None:
    """The actor's token stops working at once; a later token_issue makes a new one."""
    Token.objects.filter(user=actor).delete()
