"""Routes of one feature: api_urlpatterns under /api/v1/, web_urlpatterns under /."""

api_urlpatterns: list = []
web_urlpatterns: list = []
