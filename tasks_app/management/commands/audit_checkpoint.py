"""Record each government's audit chain head as a checkpoint, or print every checkpoint as JSON."""

import json

from django.core.management.base import BaseCommand

from tasks_app.audit import ledger


class Command(BaseCommand):
    help = (
        "Record a checkpoint (seq, hash, time) of each government's audit chain that moved since "
        "its last; --list prints them all, each naming its government."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--list",
            action="store_true",
            help="print every checkpoint as JSON, to keep outside the system",
        )

    def handle(self, *args, list=False, **options):
        if list:
            self.stdout.write(json.dumps(ledger.checkpoints_export(), ensure_ascii=False, indent=2))
            return
        recorded = ledger.checkpoints_record_all(created_by="manage.py")
        if not recorded:
            self.stdout.write("no new events since the last checkpoints")
        for checkpoint in recorded:
            self.stdout.write(
                json.dumps(
                    {
                        "government_id": checkpoint.government_id,
                        "seq": checkpoint.seq,
                        "hash": checkpoint.hash,
                        "created_at": ledger.timestamp(checkpoint.created_at),
                    }
                )
            )
