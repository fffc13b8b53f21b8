"""The governments of 0027 become required; aliases are unique per government."""

import django.db.models.deletion
from django.db import migrations, models


def government_fk(related_name):
    return models.ForeignKey(
        blank=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="tasks_app.government",
        verbose_name="政府",
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0028_government_roots_rows")]

    operations = [
        migrations.RemoveField("importdraft", "government_label"),
        migrations.AlterField("importdraft", "government", government_fk("import_drafts")),
        migrations.AlterField("reminderstep", "government", government_fk("reminder_steps")),
        migrations.AlterField(
            "departmentwebhook", "government", government_fk("department_webhooks")
        ),
        migrations.AlterField("departmentalias", "government", government_fk("department_aliases")),
        migrations.AlterField(
            "departmentalias", "alias", models.CharField(max_length=100, verbose_name="别名")
        ),
        migrations.AddConstraint(
            "departmentalias",
            models.UniqueConstraint(
                fields=["government", "alias"], name="departmentalias_unique_per_government"
            ),
        ),
    ]
