"""Row-level security on the tenant tables (PostgreSQL only; on SQLite this migration does
nothing and the selectors alone scope by government).

Every tasks_app table with a government_id column (found in the database when this runs, so the
columns other migrations add are covered) is read where its government is in
gaoxin_read_governments() and written where it is in gaoxin_write_governments(); the tables keyed
to a task, plan, report or department instead follow their parent row. The policies and the
functions are in tasks_app.common.rls; running this again replaces them, and a later migration
that adds a tenant table calls rls.enable_rls(schema_editor, table).
"""

from django.db import migrations

from tasks_app.common import rls


def forwards(apps, schema_editor):
    rls.enable_all(schema_editor)


def backwards(apps, schema_editor):
    rls.disable_all(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0029_government_roots_required")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
