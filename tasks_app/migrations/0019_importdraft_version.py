from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0015_business_clock_defaults"),
    ]

    operations = [
        migrations.AddField(
            model_name="importdraft",
            name="version",
            field=models.PositiveIntegerField(default=1, verbose_name="版本"),
        ),
    ]
