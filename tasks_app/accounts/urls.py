"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

from django.urls import path

from tasks_app.accounts import api as accounts_api

api_urlpatterns: list = [
    path("auth/token/", accounts_api.TokenApi.as_view(), name="api-token"),
    path("auth/token/revoke/", accounts_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
]
web_urlpatterns: list = []
