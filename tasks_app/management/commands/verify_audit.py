"""Verify the audit ledger's hash chain; exit 1 at the first broken link."""

import json

from django.core.management.base import BaseCommand, CommandError

from tasks_app.audit import ledger


class Command(BaseCommand):
    help = "Verify the audit ledger (whole chain or a seq range) against its checkpoints."

    def add_arguments(self, parser):
        parser.add_argument("--from-seq", type=int, help="first seq to check (default 1)")
        parser.add_argument("--to-seq", type=int, help="last seq to check (default: the head)")
        parser.add_argument(
            "--checkpoints",
            help="JSON file of checkpoints kept elsewhere (as exported by audit_checkpoint --list)",
        )

    def handle(self, *args, from_seq=None, to_seq=None, checkpoints=None, **options):
        kept = self._read_checkpoints(checkpoints) if checkpoints else []
        result = ledger.verify(from_seq=from_seq, to_seq=to_seq, checkpoints=kept)
        if result.ok:
            self.stdout.write(
                f"OK: {result.checked} events (seq {result.first_seq}..{result.last_seq}), "
                f"{result.checkpoints_checked} checkpoints; head seq {result.head_seq} "
                f"hash {result.head_hash}"
            )
            return
        broken = result.broken
        self.stderr.write(
            f"BROKEN at seq {broken.seq} ({broken.reason}): expected {broken.expected}, "
            f"found {broken.found}; {result.checked} events verified before it"
        )
        raise SystemExit(1)

    def _read_checkpoints(self, path: str) -> list[ledger.Checkpoint]:
        try:
            with open(path, encoding="utf-8") as handle:
                return ledger.checkpoints_parse(json.load(handle))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read checkpoints from {path}: {exc}") from None
