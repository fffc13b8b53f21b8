from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0014_delivery_attempt_written_before_sending"),
    ]

    operations = [
        migrations.AddField(
            model_name="importdraft",
            name="version",
            field=models.PositiveIntegerField(default=1, verbose_name="版本"),
        ),
    ]
