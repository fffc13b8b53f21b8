"""Record the audit ledger's chain head as a checkpoint, or print every checkpoint as JSON."""

import json

from django.core.management.base import BaseCommand

from tasks_app.audit import ledger


class Command(BaseCommand):
    help = "Record a checkpoint of the audit ledger (seq, hash, time); --list prints them all."

    def add_arguments(self, parser):
        parser.add_argument(
            "--list",
            action="store_true",
            help="print every checkpoint as JSON, to keep outside the system",
        )

    def handle(self, *args, list=False, **options):
        if list:
            self.stdout.write(json.dumps(ledger.checkpoints_export(), indent=2))
            return
        checkpoint = ledger.checkpoint_record(created_by="manage.py")
        if checkpoint is None:
            self.stdout.write("no new events since the last checkpoint")
            return
        self.stdout.write(
            json.dumps(
                {
                    "seq": checkpoint.seq,
                    "hash": checkpoint.hash,
                    "created_at": ledger.timestamp(checkpoint.created_at),
                }
            )
        )
