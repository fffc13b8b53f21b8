from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tasks_app.importer import breakdown
from tasks_app.models import Plan


class Command(BaseCommand):
    help = "Write a plan's register as a 任务分解表 (XLSX, or CSV when OUTPUT ends with .csv)."

    def add_arguments(self, parser):
        parser.add_argument("output")
        parser.add_argument("--plan", type=int, required=True, help="plan id")

    def handle(self, *args, output, plan, **options):
        target = Plan.objects.filter(pk=plan).first()
        if target is None:
            raise CommandError(f"no plan with id {plan}")
        is_csv = output.lower().endswith(".csv")
        data = breakdown.export_csv(target) if is_csv else breakdown.export_xlsx(target)
        Path(output).write_bytes(data)
        self.stdout.write(f"{target}: {target.tasks.count()} tasks written to {output}")
