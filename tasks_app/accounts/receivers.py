from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from tasks_app.accounts import services


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    services.login_record(username=user.get_username(), user=user, success=True)


@receiver(user_login_failed)
def record_failed_login(sender, credentials, request=None, **kwargs):
    services.login_record(username=str(credentials.get("username", "")), user=None, success=False)
