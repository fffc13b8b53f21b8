"""API token authentication that loads the user's department with the token (one query).

Every write is audited with the actor's department name; DRF's TokenAuthentication fetches the
user alone, so each request paid a second query for the department. The look-up's SQL is
compiled once per process (common.prepared): compiling it cost more than running it.
"""

from rest_framework import authentication
from rest_framework.authtoken.models import Token

from tasks_app.common.prepared import PreparedGet

_TOKEN = PreparedGet(
    lambda: Token.objects.select_related("user", "user__department"), "key", "-" * 40
)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        token = _TOKEN.get(key)
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)  # the same error, in DRF's words
        return (token.user, token)
