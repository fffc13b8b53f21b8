"""The application's URLs plus the baseline of benchmark 1 (bench.baseline_http.submit) at
/bench/tasks/<id>/updates/: the same server, the same middleware, the same database."""

from django.urls import path

from bench import baseline_http
from gaoxin.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/tasks/<int:pk>/updates/", baseline_http.submit),
    *app_urlpatterns,
]
