"""Existing rows move to the default government (settings.GAOXIN_GOVERNMENT); a plan whose free-text
government label named another gets a government of that name. Its own migration (transaction):
the ledger's capture triggers, deferred to commit, record these updates before 0024 alters the
tables."""

from django.conf import settings
from django.db import migrations
from django.db.models import OuterRef, Subquery


def move_rows_to_governments(apps, schema_editor):
    Government = apps.get_model("tasks_app", "Government")
    Plan = apps.get_model("tasks_app", "Plan")
    default_name = getattr(settings, "GAOXIN_GOVERNMENT", "珠海高新区")
    needed = (
        Plan.objects.exists()
        or apps.get_model("tasks_app", "Department").objects.exists()
        or apps.get_model("tasks_app", "User").objects.exists()
    )
    if not needed:
        return
    default, _ = Government.objects.get_or_create(name=default_name, defaults={"level": "zone"})
    for label in (
        Plan.objects.exclude(government_label="")
        .values_list("government_label", flat=True)
        .distinct()
    ):
        government, _ = Government.objects.get_or_create(
            name=label.strip()[:100], defaults={"level": "district"}
        )
        Plan.objects.filter(government_label=label).update(government=government)
    Plan.objects.filter(government__isnull=True).update(government=default)
    for model in ("Department", "User"):
        apps.get_model("tasks_app", model).objects.update(government=default)
    apps.get_model("tasks_app", "Task").objects.update(
        government=Subquery(Plan.objects.filter(pk=OuterRef("plan_id")).values("government")[:1])
    )


def labels_back(apps, schema_editor):
    Plan = apps.get_model("tasks_app", "Plan")
    Plan.objects.update(
        government_label=Subquery(
            apps.get_model("tasks_app", "Government")
            .objects.filter(pk=OuterRef("government_id"))
            .values("name")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0022_government")]

    operations = [migrations.RunPython(move_rows_to_governments, labels_back)]
