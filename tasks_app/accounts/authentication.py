"""API token authentication that also sets the request's row-level security settings.

A token is read in the view, after the middleware has run with an anonymous user, so this is
where an API client's governments become known (tasks_app.common.rls). The look-up's SQL is
compiled once per process (common.prepared): compiling it cost more than running it. On
PostgreSQL the same statement sets the user's settings (rls.settings_of_joined_user), and the
user's department is read after them (read before, the policies would hide it); on SQLite the
department comes with the token.
"""

from django.db import connection
from django.db.models.expressions import RawSQL
from rest_framework import authentication
from rest_framework.authtoken.models import Token

from tasks_app.common import rls
from tasks_app.common.prepared import PreparedGet

# On PostgreSQL the look-up sets the user's row-level security settings in the same statement.
_TOKEN = PreparedGet(
    lambda: Token.objects.select_related("user").annotate(
        rls_settings=RawSQL(rls.settings_of_joined_user(), ())
    ),
    "key",
    "-" * 40,
)
_TOKEN_WITH_DEPARTMENT = PreparedGet(
    lambda: Token.objects.select_related("user", "user__department"), "key", "-" * 40
)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        lookup = _TOKEN if connection.vendor == "postgresql" else _TOKEN_WITH_DEPARTMENT
        token = lookup.get(key)
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)  # the same error, in DRF's words
        rls.entered(token.user, getattr(token, "rls_settings", None))
        return (token.user, token)
