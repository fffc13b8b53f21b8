"""System checks run by `manage.py check --database default` (compose runs it before gunicorn)."""

from django.core.checks import Tags, Warning, register
from django.db import connections


@register(Tags.database)
def database_role_binds_the_ledger(app_configs=None, databases=None, **kwargs):
    """The ledger's append-only triggers bind only a role that neither owns the tables (an owner
    can switch triggers off) nor is a superuser (it can do anything)."""
    warnings = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.rolsuper, t.tableowner = current_user FROM pg_roles r "
                "LEFT JOIN pg_tables t ON t.tablename = 'tasks_app_auditevent' "
                "WHERE r.rolname = current_user"
            )
            superuser, owner = cursor.fetchone()
        if superuser or owner:
            what = "a superuser" if superuser else "the owner of the tables"
            warnings.append(
                Warning(
                    f"database {alias!r}: the application connects as {what}, so the audit "
                    "ledger's append-only triggers do not bind it",
                    hint="Run web, worker and beat as a role without ownership "
                    "(deploy/postgres-roles.sql creates gaoxin_app); migrate as the owner.",
                    id="gaoxin.W001",
                )
            )
    return warnings


@register(Tags.security, deploy=True)
def business_date_is_real_in_production(app_configs=None, **kwargs):
    """GAOXIN_TODAY is for the demo and training copies: in production every light, reminder and
    number would stay on that day."""
    from django.conf import settings

    if getattr(settings, "GAOXIN_TODAY", None) is None:
        return []
    return [
        Warning(
            f"GAOXIN_TODAY={settings.GAOXIN_TODAY} fixes the business date: lights, reminders "
            "and the leaders' numbers stay on that day",
            hint="Unset GAOXIN_TODAY in production (tasks_app/common/clock.py).",
            id="gaoxin.W002",
        )
    ]
