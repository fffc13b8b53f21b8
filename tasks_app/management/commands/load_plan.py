from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tasks_app.importer.edits import plan_from_edits_file
from tasks_app.plans import services
from tasks_app.plans.plan_data import DEFAULT_PLAN_FILE, read_plan_file
from tasks_app.plans.tenants import government_named


class Command(BaseCommand):
    help = (
        "Load a plan data file (default: the shipped 2020 plan), or a report's draft plus the "
        'office\'s recorded edits (a file with "report" and "edits", e.g. '
        "tasks_app/data/plan_2020_edits.json); running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PLAN_FILE))
        parser.add_argument(
            "--government",
            default="",
            help="the government the plan belongs to (created if new); default: the one the "
            "file names, else GAOXIN_GOVERNMENT",
        )

    def handle(self, *args, path, government, **options):
        try:
            data = read_plan_file(Path(path))
            if "edits" in data:
                data = plan_from_edits_file(Path(path))
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read plan file {path}: {exc}") from None
        plan, result = services.plan_load(
            actor=None, data=data, government=government_named(government) if government else None
        )
        if result.changed:
            self.stdout.write(
                f"{plan}: created {result.created or 'nothing'}, "
                f"updated {result.updated or 'nothing'}"
            )
        else:
            self.stdout.write(f"{plan}: already up to date, nothing changed")
