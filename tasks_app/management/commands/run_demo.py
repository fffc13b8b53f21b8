from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tasks_app.common import clock
from tasks_app.models import Plan
from tasks_app.plans.demo import DEMO_PASSWORD, demo_seed
from tasks_app.plans.plan_data import read_plan_file
from tasks_app.reminders import sweep as reminders


class Command(BaseCommand):
    help = "Demo mode: migrate, load the 2020 plan, create sample (示例) data, print logins, serve."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare the data only")

    def handle(self, *args, addrport, no_serve, **options):
        # The demo lives inside its plan year: today is the demo date unless GAOXIN_TODAY says.
        if clock.fixed_today() is None:
            settings.GAOXIN_TODAY = clock.DEMO_TODAY
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_plan", stdout=self.stdout)
        meta = read_plan_file()["plan"]
        plan = Plan.objects.get(year=meta["year"], title=meta["title"])
        accounts = demo_seed(plan=plan)
        self.stdout.write("\n示例账号 (demo logins), password for all: " + DEMO_PASSWORD)
        for account in accounts:
            self.stdout.write(f"  {account.username:<12} {account.display_name}")
        self.stdout.write(f"\n演示日期 (demo date, GAOXIN_TODAY): {clock.today():%Y-%m-%d}")
        self.stdout.write(f"\nOpen http://{addrport}/  (admin: http://{addrport}/admin/)\n")
        self.stdout.flush()
        if not no_serve:
            if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker: sweep and send in this process
                reminders.start_embedded_scheduler()
                self.stdout.write("Reminders: embedded sweep every minute (console email)\n")
            # Visitors see the site's Chinese error pages, not Django's debug pages; static files
            # are still served by runserver (insecure: fine for a demo on one machine).
            settings.DEBUG = False
            call_command("runserver", addrport, use_reloader=False, insecure_serving=True)
