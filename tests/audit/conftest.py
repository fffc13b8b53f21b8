"""Fixtures of the audit tests: a chain of some hundred events, and tampering as a superuser."""

import pytest
from django.db import connection

from tasks_app.audit.models import AuditEvent
from tasks_app.plans import services as plans_services


@pytest.fixture
def chain(plan, supervisor, economic_bureau):
    """A plan, a department, a publish and a few assignments: some hundreds of events."""
    for task in plan.tasks.order_by("position")[:3]:
        plans_services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    plans_services.plan_publish(actor=supervisor, plan=plan)
    return AuditEvent.objects.count()


def bypassing_triggers(sql: str, params=()) -> None:
    """Run sql as a superuser who has switched the ledger's triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
