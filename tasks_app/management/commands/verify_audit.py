"""Verify the audit ledger's hash chains, one per government; exit 1 if any link is broken."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from tasks_app.audit import ledger
from tasks_app.models import Government


def government_named(value: str) -> Government:
    """A government by id, code or name; CommandError when none matches."""
    match = Q(name=value) | Q(code=value)
    if value.isascii() and value.isdigit() and len(value) <= 18:
        match |= Q(pk=int(value))
    found = Government.objects.filter(match).first()
    if found is None:
        raise CommandError(f"no government {value!r} (give its id, code or name)")
    return found


class Command(BaseCommand):
    help = (
        "Verify the audit ledger: one government's chain (--government), else every government's "
        "chain, each against its checkpoints."
    )

    def add_arguments(self, parser):
        parser.add_argument("--government", help="the government's id, code or name")
        parser.add_argument("--from-seq", type=int, help="first seq to check (default 1)")
        parser.add_argument("--to-seq", type=int, help="last seq to check (default: the head)")
        parser.add_argument(
            "--checkpoints",
            help="JSON file of checkpoints kept elsewhere (as exported by audit_checkpoint --list)",
        )

    def handle(self, *args, government=None, from_seq=None, to_seq=None, checkpoints=None, **_):
        kept = self._read_checkpoints(checkpoints) if checkpoints else []
        options = {"from_seq": from_seq, "to_seq": to_seq, "checkpoints": kept}
        if government:
            results = [ledger.verify(government_id=government_named(government).pk, **options)]
        else:
            results = ledger.verify_all(**options)
        for result in results:
            self._report(result)
        if not results:
            self.stdout.write("OK: the ledger holds no events yet")
        if not all(result.ok for result in results):
            raise SystemExit(1)

    def _report(self, result: ledger.Verification) -> None:
        name = f"government {result.government_id} {result.government}"
        if result.ok:
            self.stdout.write(
                f"OK: {result.checked} events (seq {result.first_seq}..{result.last_seq}), "
                f"{result.checkpoints_checked} checkpoints; head seq {result.head_seq} "
                f"hash {result.head_hash}; {name}"
            )
            return
        broken = result.broken
        self.stderr.write(
            f"BROKEN at seq {broken.seq} ({broken.reason}): expected {broken.expected}, "
            f"found {broken.found}; {result.checked} events verified before it; {name}"
        )

    def _read_checkpoints(self, path: str) -> list[ledger.Checkpoint]:
        try:
            with open(path, encoding="utf-8") as handle:
                return ledger.checkpoints_parse(json.load(handle))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read checkpoints from {path}: {exc}") from None
