"""The ledger's PL/pgSQL functions find each other whatever the caller's search_path.

pg_restore (and pg_dump's plain SQL) runs with an empty search_path: the append-only and chain
functions called each other unqualified, so restoring a backup failed at the ledger's first row.
Pinning each function's search_path to the schema it lives in makes a backup restorable.
"""

from django.db import migrations

PIN = """
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proname LIKE 'gaoxin\\_%' AND n.nspname = current_schema()
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
  END LOOP;
END $$;
"""

UNPIN = """
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proname LIKE 'gaoxin\\_%' AND n.nspname = current_schema()
  LOOP
    EXECUTE format('ALTER FUNCTION %s RESET search_path', f);
  END LOOP;
END $$;
"""


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the % in format() stay as they are


def pin(apps, schema_editor):
    _run(schema_editor, PIN)


def unpin(apps, schema_editor):
    _run(schema_editor, UNPIN)


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0012_ranking_rule")]

    operations = [migrations.RunPython(pin, unpin, elidable=False)]
