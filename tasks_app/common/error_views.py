"""Error answers: the API's JSON error body under /api/, a Chinese page in the site's layout
everywhere else. gaoxin/urls.py names these as Django's handler400/403/404/500;
RequestSizeLimitMiddleware answers 413 with request_too_large."""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import requires_csrf_token

from tasks_app.common.api import error_body

FAVICON = Path(__file__).resolve().parents[1] / "static" / "tasks_app" / "favicon.ico"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _answer(request, status: int, code: str, message: str, template: str):
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, template, {"message": message, "status": status}, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _answer(request, 400, "bad_request", _("请求无法处理,请检查后重试。"), "400.html")


def bad_input(request, code: str, message: str):
    return _answer(request, 400, code, message, "400.html")


@requires_csrf_token
def permission_denied(request, exception=None):
    return _answer(request, 403, "forbidden", _("您无权访问该页面。"), "403.html")


@requires_csrf_token
def page_not_found(request, exception=None):
    return _answer(request, 404, "not_found", _("未找到该页面或对象。"), "404.html")


@requires_csrf_token
def server_error(request):
    """No request context here (no user, no database): whatever failed may fail again."""
    message = _("服务器内部错误,请稍后重试;问题持续时请联系系统管理员。")
    if _is_api(request):
        return JsonResponse(error_body("server_error", message), status=500)
    return HttpResponseServerError(loader.get_template("500.html").render({"message": message}))


def request_too_large(request):
    megabytes = settings.MAX_REQUEST_BYTES // (1024 * 1024)
    message = _("请求内容过大,上限为%(mb)s MB。") % {"mb": megabytes}
    return _answer(request, 413, "request_too_large", message, "413.html")


@cache_control(max_age=86400, public=True)
def favicon(request):
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
