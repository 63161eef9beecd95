"""Django settings, read from environment variables (documented in README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from celery.schedules import crontab
from kombu import Exchange, Queue

from fleet.apps import SLICES
from fleet.env import (
    ImproperEnvironment,
    check_color,
    check_logo_url,
    check_oidc,
    check_redis_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)


def _in_a_gevent_worker() -> bool:
    """True in gunicorn's gevent worker (fleet/gunicorn.conf.py), which patches the stdlib."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

try:
    DEBUG = env_bool("DEBUG", False)
    SECRET_KEY = env_str("SECRET_KEY", "")
    if not SECRET_KEY and env_bool("REQUIRE_SECRET_KEY", False):
        # Set by docker-compose.yml, so a deployment cannot start on the development key.
        raise ImproperEnvironment("SECRET_KEY is empty and REQUIRE_SECRET_KEY=1 asks for one")
    if not SECRET_KEY:
        # A development key: fine on loopback; `check --deploy` flags it, and compose requires one.
        SECRET_KEY = "django-insecure-development-key-change-me"  # noqa: S105
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
    DATABASES = {
        "default": parse_database_url(
            env_str("DATABASE_URL", "sqlite:///var/fleet.sqlite3"), BASE_DIR
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Connections one gevent web worker may hold on PostgreSQL, and how long a request waits
    # for one before it is answered 503 (fleet/database_pool.py, docs/scaling.md).
    DB_POOL_MAX = env_int("DB_POOL_MAX", 10, minimum=1)
    DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10, minimum=1)
    if _in_a_gevent_worker():
        # Django keeps a connection per thread, which gevent makes per greenlet: one per request,
        # never reused, so a persistent one would only stay open until garbage collection.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        if DATABASES["default"]["ENGINE"].endswith("postgresql"):
            # Without a pool every concurrent request opens its own connection, and a burst
            # finds PostgreSQL's max_connections ("too many clients"). The pool caps a worker
            # at DB_POOL_MAX and queues the rest; its helper threads are greenlets here.
            DATABASES["default"].setdefault("OPTIONS", {}).update(
                pool={
                    "min_size": min(2, DB_POOL_MAX),
                    "max_size": DB_POOL_MAX,
                    "timeout": DB_POOL_TIMEOUT,
                    "name": "fleet-web",
                },
                # So pg_stat_activity tells the web's connections from the workers'.
                application_name="fleet-web",
            )
    REDIS_URL = check_redis_url(env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))
    EMAIL_HOST = env_str("SMTP_HOST", "127.0.0.1")
    EMAIL_PORT = env_int("SMTP_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_str("SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("SMTP_STARTTLS", False)
    EMAIL_USE_SSL = env_bool("SMTP_SSL", False)
    EMAIL_TIMEOUT = env_int("SMTP_TIMEOUT", 10, minimum=1)
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "fleet-errors@localhost")
    SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    # Encrypts webhook and connector secrets at rest (fleet/secrets.py); empty: from SECRET_KEY.
    FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "").strip()
    if FIELD_ENCRYPTION_KEY:
        from cryptography.fernet import Fernet

        try:
            Fernet(FIELD_ENCRYPTION_KEY)
        except ValueError:
            raise ImproperEnvironment(
                "FIELD_ENCRYPTION_KEY=(not shown) is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
    # The bearer token a Prometheus scrape of /metrics sends; empty: /metrics is off (404).
    METRICS_TOKEN = env_str("METRICS_TOKEN", "")
    SECURE_COOKIES = env_bool("SECURE_COOKIES", False)
    # Behind HTTPS: redirect plain HTTP, and tell browsers to use HTTPS only (HSTS).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = env_int(
        "SECURE_HSTS_SECONDS", 31_536_000 if SECURE_COOKIES else 0, minimum=0
    )
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)
    MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 200, minimum=1)
    # Uploads up to this size import in the request; larger ones go to a worker. An inline
    # import that takes longer than INLINE_IMPORT_SECONDS (keep it under gunicorn's --timeout)
    # hands the rest to a worker at the next batch boundary.
    INLINE_IMPORT_MAX_MB = env_int("INLINE_IMPORT_MAX_MB", 2, minimum=0)
    INLINE_IMPORT_SECONDS = env_int("INLINE_IMPORT_SECONDS", 20, minimum=1)
    # A running import with no committed batch for this long is resumed (or failed, after
    # IMPORT_MAX_ATTEMPTS runs or when its upload is gone) by the beat sweep.
    IMPORT_STALE_MINUTES = env_int("IMPORT_STALE_MINUTES", 10, minimum=1)
    IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 3, minimum=1)
    # A ZIP's file may expand to at most this many times its compressed size: real exports
    # reach about 40 (docs/ingest.md, bench/archive_ratio.py); ZIP bombs thousands.
    MAX_ARCHIVE_RATIO = env_int("MAX_ARCHIVE_RATIO", 500, minimum=1)
    INGEST_MAX_BODY_MB = env_int("INGEST_MAX_BODY_MB", 10, minimum=1)
    INGEST_MAX_BATCH = env_int("INGEST_MAX_BATCH", 5000, minimum=1)
    RAW_RETENTION_DAYS = env_int("RAW_RETENTION_DAYS", 0, minimum=0)
    # Connectors (fleet/connectors/, docs/connectors.md): Microsoft's endpoints, other values
    # for a national cloud (and the tests' loopback stand-in).
    MS_LOGIN_URL = env_str("MS_LOGIN_URL", "https://login.microsoftonline.com").rstrip("/")
    MS_GRAPH_URL = env_str("MS_GRAPH_URL", "https://graph.microsoft.com").rstrip("/")
    LOG_ANALYTICS_URL = env_str("LOG_ANALYTICS_URL", "https://api.loganalytics.io").rstrip("/")
    # A pull claimed this long ago with no end is taken for dead and may be claimed again.
    CONNECTOR_STALE_MINUTES = env_int("CONNECTOR_STALE_MINUTES", 60, minimum=1)
    # The longest single `Retry-After` a pull waits out; a longer one fails the report.
    CONNECTOR_MAX_RETRY_AFTER = env_int("CONNECTOR_MAX_RETRY_AFTER", 120, minimum=1)
    # Seconds between two looks at a Graph export job that is not done yet.
    CONNECTOR_POLL_SECONDS = env_int("CONNECTOR_POLL_SECONDS", 5, minimum=1)
    # Single sign-on over OpenID Connect (fleet/accounts/oidc.py, docs/sso.md): on when
    # OIDC_CLIENT_ID is set. Endpoints come from OIDC_ISSUER's discovery document unless named.
    OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "").strip()
    OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
    OIDC_ISSUER = env_str("OIDC_ISSUER", "").strip().rstrip("/")
    OIDC_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT", "").strip()
    OIDC_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT", "").strip()
    OIDC_USERINFO_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT", "").strip()
    OIDC_JWKS_URI = env_str("OIDC_JWKS_URI", "").strip()
    OIDC_SCOPES = " ".join(env_str("OIDC_SCOPES", "openid email profile").split())
    OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "").strip()
    OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups").strip()
    OIDC_MSP_ADMIN_GROUPS = env_list("OIDC_MSP_ADMIN_GROUPS", [])
    OIDC_MSP_ADMIN_DOMAINS = [d.lower() for d in env_list("OIDC_MSP_ADMIN_DOMAINS", [])]
    OIDC_OPERATOR_GROUPS = env_list("OIDC_OPERATOR_GROUPS", [])
    OIDC_OPERATOR_DOMAINS = [d.lower() for d in env_list("OIDC_OPERATOR_DOMAINS", [])]
    OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1)
    check_oidc(
        client_id=OIDC_CLIENT_ID,
        issuer=OIDC_ISSUER,
        endpoints={
            "OIDC_AUTHORIZATION_ENDPOINT": OIDC_AUTHORIZATION_ENDPOINT,
            "OIDC_TOKEN_ENDPOINT": OIDC_TOKEN_ENDPOINT,
            "OIDC_JWKS_URI": OIDC_JWKS_URI,
        },
        scopes=OIDC_SCOPES,
    )
    # Tenant reports (fleet/reports/, docs/reports.md): the brand they go out under, and the
    # Chromium that prints their PDF.
    MSP_NAME = env_str("MSP_NAME", "Fleet errors").strip() or "Fleet errors"
    MSP_LOGO_URL = check_logo_url("MSP_LOGO_URL", env_str("MSP_LOGO_URL", ""))
    MSP_COLOR = check_color("MSP_COLOR", env_str("MSP_COLOR", "#1f4e79"))
    CHROMIUM_PATH = env_str("CHROMIUM_PATH", "chromium")
    REPORT_PDF_TIMEOUT = env_int("REPORT_PDF_TIMEOUT", 60, minimum=5)
    LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ImproperEnvironment(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level")
except ImproperEnvironment as exc:
    # Fail at start with one clear line rather than a traceback deep in Django.
    sys.stderr.write(f"fleet-errors: bad setting: {exc}\n")
    raise SystemExit(2) from None

if EMAIL_USE_TLS and EMAIL_USE_SSL:
    sys.stderr.write("fleet-errors: bad setting: SMTP_STARTTLS and SMTP_SSL are exclusive\n")
    raise SystemExit(2)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # The TOTP second factor of local accounts (fleet/accounts/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "fleet",
    "codes",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fleet.content_security_policy.ContentSecurityPolicyMiddleware",
    "fleet.static_files.StaticFilesMiddleware",
    "fleet.database_pool.PoolTimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's Accept-Language (or the switcher's cookie); the person's own
    # setting overrides it once they are known (fleet.accounts.language, after authentication).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fleet.accounts.language.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fleet.urls"
WSGI_APPLICATION = "fleet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The fleet slices' templates (fleet/apps.py: SLICES); each app's own, and the site-wide
        # base.html in fleet/templates/, through APP_DIRS.
        "DIRS": [BASE_DIR.joinpath(*name.split("."), "templates") for name in SLICES],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # Answers only the OpenID Connect callback (a code and a state); inert when SSO is off.
    "fleet.accounts.oidc.SignOnBackend",
]
# What mozilla-django-oidc reads itself; the endpoints are resolved per request in
# fleet/accounts/oidc.py (from discovery or the explicit settings above).
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET
OIDC_RP_SCOPES = OIDC_SCOPES
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
# The name authenticator apps show beside the code (fleet/accounts/two_factor.py).
OTP_TOTP_ISSUER = "Fleet errors"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Sections other apps add to a code's knowledge page (codes/page_sections.py): dotted paths of
# callables (request, value) -> {"template": ..., **context}, shown in this order. The codes app
# owns the page and imports none of them.
KNOWLEDGE_PAGE_SECTIONS = ["dashboards.code_fleet.code_fleet_section"]

# English and French (docs/i18n.md): no language prefix in URLs, /codes/0x8024000B/ is the
# same page in both; the person's setting, else the browser's Accept-Language, picks one.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "fleet_language"
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
# Our date formats (fleet/formats/): ISO order in English, day first in French.
FORMAT_MODULE_PATH = ["fleet.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names, gzip and Brotli copies (fleet/static_files.py); plotly.js is the partial
    # bundle vendored in dashboards/static/vendor/ (scripts/fetch_plotly_js.sh).
    "staticfiles": {"BACKEND": "fleet.static_files.HashedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Uploads larger than this spill to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = INGEST_MAX_BODY_MB * 1024 * 1024

SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # only sent when SECURE_HSTS_SECONDS > 0
# The health checks answer over plain HTTP for load balancers and compose.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if TRUSTED_PROXY:
    # Only behind a proxy that sets (not forwards) this header: otherwise a client could.
    # The login throttle then also reads the client address from X-Forwarded-For.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery: Redis is the broker; results are not needed (the database holds every outcome).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Celery keeps its result backend per thread unless told it may share it; under gevent every
# request is a new "thread", and building the (disabled) backend scans every installed
# package's entry points: measured at about 6% of a gevent web worker's CPU during ingest.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
# Delivery, chosen together with the import heartbeat (docs/ingest.md, "When a worker dies"):
# a task is acknowledged when it ends, not when it starts, so a worker that dies mid-task
# leaves its message to be delivered again; a pool process killed under a live worker (the
# OOM killer) sends it back at once; each process reserves one task, so a long import never
# holds a second one hostage while other workers idle.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish to a dead broker must fail fast: the occurrence is already committed and the
# next beat tick catches up, so the HTTP answer should not wait on Redis.
# Redis hands an unacknowledged message to another worker after `visibility_timeout`, whether
# or not the first is still working on it: 30 minutes outlasts our longest import (a
# 200 MB export takes minutes), and a killed worker's import is resumed sooner by the
# heartbeat sweep. A redelivery that comes anyway finds the import claimed and is skipped.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "visibility_timeout": 30 * 60,
}
# Three queues, so each kind of work can get its own workers (docs/scaling.md): `ingest` for
# CSV imports (long, CPU-bound), `aggregate` for aggregation, triage and alert evaluation (short,
# serialised by the database), `alerts` for sending email (waits on SMTP). A worker started
# without -Q consumes all three, which is what the demo and a small install want.
# Each queue has its own exchange and routing key: with a shared default exchange, Redis
# would bind every queue to the same key and deliver a task to all three.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("ingest", "aggregate", "alerts")
]
CELERY_TASK_DEFAULT_QUEUE = "aggregate"
CELERY_TASK_ROUTES = {
    "fleet.ingest.tasks.run_import": {"queue": "ingest"},
    # Short, and must not wait behind the imports it rescues.
    "fleet.ingest.tasks.recover_imports": {"queue": "aggregate"},
    "fleet.tasks.aggregate_occurrences": {"queue": "aggregate"},
    "fleet.tasks.run_pipeline": {"queue": "aggregate"},
    "fleet.triage.tasks.run_triage": {"queue": "aggregate"},
    "fleet.tasks.send_alert_emails": {"queue": "alerts"},
    "fleet.connectors.tasks.pull_due_connectors": {"queue": "ingest"},
    "fleet.connectors.tasks.pull_connector": {"queue": "ingest"},
    # Waits on Chromium and SMTP, like the alert emails.
    "fleet.reports.tasks.send_due_reports": {"queue": "alerts"},
}
CELERY_BEAT_SCHEDULE = {
    # One round: aggregation, triage rules, alert rules (fleet/pipeline.py); the emails it
    # queues go to the `alerts` queue. Imports queue aggregation on their own for fresher pages.
    "run-pipeline": {
        "task": "fleet.tasks.run_pipeline",
        "schedule": 60.0,
        # A tick that waited longer than its own period is dropped, not piled up.
        "options": {"expires": 55},
    },
    # Retries emails that failed (SMTP down) even when no new alert fires.
    "send-alert-emails": {
        "task": "fleet.tasks.send_alert_emails",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Imports whose runner died: resumed from their upload or failed with the reason, and
    # queued ones the broker never got (fleet/ingest/recovery.py).
    "recover-imports": {
        "task": "fleet.ingest.tasks.recover_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Connectors whose next run is due each get one pull task (fleet/connectors/pulls.py).
    "pull-due-connectors": {
        "task": "fleet.connectors.tasks.pull_due_connectors",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Scheduled tenant reports: each due schedule's last full month or week, rendered and
    # mailed once (fleet/reports/deliveries.py); failed sends are retried here with back-off.
    "send-due-reports": {
        "task": "fleet.reports.tasks.send_due_reports",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Raw occurrences past RAW_RETENTION_DAYS, once a day in a quiet hour (no-op at 0).
    "prune-occurrences": {
        "task": "fleet.tasks.prune_occurrences",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # A pool timeout is logged once, as a warning naming the limit (fleet/database_pool.py).
    "filters": {"without_pool_timeouts": {"()": "fleet.database_pool.WithoutPoolTimeouts"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["without_pool_timeouts"]},
    },
}
