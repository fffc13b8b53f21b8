"""The REST API, under /api/v1/: each feature's api_urlpatterns (tasks_app/<feature>/urls.py)."""

from tasks_app.accounts import urls as accounts
from tasks_app.audit import urls as audit
from tasks_app.importer import urls as importer
from tasks_app.plans import urls as plans
from tasks_app.public import urls as public
from tasks_app.reminders import urls as reminders
from tasks_app.reporting import urls as reporting
from tasks_app.stats import urls as stats

urlpatterns = [
    *accounts.api_urlpatterns,
    *plans.api_urlpatterns,
    *reporting.api_urlpatterns,
    *stats.api_urlpatterns,
    *audit.api_urlpatterns,
    *reminders.api_urlpatterns,
    *importer.api_urlpatterns,
    *public.api_urlpatterns,
]
