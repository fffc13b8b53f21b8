"""Manual chasing (催办) and the departments' robots (admin)."""

import datetime as dt
import urllib.parse

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit.services import audit_log, create_audited, snapshot
from tasks_app.common import clock, permissions
from tasks_app.common.errors import NotPermitted, ServiceError
from tasks_app.common.services import require_acts_for
from tasks_app.models import (
    Department,
    DepartmentWebhook,
    ManualChase,
    Task,
    User,
)
from tasks_app.reminders import notifications


class RateLimited(ServiceError):
    status = 429


# --- Manual chasing (催办) ----------------------------------------------------------------------


def _check_chase(actor: User, department: Department, task: Task | None, note: str, now):
    require_acts_for(actor, department.government_id)
    if not permissions.is_office(actor):
        raise NotPermitted(_("只有督查室可以催办。"))
    if not note.strip():
        raise ServiceError("note_required", _("请填写催办说明。"), field="note")
    if len(note) > 1000:
        raise ServiceError("note_too_long", _("催办说明不能超过1000字。"), field="note")
    since = now - dt.timedelta(minutes=settings.REMINDER_CHASE_INTERVAL_MINUTES)
    recent = ManualChase.objects.filter(department=department, created_at__gte=since)
    recent = recent.filter(task=task) if task else recent.filter(task__isnull=True)
    if recent.exists():
        raise RateLimited(
            "chase_rate_limited",
            _("%(minutes)s分钟内已催办过,请稍后再试。")
            % {"minutes": settings.REMINDER_CHASE_INTERVAL_MINUTES},
        )


def _chase(*, actor, department, task, note, now) -> ManualChase:
    department = Department.objects.select_for_update().get(pk=department.pk)
    _check_chase(actor, department, task, note, now)
    chase = create_audited(
        actor,
        "chase.create",
        ManualChase,
        chased_by=actor,
        task=task,
        department=department,
        note=note.strip(),
        created_at=now,
    )
    notifications.notify_chase(chase=chase, now=now)
    return chase


@transaction.atomic
def chase_task(*, actor: User, task: Task, note: str, now: dt.datetime | None = None):
    require_acts_for(actor, task.government_id)
    if task.lead_department_id is None:
        raise ServiceError("task_unassigned", _("该任务尚未确定牵头单位,无法催办。"))
    return _chase(
        actor=actor,
        department=task.lead_department,
        task=task,
        note=note,
        now=now or clock.now(),
    )


@transaction.atomic
def chase_department(
    *, actor: User, department: Department, note: str, now: dt.datetime | None = None
):
    return _chase(actor=actor, department=department, task=None, note=note, now=now or clock.now())


def chase_tasks(*, actor: User, tasks: list[Task], note: str, now: dt.datetime | None = None):
    """催办 of many tasks from the workbench: (tasks chased, [(task, reason)] not chased).

    The note and the actor are checked once, before anything is written; each task is then
    chased on its own (its own transaction and ledger event), so a task chased within the last
    hour, or without a lead department, is skipped with its reason and the others still go.
    """
    if not permissions.is_office(actor):
        raise NotPermitted(_("只有督查室可以催办。"))
    if not note.strip():
        raise ServiceError("note_required", _("请填写催办说明。"), field="note")
    chased, skipped = [], []
    for task in tasks:
        try:
            chase_task(actor=actor, task=task, note=note, now=now)
        except ServiceError as error:
            skipped.append((task, str(error.message)))
        else:
            chased.append(task)
    return chased, skipped


# --- Department robots (admin) ------------------------------------------------------------------

_WEBHOOK_FIELDS = ["department", "kind", "url", "secret", "is_active"]


def _webhook_snapshot(hook: DepartmentWebhook, fields: list[str]) -> dict:
    """Audited values with the robot's credentials (the URL's key or token, the secret) hidden."""
    values = snapshot(hook, [f for f in fields if f in _WEBHOOK_FIELDS])
    if "url" in values:
        values["url"] = urllib.parse.urlsplit(hook.url)._replace(query="***").geturl()
    if "secret" in values:
        values["secret"] = "***" if hook.secret else ""
    return values


@transaction.atomic
def webhook_save(*, actor: User, hook: DepartmentWebhook, changed: list[str], is_new: bool):
    before = (
        None if is_new else _webhook_snapshot(DepartmentWebhook.objects.get(pk=hook.pk), changed)
    )
    hook.save()
    audit_log(
        actor=actor,
        action="departmentwebhook.create" if is_new else "departmentwebhook.update",
        obj=hook,
        before=before,
        after=_webhook_snapshot(hook, _WEBHOOK_FIELDS if is_new else changed),
    )
    return hook


@transaction.atomic
def webhook_delete(*, actor: User, hook: DepartmentWebhook) -> None:
    audit_log(
        actor=actor,
        action="departmentwebhook.delete",
        obj=hook,
        before=_webhook_snapshot(hook, _WEBHOOK_FIELDS),
    )
    hook.delete()
