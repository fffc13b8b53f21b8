from tasks_app.audit.services import audit_log
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
