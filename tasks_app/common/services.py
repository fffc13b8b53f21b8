from django.db import IntegrityError, models

from tasks_app.common.errors import NotPermitted
from tasks_app.models import (
    Task,
)

# --- Receipt, reports, reviews ----------------------------------------------------------------


def require(condition: bool, message=None) -> None:
    if not condition:
        raise NotPermitted() if message is None else NotPermitted(message)


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
