from django.db import IntegrityError, models
from django.utils.translation import gettext_lazy as _

from tasks_app.common import permissions
from tasks_app.common.errors import NotPermitted
from tasks_app.models import (
    Task,
    User,
)

# --- Receipt, reports, reviews ----------------------------------------------------------------


def require(condition: bool, message=None) -> None:
    if not condition:
        raise NotPermitted() if message is None else NotPermitted(message)


def require_acts_for(actor: User | None, government_id: int) -> None:
    """Refuse a write on another government's object that the actor can read (the level above
    reads its children's registers, read-only): 403 other_government. Objects the actor cannot
    read never reach a service: their lookups answer 404."""
    if not permissions.acts_for(actor, government_id):
        raise NotPermitted(
            _("上级政府只能查看下级政府的数据,不能代为办理。"), code="other_government"
        )


def violates_constraint(error: IntegrityError, constraint: str) -> bool:
    """Whether error is the named unique constraint failing (PostgreSQL names it; SQLite names
    the constraint's columns, so the caller's constraint must be the table's only unique one
    on those columns)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    return "UNIQUE constraint failed" in str(error)


def task_locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


def version_bump(obj: models.Model) -> None:
    type(obj).objects.filter(pk=obj.pk).update(version=models.F("version") + 1)
    obj.version += 1
