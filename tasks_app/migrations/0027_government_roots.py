"""The rest of the tenant tables belong to a government: import drafts, reminder steps (the
ladder), departments' webhooks and aliases. Aliases are unique per government.

Existing rows: a draft goes to the government of the office that uploaded it, else to the one its
free-text label named (created if new, as 0023 does for plans), else to the default government;
a plan's reminder steps to the plan's government, the default ladder to the default government;
a webhook or an alias to its department's government. None of these tables has the ledger's
Three steps (0027 adds the columns, 0028 fills them, 0029 makes them required): PostgreSQL
refuses to alter a table with foreign-key checks still pending from the fill.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


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
    dependencies = [("tasks_app", "0026_ledger_per_government")]

    operations = [
        migrations.RenameField("importdraft", "government", "government_label"),
        migrations.AddField("importdraft", "government", government_fk("import_drafts", null=True)),
        migrations.AddField(
            "reminderstep", "government", government_fk("reminder_steps", null=True)
        ),
        migrations.AddField(
            "departmentwebhook", "government", government_fk("department_webhooks", null=True)
        ),
        migrations.AddField(
            "departmentalias", "government", government_fk("department_aliases", null=True)
        ),
    ]
