import re
import time
import urllib.parse
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils.translation import gettext as _


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, which TrustedProxyMiddleware has already set to the
    address a trusted proxy reported. django-axes and the ledger both use this."""
    return request.META.get("REMOTE_ADDR", "")[:45]


class TrustedProxyMiddleware:
    """Believes X-Forwarded-For and X-Forwarded-Proto only from the proxies in TRUSTED_PROXIES.

    From a trusted proxy, REMOTE_ADDR becomes the nearest address in X-Forwarded-For that is not
    itself a trusted proxy (the proxy appends the address it saw, so a client cannot forge it).
    From anyone else both headers are removed, so SECURE_PROXY_SSL_HEADER and the lockout of
    django-axes cannot be steered by a client that reaches gunicorn directly. First middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXIES)

    def __call__(self, request):
        meta = request.META
        if meta.get("REMOTE_ADDR") in self.trusted:
            hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
            untrusted = [h for h in hops if h not in self.trusted]
            if untrusted:
                meta["REMOTE_ADDR"] = untrusted[-1]
            # Consumed: DRF's throttles would otherwise key on the whole header, which the
            # client controls all but the last hop of.
            meta.pop("HTTP_X_FORWARDED_FOR", None)
        else:
            meta.pop("HTTP_X_FORWARDED_FOR", None)
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses a body over MAX_REQUEST_BYTES from its Content-Length, before reading it: 413, in
    the API's JSON error format under /api/ and as a Chinese page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            from tasks_app.common.error_views import request_too_large

            return request_too_large(request)
        return self.get_response(request)


class NulByteMiddleware:
    """A NUL byte in the path or the query string is refused with 400 before any view: no
    database stores it (PostgreSQL refuses it in text), and no filter means it. Bodies are
    checked by the forms and serializers (their CharFields refuse NUL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("QUERY_STRING", "") + request.path
        has_nul = "\x00" in raw or "%00" in raw.lower() or "\x00" in urllib.parse.unquote(raw)
        # An anonymous caller is told to sign in first (401 / the login page), whatever else is
        # wrong with the request: nothing behind that answer reads its input.
        if has_nul and self._has_credentials(request):
            from tasks_app.common.error_views import bad_input

            return bad_input(request, "nul_byte", _("请求中含有不允许的字符(NUL)。"))
        return self.get_response(request)

    @staticmethod
    def _has_credentials(request) -> bool:
        """Signed in: a session (AuthenticationMiddleware runs first) or a live API token."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        kind, _space, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = key.strip()
        if kind.lower() != "token" or not key or "\x00" in key or len(key) > 64:
            return False
        from rest_framework.authtoken.models import Token

        return Token.objects.filter(key=key, user__is_active=True).exists()


def _redis_state(url: str) -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"


class HealthCheckMiddleware:
    """Answers /healthz/ before host validation and the HTTPS redirect, for container probes.

    The body says how the database and Redis (the broker and the cache, when configured) answer,
    each on its own line, e.g. "database: ok" / "redis: unavailable"; any failure is a 503.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz/":
            return self.get_response(request)
        states = {"database": self._database_state(), "redis": self._redis_state()}
        healthy = all(state in ("ok", "not configured") for state in states.values())
        body = "".join(f"{name}: {state}\n" for name, state in states.items())
        return HttpResponse(body, status=200 if healthy else 503, content_type="text/plain")

    def _database_state(self) -> str:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means unhealthy, whatever the driver raises
            return "unavailable"
        return "ok"

    def _redis_state(self) -> str:
        urls = {settings.CACHE_URL, settings.CELERY_BROKER_URL} - {"", "memory://"}
        if not urls:
            return "not configured"
        states = {_redis_state(url) for url in urls}
        return "ok" if states == {"ok"} else "unavailable"


class RequestContextMiddleware:
    """Gives audit events their where: client IP, user agent and a request id.

    The request id is the client's X-Request-ID when it looks like one, else a new one; it is
    echoed in the response. Every 403 answer is itself a ledger event (auth.permission_denied).
    Place after AuthenticationMiddleware. The client address is client_ip(): behind a reverse
    proxy, name it in TRUSTED_PROXIES.
    """

    _REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from tasks_app.audit import ledger

        context = ledger.RequestContext(
            ip=client_ip(request),
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

    def _record_denial(self, request) -> None:
        """A signed-in user's denial is one ledger event each. Anonymous denials (probes, CSRF
        failures) are one event per client address per minute: the first is written at once;
        the rest of that minute are counted and written as one event with the count when the
        address is next denied in a later minute."""
        from tasks_app.audit import services

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._denial_event(services, user, request, {})
            return
        minute = int(time.time() // 60)
        ip = client_ip(request)
        key = f"denied:{ip}:{minute}"
        if not cache.add(key, 1, timeout=3600):
            cache.incr(key)
            return
        extra = {"window_minute": minute}
        last = cache.get(f"denied-last:{ip}")
        if last is not None and last != minute:
            repeats = (cache.get(f"denied:{ip}:{last}") or 1) - 1
            if repeats:
                extra["earlier_minute"], extra["earlier_minute_more_denials"] = last, repeats
        cache.set(f"denied-last:{ip}", minute, timeout=3600)
        self._denial_event(services, None, request, extra)

    @staticmethod
    def _denial_event(services, actor, request, extra: dict) -> None:
        services.audit_log(
            actor=actor,
            action="auth.permission_denied",
            object_type="request",
            object_repr=f"{request.method} {request.path}"[:200],
            after={"method": request.method, "path": request.path[:300], **extra},
        )
