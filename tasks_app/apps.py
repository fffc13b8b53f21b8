from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks_app"
    verbose_name = _("督查督办")

    def ready(self):
        from tasks_app.common import rls

        # Each new PostgreSQL connection starts with the process's row-level security default;
        # a login switches the request to the user's governments before the login is recorded.
        connection_created.connect(rls.on_connection_created, dispatch_uid="gaoxin-rls")
        user_logged_in.connect(rls.on_login, dispatch_uid="gaoxin-rls-login")

        from tasks_app.accounts import receivers  # noqa: F401  (connects the login receivers)
        from tasks_app.common import checks  # noqa: F401  (registers the system checks)
