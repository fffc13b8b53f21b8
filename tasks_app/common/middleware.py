import re
import uuid

from django.conf import settings
from django.db import connection
from django.http import HttpResponse


class HealthCheckMiddleware:
    """Answers /healthz/ before host validation and the HTTPS redirect, for container probes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz/":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means unhealthy, whatever the driver raises
            return HttpResponse("database unavailable", status=503, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")


class RequestContextMiddleware:
    """Gives audit events their where: client IP, user agent and a request id.

    The request id is the client's X-Request-ID when it looks like one, else a new one; it is
    echoed in the response. Every 403 answer is itself a ledger event (auth.permission_denied).
    Place after AuthenticationMiddleware. Behind a reverse proxy set
    AUDIT_TRUST_X_FORWARDED_FOR = True so the client address comes from X-Forwarded-For.
    """

    _REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from tasks_app.audit import ledger

        context = ledger.RequestContext(
            ip=self._client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            request_id=self._request_id(request),
        )
        token = ledger.set_context(context)
        try:
            response = self.get_response(request)
            if response.status_code == 403:
                self._record_denial(request)
        finally:
            ledger.reset_context(token)
        response["X-Request-ID"] = context.request_id
        return response

    def _request_id(self, request) -> str:
        given = request.headers.get("X-Request-ID", "")
        return given if self._REQUEST_ID.match(given) else uuid.uuid4().hex

    def _client_ip(self, request) -> str:
        if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
            forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
            if forwarded:
                return forwarded[:45]
        return request.META.get("REMOTE_ADDR", "")[:45]

    def _record_denial(self, request) -> None:
        from tasks_app.audit import services

        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        services.audit_log(
            actor=actor,
            action="auth.permission_denied",
            object_type="request",
            object_repr=f"{request.method} {request.path}"[:200],
            after={"method": request.method, "path": request.path[:300]},
        )
