"""Existing rows of 0027's tables move to their governments (see 0027)."""

from django.conf import settings
from django.db import migrations
from django.db.models import OuterRef, Subquery


def _government_of(apps, model, path):
    return Subquery(
        apps.get_model("tasks_app", model)
        .objects.filter(pk=OuterRef(path))
        .values("government")[:1]
    )


def move_rows_to_governments(apps, schema_editor):
    Government = apps.get_model("tasks_app", "Government")
    ImportDraft = apps.get_model("tasks_app", "ImportDraft")
    ReminderStep = apps.get_model("tasks_app", "ReminderStep")
    default = None
    if ImportDraft.objects.exists() or ReminderStep.objects.exists():
        default, _ = Government.objects.get_or_create(
            name=getattr(settings, "GAOXIN_GOVERNMENT", "珠海高新区"), defaults={"level": "zone"}
        )
    ImportDraft.objects.filter(created_by__isnull=False).update(
        government=_government_of(apps, "User", "created_by_id")
    )
    unplaced = ImportDraft.objects.filter(government__isnull=True).exclude(government_label="")
    for label in unplaced.values_list("government_label", flat=True).distinct():
        government, _ = Government.objects.get_or_create(
            name=label.strip()[:100], defaults={"level": "district"}
        )
        unplaced.filter(government_label=label).update(government=government)
    ImportDraft.objects.filter(government__isnull=True).update(government=default)
    ReminderStep.objects.filter(plan__isnull=False).update(
        government=_government_of(apps, "Plan", "plan_id")
    )
    ReminderStep.objects.filter(plan__isnull=True).update(government=default)
    for model in ("DepartmentWebhook", "DepartmentAlias"):
        apps.get_model("tasks_app", model).objects.update(
            government=_government_of(apps, "Department", "department_id")
        )


def labels_back(apps, schema_editor):
    ImportDraft = apps.get_model("tasks_app", "ImportDraft")
    ImportDraft.objects.update(government_label=_government_of_name(apps))


def _government_of_name(apps):
    return Subquery(
        apps.get_model("tasks_app", "Government")
        .objects.filter(pk=OuterRef("government_id"))
        .values("name")[:1]
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0027_government_roots")]

    operations = [migrations.RunPython(move_rows_to_governments, labels_back)]
