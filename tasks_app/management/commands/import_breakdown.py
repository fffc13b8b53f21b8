from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tasks_app.common.errors import ServiceError
from tasks_app.importer import breakdown_apply
from tasks_app.models import Plan


class Command(BaseCommand):
    help = "Apply a 任务分解表 (XLSX or CSV) to a plan's tasks: all rows or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--plan", type=int, required=True, help="plan id")

    def handle(self, *args, file, plan, **options):
        target = Plan.objects.filter(pk=plan).first()
        if target is None:
            raise CommandError(f"no plan with id {plan}")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            result = breakdown_apply.breakdown_import(
                actor=None, plan=target, data=data, filename=Path(file).name
            )
        except breakdown_apply.BreakdownRejected as error:
            for item in error.errors:
                self.stderr.write(f"row {item['row']} {item['column']}: {item['reason']}")
            raise CommandError(f"{error.code}: {error.message}") from None
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"{target}: {result['rows']} rows read, {len(result['changed'])} tasks changed"
        )
