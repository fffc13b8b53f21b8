from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tasks_app.common import error_views

urlpatterns = [
    path("favicon.ico", error_views.favicon, name="favicon"),
    path("", include("tasks_app.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tasks_app.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

handler400 = "tasks_app.common.error_views.bad_request"
handler403 = "tasks_app.common.error_views.permission_denied"
handler404 = "tasks_app.common.error_views.page_not_found"
handler500 = "tasks_app.common.error_views.server_error"
