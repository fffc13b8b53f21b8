"""The first day of an installation: the supervision office's first account and the holidays."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tasks_app.common import clock
from tasks_app.models import Role, User
from tasks_app.plans import calendar_services
from tasks_app.plans.services import user_create
from tasks_app.plans.tenants import government_named

PASSWORD_ENV = "GAOXIN_BOOTSTRAP_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create the first supervision-office (督查室) account and load the holiday calendar. "
        f"The password comes from --password or ${PASSWORD_ENV}. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="duchashi", help="the office account's login")
        parser.add_argument("--display-name", default="督查室", help="name shown in the system")
        parser.add_argument("--password", default=None, help=f"else ${PASSWORD_ENV}")
        parser.add_argument(
            "--government",
            default="",
            help="the office's government (created if new); default: the default government",
        )

    def handle(self, *args, username, display_name, password, government, **options):
        self._office_account(username, display_name, password, government)
        loaded = calendar_services.calendar_days_load(actor=None)
        self.stdout.write(
            f"holiday calendar: {loaded.added} days added "
            f"(the package covers {loaded.first_year}-{loaded.last_year})"
        )
        year = clock.today().year
        missing = calendar_services.years_without_days([year, year + 1])
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    "no holidays known for "
                    + ", ".join(map(str, missing))
                    + ": enter them in the admin (工作日历) once the State Council announces them"
                )
            )

    @transaction.atomic
    def _office_account(
        self, username: str, display_name: str, password: str | None, government: str
    ) -> None:
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"account {username}: exists, left as it is")
            return
        password = password or os.environ.get(PASSWORD_ENV, "")
        if len(password) < 12:
            raise CommandError(
                f"give the office account a password of 12 or more characters "
                f"(--password or ${PASSWORD_ENV})"
            )
        user_create(
            actor=None,
            username=username,
            password=password,
            role=Role.SUPERVISOR,
            display_name=display_name,
            government=government_named(government),
        )
        self.stdout.write(f"account {username}: created (督查室)")
