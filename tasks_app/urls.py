"""The pages, under /: each feature's web_urlpatterns (tasks_app/<feature>/urls.py)."""

from tasks_app.accounts import urls as accounts
from tasks_app.audit import urls as audit
from tasks_app.importer import urls as importer
from tasks_app.plans import urls as plans
from tasks_app.reminders import urls as reminders
from tasks_app.reporting import urls as reporting
from tasks_app.stats import urls as stats
from tasks_app.stocktakes import urls as stocktakes

urlpatterns = [
    *accounts.web_urlpatterns,
    *plans.web_urlpatterns,
    *reporting.web_urlpatterns,
    *stats.web_urlpatterns,
    *audit.web_urlpatterns,
    *reminders.web_urlpatterns,
    *importer.web_urlpatterns,
    *stocktakes.web_urlpatterns,
]
