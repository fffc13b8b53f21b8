from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks_app"
    verbose_name = _("督查督办")

    def ready(self):
        from tasks_app.accounts import receivers  # noqa: F401  (connects the login receivers)
        from tasks_app.common import checks  # noqa: F401  (registers the system checks)
