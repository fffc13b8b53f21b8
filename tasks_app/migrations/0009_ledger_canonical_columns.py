"""PostgreSQL: each ledger event keeps its before/after as canonical JSON text, for fast exports.

The ledger CSV writes before/after exactly as ledger.canonical() prints them (sorted keys,
compact). Computing that per row at export time costs more than the COPY of the row itself, so
PostgreSQL computes it once, when the event is inserted: two stored generated columns over
gaoxin_canonical_json() (migration 0007, byte-for-byte ledger.canonical()). Adding them rewrites
the table once (no UPDATE, so the append-only triggers are not involved); the application never
names them except in exports.py's COPY path. Not on SQLite, where exports stay in Python.
"""

from django.db import migrations

COLUMNS = ("canonical_before", "canonical_after")


def add_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE tasks_app_auditevent "
        "ADD COLUMN canonical_before text "
        "GENERATED ALWAYS AS (gaoxin_canonical_json(before)) STORED, "
        "ADD COLUMN canonical_after text "
        "GENERATED ALWAYS AS (gaoxin_canonical_json(after)) STORED"
    )


def drop_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE tasks_app_auditevent "
        "DROP COLUMN IF EXISTS canonical_before, DROP COLUMN IF EXISTS canonical_after"
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0008_reminders")]

    operations = [migrations.RunPython(add_columns, drop_columns, elidable=False)]
