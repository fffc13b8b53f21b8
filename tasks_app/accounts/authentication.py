"""API token authentication that also sets the request's row-level security settings.

A token is read in the view, after the middleware has run with an anonymous user, so this is
where an API client's governments become known (tasks_app.common.rls). The department is read
after that: on PostgreSQL, read before, the policies would hide it.
"""

from django.db import connection
from rest_framework import authentication

from tasks_app.common import rls


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        # One query on SQLite; on PostgreSQL the department waits for the settings.
        related = ("user", "user__department") if connection.vendor != "postgresql" else ("user",)
        queryset = model.objects.select_related(*related)
        try:
            token = queryset.get(key=key)
        except model.DoesNotExist:
            return super().authenticate_credentials(key)  # the same error, in DRF's words
        if not token.user.is_active:
            return super().authenticate_credentials(key)
        rls.enter_user(token.user)
        return (token.user, token)
