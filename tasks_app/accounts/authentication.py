"""API token authentication that loads the user's department with the token (one query).

Every write is audited with the actor's department name; DRF's TokenAuthentication fetches the
user alone, so each request paid a second query for the department.
"""

from rest_framework import authentication


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        queryset = model.objects.select_related("user", "user__department")
        try:
            token = queryset.get(key=key)
        except model.DoesNotExist:
            return super().authenticate_credentials(key)  # the same error, in DRF's words
        if not token.user.is_active:
            return super().authenticate_credentials(key)
        return (token.user, token)
