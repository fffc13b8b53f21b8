import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tasks_app.common.errors import ServiceError
from tasks_app.importer import drafts
from tasks_app.importer.publish import import_draft_publish


class Command(BaseCommand):
    help = (
        "Draft a plan from a work report's text (UTF-8 or GB18030/GBK). --dry-run prints the draft "
        "without writing; otherwise the draft is stored, and --publish also publishes it when "
        "nothing is missing (every item has a lead department, every target a unit); "
        "--allow-incomplete publishes it anyway (departments to come from a 任务分解表)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--title", default="")
        parser.add_argument("--government", default="")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument("--publish", action="store_true", help="publish the draft at once")
        parser.add_argument(
            "--allow-incomplete",
            action="store_true",
            help="publish although items have no lead department or targets no unit",
        )

    def handle(self, *args, file, year, title, government, dry_run, format, publish, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            if dry_run:
                draft, encoding = drafts.report_parse(
                    data=data, year=year, title=title, government=government
                )
                self._print(draft, encoding, format)
                return
            stored = drafts.import_draft_create(
                actor=None,
                data=data,
                source_name=Path(file).name,
                year=year,
                title=title,
                government=government,
            )
            self._print(stored.data, stored.encoding, format, draft_id=stored.pk)
            if publish:
                plan, changes = import_draft_publish(
                    actor=None, draft=stored, allow_incomplete=options["allow_incomplete"]
                )
                self.stdout.write(self._changes_line(plan, changes))
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from None

    def _print(self, draft: dict, encoding: str, format: str, draft_id: int | None = None) -> None:
        if format == "json":
            self.stdout.write(json.dumps(draft, ensure_ascii=False, indent=1))
            return
        counts = drafts.draft_counts(draft)
        stored = f"draft #{draft_id}: " if draft_id else "dry run: "
        heading = draft["plan_part"]["heading"]
        self.stdout.write(
            f"{stored}{draft['plan']['title']} ({encoding}), plan part from “{heading}”: "
            f"{len(draft['headline_targets'])} headline targets, {counts['sections']} sections, "
            f"{counts['key_areas']} key areas, {counts['tasks']} items, "
            f"{counts['indicators']} indicators"
        )
        for warning in draft["warnings"]:
            self.stdout.write(f"warning: {warning}")

    @staticmethod
    def _changes_line(plan, changes: dict) -> str:
        return (
            f"published {plan}: {len(changes['new'])} new, {len(changes['changed'])} changed, "
            f"{len(changes['unchanged'])} unchanged, "
            f"{len(changes['missing'])} no longer in the text"
        )
