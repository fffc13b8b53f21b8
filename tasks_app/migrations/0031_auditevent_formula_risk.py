"""PostgreSQL: each ledger event says, once, whether any of its stored cells could be read as a
formula by a spreadsheet (starts with = + - @ tab CR or ').

The ledger CSV neutralises such cells (spreadsheets.neutralise). Testing the first character of
fifteen cells in every row cost the COPY export about a quarter of its server time, and almost no
row needs it; the flag is a stored generated column, computed when the event is inserted, so the
export tests one boolean per row and neutralises cell by cell only in the rows it flags. A
before/after cell is its canonical JSON text, which can start with one of those characters only
when the JSON is a bare negative number. Unknown (NULL) counts as a risk. Adding the column
rewrites the table once (no UPDATE: the append-only triggers are not involved). Not on SQLite,
where exports stay in Python.
"""

from django.db import migrations

# spreadsheets.DANGEROUS_PREFIXES as code points, frozen here (a test holds them equal).
CODES = "61, 43, 45, 64, 9, 13, 39"
TEXT_CELLS = (
    "action",
    "actor_department",
    "actor_username",
    "actor_role",
    "object_type",
    "object_id",
    "object_repr",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
)


def risk_expression() -> str:
    tests = [f"ascii({column}) IN ({CODES})" for column in TEXT_CELLS]
    tests.append("actor_id < 0")
    tests += [
        f"(jsonb_typeof({column}) = 'number' "
        f"AND ascii(gaoxin_canonical_json({column})) IN ({CODES}))"
        for column in ("before", "after")
    ]
    return "coalesce(" + " OR ".join(tests) + ", true)"


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE tasks_app_auditevent ADD COLUMN formula_risk boolean "
        f"GENERATED ALWAYS AS ({risk_expression()}) STORED"
    )


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE tasks_app_auditevent DROP COLUMN IF EXISTS formula_risk")


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0030_row_level_security")]

    operations = [migrations.RunPython(add_column, drop_column, elidable=False)]
