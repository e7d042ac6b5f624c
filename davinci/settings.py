"""Settings for the DaVinci Lock portal.

Every value comes from the environment (or a `.env` file beside manage.py) through
django-environ; README.md and `.env.example` document each variable.
"""

import base64
import hashlib
import warnings
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# --- Secrets -----------------------------------------------------------------------------
# In development (DEBUG on) every secret may be left unset: we derive throw-away values and
# say so. With DEBUG off a missing secret stops start-up with a clear message.
_DEV_SECRET_KEY = "django-insecure-development-only-do-not-deploy"  # noqa: S105
_DEVELOPMENT_DEFAULTS: list[str] = []


def _required_in_production(name: str, dev_value: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off. See README.md, 'Configuration'."
        )
    _DEVELOPMENT_DEFAULTS.append(name)
    return dev_value


def _derived_fernet_key(label: str) -> str:
    digest = hashlib.sha256(f"{_DEV_SECRET_KEY}:{label}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


SECRET_KEY = _required_in_production("SECRET_KEY", _DEV_SECRET_KEY)

# Comma-separated Fernet keys. The first encrypts; all of them decrypt, so a new key can be
# put in front and `manage.py rotate_encryption_keys` run before the old one is dropped.
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in _required_in_production(
        "FIELD_ENCRYPTION_KEYS", _derived_fernet_key("field-encryption")
    ).split(",")
    if key.strip()
]

# HMAC-SHA256 key for API secret digests. Deliberately not SECRET_KEY: rotating the session
# signing key must not invalidate every call center's credentials.
API_KEY_DIGEST_SECRET = _required_in_production(
    "API_KEY_DIGEST_SECRET", _derived_fernet_key("api-key-digest")
)

if _DEVELOPMENT_DEFAULTS:
    warnings.warn(
        f"{', '.join(_DEVELOPMENT_DEFAULTS)} not set: using development values derived in code "
        "(fine with DEBUG on; never run like this in production).",
        RuntimeWarning,
        stacklevel=1,
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ------------------------------------------------------------------------
INSTALLED_APPS = [
    # The Django admin behind two-factor (davinci/admin_site.py).
    "davinci.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    # Two-factor sign-in (docs/two-factor.md): authenticator apps and passkeys as django-otp
    # devices; recovery codes are davinci.accounts' own device (stored hashed).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "davinci.accounts",
    "davinci.outbox",
    "facilities",
    "webhooks",
    "automations",
    "integrations",
    "team",
    "reports",
]

MIDDLEWARE = [
    # First, so it also sees errors raised by every other middleware: nothing of the API
    # (davinci.net.is_api_path) answers HTML, and a database outage is a JSON 503 there.
    "integrations.api.errors.ApiErrorMiddleware",
    "davinci.middleware.RequestLogMiddleware",
    "davinci.middleware.QueryStringMiddleware",
    # Portal pages: a friendly 503 page when the database is down (the API has its own).
    "davinci.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "davinci.middleware.SecurityHeadersMiddleware",
    # Compresses what every middleware below and the view answered, for a client that asks:
    # HTML pages and API lists. Views whose answers carry a secret are @uncompressed
    # (davinci/compression.py, BREACH); WhiteNoise's files come compressed already.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Lazy: the API (keys, never a session) loads none and sets no cookie.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",  # for everything: it checks ALLOWED_HOSTS
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # request.membership and request.account; none on the API, whose key has its account.
    "davinci.accounts.middleware.CurrentAccountMiddleware",
    "davinci.accounts.middleware.AccountTimeZoneMiddleware",
    # An account that requires two-factor sends a member without it to set it up.
    "davinci.accounts.middleware.TwoFactorPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "davinci.urls"
WSGI_APPLICATION = "davinci.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "davinci.accounts.context_processors.current_account",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a small team and a call center at once: WAL lets readers
    # run beside the one writer, a writer waits (busy timeout) instead of failing with
    # "database is locked", and every transaction takes the write lock when it begins
    # (IMMEDIATE), so two read-then-write transactions cannot deadlock on the upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://davinci")}

# --- Authentication ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
# Failed sign-ins allowed per email address and per client IP in each window (seconds).
SIGN_IN_FAILURES_PER_EMAIL = env.int("SIGN_IN_FAILURES_PER_EMAIL", default=5)
SIGN_IN_FAILURES_PER_IP = env.int("SIGN_IN_FAILURES_PER_IP", default=20)
SIGN_IN_THROTTLE_WINDOW = env.int("SIGN_IN_THROTTLE_WINDOW", default=15 * 60)
# Two-factor (docs/two-factor.md). Wrong codes at the second step allowed per user and per
# client IP in each SIGN_IN_THROTTLE_WINDOW, counted like passwords.
TWO_FACTOR_FAILURES_PER_USER = env.int("TWO_FACTOR_FAILURES_PER_USER", default=5)
TWO_FACTOR_FAILURES_PER_IP = env.int("TWO_FACTOR_FAILURES_PER_IP", default=20)
# Show Key, code reveals and the changes that matter ask again after this many seconds.
RECONFIRM_SECONDS = env.int("RECONFIRM_SECONDS", default=10 * 60)
# One throttle for codes, counted first per user and per IP (above), with one clear message;
# django-otp's own per-device back-off would refuse a right code typed a second after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
# The Django admin never shows an authenticator app's key (nor its QR code) to staff.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# The name authenticator apps and passkey prompts show.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="DaVinci Lock")
# Passkeys (WebAuthn) belong to one domain, the relying party ID: the host users reach the
# portal at, e.g. portal.example.com ("localhost" for make run). Changing it later makes
# every passkey stop working. OTP_WEBAUTHN_ALLOWED_ORIGINS lists the origins (scheme, host
# and port) the browser may report, e.g. https://portal.example.com.
OTP_WEBAUTHN_RP_ID = env.str("OTP_WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS", default=["http://localhost:8000"]
)
# A passkey is a second factor after the password here, never a way in on its own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Password-reset emails asked for per typed email address and per client IP, each hour.
PASSWORD_RESET_PER_EMAIL = env.int("PASSWORD_RESET_PER_EMAIL", default=3)
PASSWORD_RESET_PER_IP = env.int("PASSWORD_RESET_PER_IP", default=20)

# --- Internationalisation and static files -----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (whitenoise serves it); the bench scripts use a temporary one.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# The default storage holds the history archives (facilities/retention.py): the worker writes
# them, the web processes read them, so several machines share this directory. Never served
# as static files or MEDIA_URL: only the owner's download view reads them.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email -------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587; the console in development.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in _email:  # filemail:///path: each message a file (the worker test)
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# Seconds before a hanging mail server gives up, so it cannot hold a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="DaVinci Lock <no-reply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# The portal's address as users reach it, for links in emails sent outside a request (the key
# expiry reminders), e.g. https://portal.example.com. Empty: the emails name the page instead.
PORTAL_URL = env.str("PORTAL_URL", default="")

# --- Work outside the request (Celery) -----------------------------------------------------
# Every email and text message is a notice in the outbox (davinci/outbox), sent by a Celery
# task: `celery -A davinci worker`, plus `celery -A davinci beat` for the outbox sweep. With
# no CELERY_BROKER_URL (make run, the test suite) tasks run in-process once the request's
# transaction commits.
_broker = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not _broker
CELERY_BROKER_URL = _broker or "memory://"  # in-process: nothing is published
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A broker that is down must not hold a request: one try, then the notice waits in the
# outbox for the sweep.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 2}
# A task is acknowledged after it ran, so a worker that dies mid-task leaves it queued; the
# outbox's claim makes running it again harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.sweep", "schedule": 60.0},
    # Webhook deliveries that never reached a worker (webhooks/tasks.py).
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 60.0},
    # Webhook deliveries finished before WEBHOOKS_LOG_RETENTION_DAYS (webhooks/retention.py).
    "webhooks-log-expire": {
        "task": "webhooks.log_expire",
        "schedule": crontab(hour=3, minute=47),  # UTC, once a day
    },
    # API keys' refused requests: from the cache counters into the database (integrations/usage.py).
    "api-usage-fold": {"task": "integrations.usage_fold", "schedule": 300.0},
    # The API's write answers past their 24 hours (integrations/api/idempotency.py).
    "api-idempotency-keys-expire": {
        "task": "integrations.idempotency_keys_expire",
        "schedule": 3600.0,
    },
    # History past each account's retention: archived, then removed (facilities/retention.py).
    "history-archive": {
        "task": "facilities.history_archive",
        "schedule": crontab(hour=3, minute=17),  # UTC, once a day
    },
    # Reports: the day's lock usage and code disclosures, kept per day (reports/tasks.py).
    "reports-daily": {
        "task": "reports.daily",
        "schedule": crontab(hour=0, minute=7),  # UTC, just after the day it counts ended
    },
    # Invitations not accepted within 14 days: deleted (they already grant nothing).
    "team-invitations-expire": {"task": "team.invitations_expire", "schedule": 3600.0},
}

# --- Webhooks (docs/webhooks.md) ------------------------------------------------------------
# Allow endpoints on http:// and on private, loopback and link-local addresses (e.g.
# http://127.0.0.1:8000/), to try a receiver on one's own machine. Off in production: only
# https:// to public addresses, checked on save and again before each request.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
# Days the delivery log keeps a delivery once delivered or given up (with its requests and its
# event); a daily task deletes older ones. Deliveries still waiting are kept.
WEBHOOKS_LOG_RETENTION_DAYS = env.int("WEBHOOKS_LOG_RETENTION_DAYS", default=30)

# --- Text messages and the overlock-release page -----------------------------------------
# Dotted path of the SMS backend (davinci/sms.py). With DEBUG on, messages go to the log;
# with DEBUG off and no backend, text messages are off and the release page offers email only.
SMS_BACKEND = env.str("SMS_BACKEND", default="davinci.sms.ConsoleBackend" if DEBUG else "")
# davinci.sms.TwilioBackend: the account's SID and auth token, and the sender, either a
# Messaging Service SID (MG...) or a number of the account in E.164. TWILIO_API_BASE_URL
# only changes for a local fake of Twilio's API (the tests use one).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
# Seconds before a hanging provider gives up, so it cannot hold a worker.
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10)
# Phone numbers typed without a country code (units, CSV import, the release page) are read
# as numbers of this region (ISO 3166 code) and kept in E.164.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US").upper()
# Attempts on /release/<account>/ per window, per client IP and per client IP on one
# facility + unit number (counted in the cache: set CACHE_URL to Redis so the limits hold
# across instances). Limits are per asking address, so nobody can spend a tenant's; codes
# sent to one unit's tenant are capped apart, so nobody can flood them with messages.
RELEASE_RATE_LIMIT_PER_IP = env.int("RELEASE_RATE_LIMIT_PER_IP", default=10)
RELEASE_RATE_LIMIT_PER_UNIT = env.int("RELEASE_RATE_LIMIT_PER_UNIT", default=5)
RELEASE_SENDS_PER_UNIT = env.int("RELEASE_SENDS_PER_UNIT", default=3)
RELEASE_RATE_LIMIT_WINDOW = env.int("RELEASE_RATE_LIMIT_WINDOW", default=60 * 60)
# Facility searches (as the tenant types, or Find) per client IP in the same window.
RELEASE_SEARCHES_PER_IP = env.int("RELEASE_SEARCHES_PER_IP", default=300)

# --- Security ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1 so Django trusts
# X-Forwarded-Proto (only do that when the proxy always sets or strips it).
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Health checks from the load balancer arrive over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Nothing inline: every script and style is a file under static/.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Proxies whose X-Forwarded-For we believe (IP addresses or CIDR ranges). Empty: the socket
# address is the client, whatever headers say.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Lookup API --------------------------------------------------------------------------
# Requests a minute per API key, and failed authentications a minute per client IP (past it
# even a correct secret gets 429 until the minute is over). Counted in the cache: set
# CACHE_URL to Redis so the limits hold across instances.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
API_AUTH_FAILURE_LIMIT_PER_MINUTE = env.int("API_AUTH_FAILURE_LIMIT_PER_MINUTE", default=20)

# --- Logging -----------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "json" (one object per line, for log shippers) or "plain" (for a terminal).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "davinci.logs.JsonFormatter"},
    },
    "filters": {
        "without_query_string": {"()": "davinci.logs.WithoutQueryString"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["without_query_string"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Never let a request's POST data (passwords, secrets) reach an error report.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # runserver's access log (make run): davinci.request already logs every request
        # once, so only runserver's own errors, without the query string, which could carry
        # anything a client typed, credentials too.
        "django.server": {"handlers": ["server"], "level": "ERROR", "propagate": False},
        # twilio logs every request's headers at INFO; our own line says what was sent.
        "twilio.http_client": {"level": "WARNING"},
    },
}
