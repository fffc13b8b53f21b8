"""Indexes for the reminder sweep at province scale (issue 8, benchmark 3).

- reminder_day_step_idx: each sweep looks up which of today's candidate reminders an earlier
  sweep already decided, by (remind_on, step), instead of re-inserting them all; it carries
  task and item so that PostgreSQL answers from the index alone;
- statusupdate_waiting_idx: the reports returned or awaiting review, read every minute, without
  scanning a year of accepted reports.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0009_ledger_canonical_columns")]

    operations = [
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                fields=["remind_on", "step"],
                include=("task", "item"),
                name="reminder_day_step_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="statusupdate",
            index=models.Index(
                condition=models.Q(("review_state__in", ["returned", "submitted"])),
                fields=["task"],
                name="statusupdate_waiting_idx",
            ),
        ),
    ]
