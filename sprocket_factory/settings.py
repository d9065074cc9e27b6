"""Settings, read from the environment only.

With no variables set this is the embedded default: a SQLite file, the local-memory cache,
DEBUG on and a generated development secret. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY and ALLOWED_HOSTS (see `.env.example` and the README).
"""

import contextlib
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.ops.logs import logging_config, structlog_configure
from sprocket_factory.backends import default_cache, replica_database

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

EMBEDDED = not os.environ.get("DATABASE_URL")
DEBUG = env.bool("DEBUG", default=EMBEDDED)

MISSING_KEY_MESSAGE = (
    "SECRET_KEY is not set. With DEBUG off (production mode) the secret key must come from "
    "the environment, e.g. SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
)


def _development_secret_key() -> str:
    """A random key kept in a git-ignored file, so sessions survive a restart of runserver."""
    key_file = BASE_DIR / ".dev-secret-key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        with contextlib.suppress(OSError):
            key_file.write_text(key)
        return key


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(MISSING_KEY_MESSAGE)
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "core",
    "ingest",
    "inventory",
    "production",
    "alerts",
    "django_q",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.ops.request_log.RequestLogMiddleware",
    "core.ops.replay.ReplayStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.ops.middleware.RequestBodyLimitMiddleware",
    "core.ops.middleware.PrivateReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.api.exceptions.ApiErrorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "sprocket_factory.urls"
WSGI_APPLICATION = "sprocket_factory.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own overrides of Django's templates (the admin's base_site).
        "DIRS": [BASE_DIR / "sprocket_factory" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves and runs the worker in two processes: writers wait for each
    # other (IMMEDIATE transactions, 20 s) and readers do not wait for writers (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Milliseconds a request's query may run (0: no limit). manage.py commands other than
# runserver default to no limit; bulk ingest and exports set their own (SET LOCAL).
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", default=30_000)
# The requests' bound, also in a manage.py command (which runs under none; manage.py sets it).
REQUEST_STATEMENT_TIMEOUT = env.int("REQUEST_STATEMENT_TIMEOUT", default=DATABASE_STATEMENT_TIMEOUT)
BULK_STATEMENT_TIMEOUT = env.int("BULK_STATEMENT_TIMEOUT", default=600_000)
# A CSV export streams for as long as its client reads, within a transaction: bounded too.
EXPORT_STATEMENT_TIMEOUT = env.int("EXPORT_STATEMENT_TIMEOUT", default=300_000)
# Behind a transaction pooler (PgBouncer's pool_mode = transaction) a session's state does not
# follow it from one transaction to the next: the pooler refuses startup options, so the
# statement timeout is the role's default in this database instead (set by `migrate`), and
# querysets iterate without server-side cursors (they would outlive their transaction).
DATABASE_TRANSACTION_POOLER = env.bool("DATABASE_TRANSACTION_POOLER", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if DATABASE_TRANSACTION_POOLER:
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT}"
        )
# Read replicas (core/replicas.py): PostgreSQL streaming replicas of DATABASE_URL, used for a
# read only when they have replayed every write it depends on.
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
REPLICA_CHECK_MILLISECONDS = env.float("REPLICA_CHECK_MILLISECONDS", default=5.0)
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=5.0)
for _index, _url in enumerate(DATABASE_REPLICA_URLS):
    DATABASES[f"replica_{_index}"] = replica_database(env.db_url_config(_url), DATABASES["default"])
DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
CACHE_TTL = env.int("CACHE_TTL", default=600)
# Off only to measure the uncached service (benchmarks/); generations are kept either way.
CACHE_RESPONSES = env.bool("CACHE_RESPONSES", default=True)
# Anonymous cached reads are answered whole before Django, in front of it (core/ops/replay.py).
CACHE_REPLAY = env.bool("CACHE_REPLAY", default=True)
# Seconds between each process's pings of Redis, to notice an outage while idle.
CACHE_WATCHDOG_SECONDS = env.float("CACHE_WATCHDOG_SECONDS", default=0.5)
# Redis behind Sentinel: `host:port,...` of the sentinels and the name they know the primary
# by; REDIS_URL then gives only the database number and credentials (core/redis_connections.py).
REDIS_SENTINELS = env.str("REDIS_SENTINELS", default="")
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
CACHES = {
    "default": default_cache(
        REDIS_URL,
        ttl=CACHE_TTL,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        sentinels=REDIS_SENTINELS,
        sentinel_master=REDIS_SENTINEL_MASTER,
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "admin:login"
# ModelBackend with a user's own and group permissions read in one query (core/auth.py).
AUTHENTICATION_BACKENDS = ["core.auth.RolePermissionsBackend"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Security: secure by default in production mode, each one overridable for plain-HTTP setups.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # Submitting a domain to the browsers' HSTS preload list is the operator's decision.
    "security.W021",
]

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line (production); console: readable lines (development).
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)
structlog_configure()

# Operations: /metrics is for staff or a bearer token unless METRICS_PUBLIC is on.
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Service knobs (documented in .env.example and the README).
ANONYMOUS_READ = env.bool("ANONYMOUS_READ", default=True)
PAGE_SIZE_DEFAULT = env.int("PAGE_SIZE_DEFAULT", default=1000)
PAGE_SIZE_MAX = env.int("PAGE_SIZE_MAX", default=10000)
# PostgreSQL writes list pages, chart documents and summaries as JSON (the same bytes Python
# would); off, Python writes them (as it always does on SQLite).
JSON_FROM_DATABASE = env.bool("JSON_FROM_DATABASE", default=True)
CHART_MAX_POINTS = env.int("CHART_MAX_POINTS", default=50000)
TOKEN_TTL = timedelta(seconds=env.int("TOKEN_TTL", default=30 * 24 * 3600))
LOGIN_THROTTLE_RATE = env.str("LOGIN_THROTTLE_RATE", default="10/min")
EXPORT_THROTTLE_RATE = env.str("EXPORT_THROTTLE_RATE", default="60/hour")
# Exports running at once: per user (across processes, counted in Redis) and per process,
# where the default leaves half of gunicorn's threads for everything else.
EXPORT_MAX_PER_USER = env.int("EXPORT_MAX_PER_USER", default=2)
EXPORT_MAX_PER_PROCESS = env.int(
    "EXPORT_MAX_PER_PROCESS", default=max(1, env.int("GUNICORN_THREADS", default=4) // 2)
)
# Seconds an export waits for its client to take a chunk before it gives up on it.
EXPORT_IDLE_SECONDS = env.float("EXPORT_IDLE_SECONDS", default=30.0)
# Live events (GET /production/events): the entries each stream keeps for clients that
# reconnect, the seconds between heartbeats, how soon a client reconnects, how long one
# stream lasts before the client reconnects (and is authenticated again), and the streams a
# process holds at once: async under ASGI, and sync (each holding a thread) under WSGI.
EVENTS_STREAM_MAXLEN = env.int("EVENTS_STREAM_MAXLEN", default=10000)
EVENTS_HEARTBEAT_SECONDS = env.float("EVENTS_HEARTBEAT_SECONDS", default=15.0)
EVENTS_RETRY_MILLISECONDS = env.int("EVENTS_RETRY_MILLISECONDS", default=3000)
EVENTS_STREAM_SECONDS = env.float("EVENTS_STREAM_SECONDS", default=3600.0)
EVENTS_MAX_ASYNC_STREAMS = env.int("EVENTS_MAX_ASYNC_STREAMS", default=5000)
EVENTS_MAX_SYNC_STREAMS = env.int("EVENTS_MAX_SYNC_STREAMS", default=16)
ADMIN_PRODUCTION_COUNT_LIMIT = env.int("ADMIN_PRODUCTION_COUNT_LIMIT", default=10000)
# Time partitions of production records on PostgreSQL (production.partitions): each covers a
# UTC day, week or month; `production_partitions` keeps this many periods ahead created.
PRODUCTION_PARTITION_INTERVAL = env.str("PRODUCTION_PARTITION_INTERVAL", default="month")
if PRODUCTION_PARTITION_INTERVAL not in {"day", "week", "month"}:
    raise ImproperlyConfigured("PRODUCTION_PARTITION_INTERVAL must be day, week or month.")
PRODUCTION_PARTITIONS_AHEAD = env.int("PRODUCTION_PARTITIONS_AHEAD", default=3)
# How long dropping or emptying a partition waits for a table another transaction holds.
PARTITION_LOCK_TIMEOUT_SECONDS = env.float("PARTITION_LOCK_TIMEOUT_SECONDS", default=5.0)
PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS = env.int(
    "PRODUCTION_CONVERT_IN_MIGRATE_MAX_ROWS", default=1_000_000
)
# How long raw records are kept ("24 months", "90 days"; empty: for ever). Whole partitions
# older than that are dropped; the hourly and daily rollups are kept for ever.
PRODUCTION_RAW_RETENTION = env.str("PRODUCTION_RAW_RETENTION", default="")
if PRODUCTION_RAW_RETENTION and not re.fullmatch(
    r"[1-9]\d* (day|week|month|year)s?", PRODUCTION_RAW_RETENTION
):
    raise ImproperlyConfigured('PRODUCTION_RAW_RETENTION must be like "24 months" or empty.')

# Alerts (alerts/): `manage.py worker` runs django-q2 on its ORM broker, so a task is queued
# in the transaction of the write that asks for it. Rules are evaluated after every committed
# production write and every ALERT_TICK_MINUTES; each opened and resolved alert is a webhook.
ALERT_TICK_MINUTES = env.int("ALERT_TICK_MINUTES", default=1)
# The run rate a day's forecast projects with: actual per minute over this many minutes.
FORECAST_RATE_MINUTES = env.int("FORECAST_RATE_MINUTES", default=60)
# Hosts (or addresses) a webhook may reach although they resolve to private, loopback or
# link-local addresses ("*": any); public addresses need no listing.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# The wait after a first failed attempt, doubled after each (30 s, 1 min, 2 min, ...).
WEBHOOK_RETRY_SECONDS = env.float("WEBHOOK_RETRY_SECONDS", default=30.0)
WORKER_PROCESSES = env.int("WORKER_PROCESSES", default=2)
# A task running longer is stopped; one whose worker died runs again after this and a minute.
WORKER_TASK_TIMEOUT_SECONDS = env.int("WORKER_TASK_TIMEOUT_SECONDS", default=1800)
Q_CLUSTER = {
    "name": "sprocket-factory",
    "orm": "default",
    "workers": WORKER_PROCESSES,
    "timeout": WORKER_TASK_TIMEOUT_SECONDS,
    "retry": WORKER_TASK_TIMEOUT_SECONDS + 60,
    "max_attempts": 3,
    # A task that raised is not run again by the queue: deliveries retry themselves.
    "ack_failures": True,
    "save_limit": 100,
    "catch_up": False,
    "label": "Worker tasks",
}

REST_FRAMEWORK = {
    # Token first, so an unauthenticated request is told how to authenticate (401).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.OwnTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ModelActionPermission"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.ORJSONRenderer",
        "core.api.renderers.ResourceBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.ORJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.ListFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.KeysetPagination",
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": LOGIN_THROTTLE_RATE, "export": EXPORT_THROTTLE_RATE},
    # Clients are told apart by REMOTE_ADDR unless NUM_PROXIES says how many proxies add to
    # X-Forwarded-For; trusting that header unasked would let a client dodge throttles.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "COERCE_DECIMAL_TO_STRING": False,
    # Datetimes go to the renderers as they are: orjson writes ISO 8601 in UTC with Z, years
    # zero-padded (strftime would write year 999 as "999").
    "DATETIME_FORMAT": None,
}

REST_KNOX = {
    "TOKEN_TTL": TOKEN_TTL,
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sprocket Factory API",
    "DESCRIPTION": (
        "Sprocket types, factories and their production against goal. Lists are bare JSON "
        'arrays; the next page is in the `Link: <...>; rel="next"` header.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["core.api.permissions.ReadAllowed"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/sprocketFactory/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.describe_link_header",
        "core.api.schema.describe_empty_query_values",
        "core.api.schema.describe_error_responses",
        "production.api.schema.describe_records_kept_since",
    ],
}

# Bulk bodies: rows and bytes per request; JSON bodies elsewhere under the API.
BULK_MAX_ROWS = env.int("BULK_MAX_ROWS", default=500_000)
BULK_MAX_BYTES = env.int("BULK_MAX_BYTES", default=64 * 1024 * 1024)
BULK_MAX_ERRORS = env.int("BULK_MAX_ERRORS", default=1000)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
SUMMARY_MAX_ROWS = env.int("SUMMARY_MAX_ROWS", default=50_000)
