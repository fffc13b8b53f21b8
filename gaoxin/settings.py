"""gaoxin settings: one file, read from the environment.

Nothing configured: DEBUG on, a SQLite file in the project, Celery tasks run eagerly in-process.
Production: set SECRET_KEY, DEBUG=0, ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL.
Every value is validated here; a bad one raises ConfigurationError naming the variable.
"""

import warnings
from pathlib import Path

import dj_database_url

from gaoxin.env import ConfigurationError, env_bool, env_date, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigurationError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ConfigurationError("SECRET_KEY must be at least 50 characters when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ConfigurationError("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "tasks_app",
]

MIDDLEWARE = [
    "tasks_app.common.middleware.TrustedProxyMiddleware",
    "tasks_app.common.middleware.RequestSizeLimitMiddleware",
    "tasks_app.common.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tasks_app.common.rls.TenantMiddleware",  # PostgreSQL row-level security settings
    "tasks_app.common.middleware.NulByteMiddleware",  # after authentication: see its docstring
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "tasks_app.common.middleware.RequestContextMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock an account+address pair out after 5 failed logins, for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client address is REMOTE_ADDR after TrustedProxyMiddleware: the proxy's X-Forwarded-For
# counts only when the request comes from a proxy named in TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "tasks_app.common.middleware.client_ip"

# --- Reverse proxy ----------------------------------------------------------------------------
# Addresses of the reverse proxies in front of gunicorn. Only a request whose peer is one of
# them may say who the client is (X-Forwarded-For) and that it came over HTTPS
# (X-Forwarded-Proto); from anyone else both headers are dropped.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
if env_str("AUDIT_TRUST_X_FORWARDED_FOR"):
    raise ConfigurationError(
        "AUDIT_TRUST_X_FORWARDED_FOR is gone: name the proxies in TRUSTED_PROXIES instead"
    )

# --- Request size -----------------------------------------------------------------------------
# Bodies above this are refused with 413 from their Content-Length, before they are read:
# evidence files are at most 10 MB, plus the form around them.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 11 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

ROOT_URLCONF = "gaoxin.urls"
WSGI_APPLICATION = "gaoxin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tasks_app.common.context_processors.sample_data",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises bare ValueErrors/KeyErrors on junk
        raise ConfigurationError(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if _db.get("ENGINE") not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ConfigurationError("DATABASE_URL must be postgres://... or sqlite:///...")
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "gaoxin.sqlite3"}
_db.setdefault("TEST", {})
if _db["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DB_JIT", False):
    # PostgreSQL's JIT compiles a statement whose cost estimate passes jit_above_cost: worth it
    # for long analytical queries, not for this system's, whose estimates count every sub-select
    # a CASE may never run (the reminder sweep's waiting reports: 25 ms compiling a 27 ms query,
    # 156 ms before its join was simplified). DB_JIT=1 keeps the server's setting.
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"-c jit=off {_options.get('options', '')}".strip()
if env_str("TEST_DATABASE_NAME"):
    _db["TEST"]["NAME"] = env_str("TEST_DATABASE_NAME")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tasks_app.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "tasks_app" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise serves static files from gunicorn itself. In production (DEBUG=0) they come from
# `collectstatic` with hashed, compressed names; with DEBUG on, straight from the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Without collectstatic (development, tests) STATIC_ROOT does not exist and that is fine.
warnings.filterwarnings("ignore", message="No directory at: ")
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Caches ---------------------------------------------------------------------------------
# Shared by every gunicorn worker (login throttles, rate limits) when CACHE_URL (or REDIS_URL)
# names a Redis; else each process keeps its own, which is right for one process only.
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL") or ""
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ConfigurationError("CACHE_URL / REDIS_URL must be a redis:// URL")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "gaoxin",
        }
    }

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL") or ""
if CELERY_BROKER_URL and not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "memory://")):
    raise ConfigurationError("CELERY_BROKER_URL / REDIS_URL must be a redis:// URL")
# No broker configured: run tasks in-process, so the demo needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Reminders: the database holds every schedule; a message on the broker is only a nudge, so a
# lost one costs a minute (the next sweep re-sends it), and API writes never wait for Redis.
CELERY_RESULT_SERIALIZER = "json"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = False  # per task, only where re-running is harmless
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing (from a web request) fails fast when Redis is down; the sweep re-sends later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# --- Reminders --------------------------------------------------------------------------------
REMINDER_TIMEZONE = env_str("REMINDER_TIMEZONE", TIME_ZONE)
REMINDER_WINDOW_START = env_str("REMINDER_WINDOW_START", "08:30")
REMINDER_WINDOW_END = env_str("REMINDER_WINDOW_END", "18:00")
for _name, _value in (
    ("REMINDER_WINDOW_START", REMINDER_WINDOW_START),
    ("REMINDER_WINDOW_END", REMINDER_WINDOW_END),
):
    _hh, _sep, _mm = _value.partition(":")
    if not (
        _sep
        and _hh.isdigit()
        and _mm.isdigit()
        and int(_mm) < 60
        and (int(_hh) < 24 or (int(_hh), int(_mm)) == (24, 0))
    ):
        raise ConfigurationError(f"{_name}={_value!r} is not a time of day (HH:MM, 24:00 allowed)")
REMINDER_WORKING_DAYS_ONLY = env_bool("REMINDER_WORKING_DAYS_ONLY", True)
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 300)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5)
REMINDER_RETRY_BASE_SECONDS = env_int("REMINDER_RETRY_BASE_SECONDS", 60)
REMINDER_DISPATCH_GRACE_SECONDS = env_int("REMINDER_DISPATCH_GRACE_SECONDS", 120)
REMINDER_CATCH_UP_WORKING_DAYS = env_int("REMINDER_CATCH_UP_WORKING_DAYS", 2)
REMINDER_CHASE_INTERVAL_MINUTES = env_int("REMINDER_CHASE_INTERVAL_MINUTES", 60)
REMINDER_EMBEDDED_INTERVAL_SECONDS = env_int("REMINDER_EMBEDDED_INTERVAL_SECONDS", 60)

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigurationError("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent_emails"))  # filebased backend
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "gaoxin@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tasks_app.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tasks_app.common.pagination.NoCountCursorPagination",
    "EXCEPTION_HANDLER": "tasks_app.common.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "tasks_app.common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_RATE", "30/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gaoxin API",
    "DESCRIPTION": "督查督办: tasks, progress reports, reviews",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tasks_app.models.TaskStatus",
        "ExportKindEnum": "tasks_app.models.ExportKind",
        "KindEnum": "tasks_app.models.TaskKind",  # keeps its name beside ExportKind
        # The office's review and the department head's sign-off both have a "decision".
        "ReviewDecisionEnum": "tasks_app.models.Review.Decision",
        "SignOffDecisionEnum": "tasks_app.models.SignOff.Decision",
        "GovernmentLevelEnum": "tasks_app.models.GovernmentLevel",
    },
    # The documented request format is JSON (uploads declare multipart themselves): a form
    # field cannot say null, so a schema offering forms promises what they cannot carry.
    "PARSER_WHITELIST": ["tasks_app.common.parsers.BoundedJSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tasks_app.common.schema.no_nul_in_request_text",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Only ever present when a trusted proxy sent it (TrustedProxyMiddleware drops it otherwise).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Sample (示例) data is created only by the demo command; this flag only controls the banner.
GAOXIN_DEMO = env_bool("GAOXIN_DEMO", False)
# The government that rows made without one belong to (a single-government installation never
# names another); `load_plan --government NAME` and `import_report --government NAME` add others.
GAOXIN_GOVERNMENT = env_str("GAOXIN_GOVERNMENT") or "珠海高新区"

# The business clock (tasks_app/common/clock.py): a date here fixes "today" for schedules, lights,
# reminders, stats and default as-of dates. Unset in production (the real date); `make run`
# defaults it to the demo date 2020-09-30.
GAOXIN_TODAY = env_date("GAOXIN_TODAY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Audit ledger ---------------------------------------------------------------------------
# Exports up to this many rows are streamed at once; larger ones run as background jobs.
AUDIT_EXPORT_SYNC_MAX_ROWS = env_int("AUDIT_EXPORT_SYNC_MAX_ROWS", 10000)
# A background ledger CSV of a chain this long is read by two COPY streams (PostgreSQL).
AUDIT_EXPORT_PARALLEL_MIN_ROWS = env_int("AUDIT_EXPORT_PARALLEL_MIN_ROWS", 200_000)
# Anonymous public pages (/public/): requests per client address and minute.
PUBLIC_RATE_PER_MINUTE = env_int("PUBLIC_RATE_PER_MINUTE", 120)
