"""API token authentication that also sets the request's row-level security settings.

A token is read in the view, after the middleware has run with an anonymous user, so this is
where an API client's governments become known (tasks_app.common.rls). The look-up's SQL is
compiled once per process (common.prepared): compiling it cost more than running it. The user's
department comes with the token on SQLite; on PostgreSQL it is read after the settings are in
place (read before, the policies would hide it).
"""

from django.db import connection
from rest_framework import authentication
from rest_framework.authtoken.models import Token

from tasks_app.common import rls
from tasks_app.common.prepared import PreparedGet

_TOKEN = PreparedGet(lambda: Token.objects.select_related("user"), "key", "-" * 40)
_TOKEN_WITH_DEPARTMENT = PreparedGet(
    lambda: Token.objects.select_related("user", "user__department"), "key", "-" * 40
)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        lookup = _TOKEN if connection.vendor == "postgresql" else _TOKEN_WITH_DEPARTMENT
        token = lookup.get(key)
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)  # the same error, in DRF's words
        rls.enter_user(token.user)
        return (token.user, token)
