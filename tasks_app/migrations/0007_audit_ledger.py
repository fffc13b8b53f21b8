# Reserved slot in the migration chain; filled with this feature's own operations.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0006_import_drafts")]

    operations: list = []
