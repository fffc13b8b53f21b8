# Reserved slot in the migration chain; filled with this feature's own operations.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0007_audit_ledger")]

    operations: list = []
