"""Governments become required; names and plan titles are unique per government; on PostgreSQL
composite foreign keys keep a task's government equal to its plan's and its lead department's,
and a user's and a department's parent's equal to their department's."""

import django.db.models.deletion

import tasks_app.plans.tenants
from django.db import migrations, models


COMPOSITE_KEYS = [
    # (table, constraint, columns, referenced table)
    ("tasks_app_task", "task_plan_same_government", "plan_id, government_id", "tasks_app_plan"),
    (
        "tasks_app_task",
        "task_lead_department_same_government",
        "lead_department_id, government_id",
        "tasks_app_department",
    ),
    (
        "tasks_app_user",
        "user_department_same_government",
        "department_id, government_id",
        "tasks_app_department",
    ),
    (
        "tasks_app_department",
        "department_parent_same_government",
        "parent_id, government_id",
        "tasks_app_department",
    ),
]


def add_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (the demo) relies on the services, which copy the government
    for table, name, columns, target in COMPOSITE_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            f"REFERENCES {target} (id, government_id) DEFERRABLE INITIALLY DEFERRED"
        )


def drop_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _columns, _target in COMPOSITE_KEYS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


def government_fk(related_name, *, null=False):
    return models.ForeignKey(
        blank=True,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="tasks_app.government",
        verbose_name="政府",
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0023_government_rows")]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[("objects", tasks_app.plans.tenants.UserManager())],
        ),
        migrations.RemoveField("plan", "government_label"),
        migrations.AlterField("department", "government", government_fk("departments")),
        migrations.AlterField("user", "government", government_fk("users")),
        migrations.AlterField("plan", "government", government_fk("plans")),
        migrations.AlterField(
            "task",
            "government",
            models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tasks",
                to="tasks_app.government",
                verbose_name="政府",
            ),
        ),
        migrations.AlterField(
            "department", "name", models.CharField(max_length=100, verbose_name="名称")
        ),
        migrations.AddConstraint(
            "department",
            models.UniqueConstraint(
                fields=["government", "name"], name="department_unique_name_per_government"
            ),
        ),
        migrations.AddConstraint(
            "department",
            models.UniqueConstraint(fields=["id", "government"], name="department_id_government"),
        ),
        migrations.AddConstraint(
            "plan",
            models.UniqueConstraint(
                fields=["government", "year", "title"], name="plan_unique_year_title"
            ),
        ),
        migrations.AddConstraint(
            "plan",
            models.UniqueConstraint(fields=["id", "government"], name="plan_id_government"),
        ),
        migrations.AddIndex(
            "task",
            models.Index(fields=["government", "plan"], name="task_government_plan_idx"),
        ),
        migrations.RunPython(add_composite_keys, drop_composite_keys),
    ]
