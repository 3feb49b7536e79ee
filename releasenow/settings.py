"""Settings for releasenow.

Every knob is an environment variable (documented in `.env.example`) with a default that lets a
fresh clone run on SQLite on a laptop. Production differs by data, not by code: set
`SITE_URL=https://…`, `SECRET_KEY`, `DATABASE_URL` and `REDIS_URL`.
"""

import ipaddress
import os
import secrets
from collections.abc import Callable
from email.utils import formataddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


def env_secret(name: str) -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


def local_secret(
    path: Path, generate: Callable[[], str] = lambda: secrets.token_urlsafe(50)
) -> str:
    """A secret generated once and kept in DATA_DIR, so a laptop needs no configuration.

    Several app servers behind a load balancer must share one value: set it in the environment.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(generate())
    return path.read_text().strip()


DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_secret("SECRET_KEY") or local_secret(DATA_DIR / "secret_key")

# Signers' e-mail addresses are encrypted with these keys (comma-separated Fernet keys; the
# first encrypts, all decrypt) and made unique through a keyed digest. Keep them out of the
# database and its backups; losing them makes the stored addresses unreadable.
EMAIL_ENCRYPTION_KEYS = [
    key.strip() for key in env_secret("EMAIL_ENCRYPTION_KEYS").split(",") if key.strip()
] or [
    local_secret(DATA_DIR / "email_encryption_key", generate=lambda: Fernet.generate_key().decode())
]
EMAIL_DIGEST_KEY = env_secret("EMAIL_DIGEST_KEY") or local_secret(DATA_DIR / "email_digest_key")
DEBUG = env_bool("DEBUG", False)

SITE_URL = env("SITE_URL", f"http://127.0.0.1:{env('PORT', '8000')}").rstrip("/")
_site = urlsplit(SITE_URL)
HTTPS = _site.scheme == "https"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [_site.hostname or "127.0.0.1", "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    "releasenow.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "parler",
    "django_countries",
    "csp",
    "campaigns",
    "signatures",
    "mail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "releasenow.middleware.ContentSecurityPolicy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "releasenow.middleware.PublicRequestLimits",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the views' exceptions first: a database outage answers 503, not 500.
    "releasenow.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "releasenow.urls"
WSGI_APPLICATION = "releasenow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaigns.context_processors.campaign",
            ],
        },
    },
]

# Database: SQLite in DATA_DIR by default; DATABASE_URL (postgres://…) for production.
if env("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A statement still running after this many seconds is cancelled by PostgreSQL: a web
    # request caught in a lock wait or a runaway query gets the 503 page instead of holding a
    # web server thread for ever. The web server sets it for its own processes only, from
    # WEB_STATEMENT_TIMEOUT (releasenow/webserver.py); the worker and management commands
    # (imports, migrations, deliveries) run without a limit. Options from DATABASE_URL stay.
    if (statement_timeout := env_int("DATABASE_STATEMENT_TIMEOUT", 0)) > 0:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (
            f"{options.get('options', '')} -c statement_timeout={statement_timeout * 1000}"
        ).strip()
else:
    DATABASES = {
        "default": {
            # Django's SQLite with writers that queue (releasenow/sqlite3/base.py).
            "ENGINE": "releasenow.sqlite3",
            "NAME": DATA_DIR / "releasenow.sqlite3",
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock
                # at BEGIN so concurrent writers queue on the busy timeout instead of failing.
                # secure_delete: erased data (a withdrawal) is overwritten, not left in free pages.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            },
        }
    }
# Tests on SQLite use a file, not memory: concurrency and WAL behave as in production.
_test_db = env("TEST_DATABASE_NAME") or (
    str(DATA_DIR / "test.sqlite3") if DATABASES["default"]["ENGINE"].endswith("sqlite3") else None
)
DATABASES["default"]["TEST"] = {"NAME": _test_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: rate limits, the proof-of-work replay check and the staff login back-off live here, so
# it must be shared by every process. Redis when REDIS_URL is set; otherwise a table in the
# database (created by `make setup`, `manage.py createcachetable`), never process memory.
if env("REDIS_URL"):
    CACHES = {
        "default": {
            # Django's Redis cache with a one-step count (see releasenow/lib/cache.py).
            "BACKEND": "releasenow.lib.cache.RedisCache",
            "LOCATION": env("REDIS_URL"),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "releasenow"),
        }
    }
else:
    CACHES = {
        "default": {
            # Django's database cache with an atomic incr (see releasenow/lib/cache.py).
            "BACKEND": "releasenow.lib.cache.DatabaseCache",
            "LOCATION": "releasenow_cache",
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "releasenow"),
            # The worker deletes expired entries every minute, and live ones only beyond this
            # many (releasenow/lib/cache.py `delete_expired`).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: English is the source; every other text falls back to it with a visible note.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("be", _("Belarusian")),
    ("ru", _("Russian")),
    ("uk", _("Ukrainian")),
    ("pl", _("Polish")),
    ("lt", _("Lithuanian")),
    ("de", _("German")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SAMESITE = "Lax"

PARLER_DEFAULT_LANGUAGE_CODE = "en"
# Views prefetch translations; parler's own cache would go stale across processes (an admin
# edit in one worker, `load_content` in another) when the cache is per-process memory.
PARLER_ENABLE_CACHING = False
PARLER_LANGUAGES = {
    None: tuple({"code": code} for code, _name in LANGUAGES),
    "default": {"fallbacks": ["en"], "hide_untranslated": False},
}

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# E-mail: SMTP when EMAIL_URL or EMAIL_HOST is set; otherwise one .eml file per message in
# DATA_DIR/outbox, so a newcomer can read what the site sends.
# The sender is built with the standard library (a colon or Cyrillic in the name is quoted or
# encoded); DEFAULT_FROM_EMAIL, if set, is used as it is and checked at start-up.
EMAIL_FROM_NAME = env("EMAIL_FROM_NAME", "Release NO:W")
EMAIL_FROM_ADDRESS = env("EMAIL_FROM_ADDRESS", "noreply@localhost")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL") or formataddr((EMAIL_FROM_NAME, EMAIL_FROM_ADDRESS))
SERVER_EMAIL = env("SERVER_EMAIL") or DEFAULT_FROM_EMAIL
EMAIL_OUTBOX_DIR = DATA_DIR / "outbox"
if env("EMAIL_URL"):
    _mail = urlsplit(env("EMAIL_URL"))
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or (465 if _mail.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_SSL = _mail.scheme == "smtps"
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls" or (_mail.scheme == "smtp" and EMAIL_PORT == 587)
elif env("EMAIL_HOST"):
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if env("EMAIL_URL") or env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "releasenow.lib.emails.OutboxBackend"

# Signing. Beyond the rate limit signatures are held for staff, never refused.
SIGNING_RATE_LIMIT = env("SIGNING_RATE_LIMIT", "30/m")
# Proof-of-work cost: the largest number a browser may have to try (about 0.3 s on a phone).
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 50000)
CONFIRMATION_DAYS = 7
RATELIMIT_USE_CACHE = "default"
OTP_TOTP_ISSUER = "Release NO:W"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# django-ratelimit knows neither Django's own Redis cache (atomic INCR) nor the database cache
# with the atomic incr of releasenow/lib/cache.py; both are shared by every process.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Client addresses (issue 9). Limits key on the visitor's *network*, as a daily-rotating digest:
# an IPv4 address by itself, an IPv6 address by its /64 (what one household or phone gets).
CLIENT_IPV4_PREFIX = env_int("CLIENT_IPV4_PREFIX", 32)
CLIENT_IPV6_PREFIX = env_int("CLIENT_IPV6_PREFIX", 64)
# Behind reverse proxies: how many proxies in front of the app append to X-Forwarded-For
# (nginx: proxy_add_x_forwarded_for). 0 = the app faces visitors, use the connection's address.
# With N, the client is the Nth address from the right: the one the nearest trusted proxy saw.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
# Optional addresses or networks of further proxies (e.g. a CDN's ranges), skipped from the right.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo stops start-up, not a visitor's request

# Staff login: failures per account (per browser once it has logged in there) and per network
# before each further attempt must wait, 1 s doubling up to LOGIN_BACKOFF_MAX seconds. Nothing
# locks anyone out for good; failures are forgotten a day after the last one.
LOGIN_FAILURES_BEFORE_BACKOFF = env_int("LOGIN_FAILURES_BEFORE_BACKOFF", 5)
LOGIN_FAILURES_BEFORE_BACKOFF_PER_NETWORK = env_int("LOGIN_FAILURES_BEFORE_BACKOFF_PER_NETWORK", 20)
LOGIN_BACKOFF_MAX = env_int("LOGIN_BACKOFF_MAX", 900)

# Request bodies on public pages (everything outside /admin/) larger than this many bytes are
# answered 413 before anything reads them. The sign form needs about 3 kB.
PUBLIC_MAX_REQUEST_BODY = env_int("PUBLIC_MAX_REQUEST_BODY", 32 * 1024)
CSRF_FAILURE_VIEW = "releasenow.views.csrf_failure"

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)  # a staff working day
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No page may load anything from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# Logs go to stderr; nothing here logs e-mail or IP addresses (see releasenow/webserver.py too).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal": {"()": "releasenow.lib.logging.RedactPersonal"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_personal"]},
        # Error reports to ADMINS: no token, address or POSTed field (releasenow.lib.errors).
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_personal"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
DEFAULT_EXCEPTION_REPORTER = "releasenow.lib.errors.PrivateExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "releasenow.lib.errors.PrivateExceptionReporterFilter"

ADMINS = [("Admin", a) for a in env_list("ADMINS", [])]

# --- Outgoing mail (issue 8) ------------------------------------------------------------------
# Every message is queued in the database and sent by the worker in batches over one SMTP
# connection (see mail/). Temporary failures wait these many seconds before each new attempt
# (more than a day in all), then count as permanent.
_RETRY_DELAYS = "60,300,900,3600,10800,21600,43200,43200"  # 1 min … 12 h: 34 hours in all
EMAIL_RETRY_DELAYS = [int(x) for x in env_list("EMAIL_RETRY_DELAYS", _RETRY_DELAYS.split(","))]
EMAIL_BATCH_SIZE = env_int("EMAIL_BATCH_SIZE", 100)
# A message claimed by a sender that died (kill -9) is sent again after this many seconds.
EMAIL_CLAIM_TIMEOUT = env_int("EMAIL_CLAIM_TIMEOUT", 900)
# A background task "running" for longer than this lost its worker and is run again.
TASK_RUNNING_TIMEOUT = env_int("TASK_RUNNING_TIMEOUT", 900)
# Mail a visitor's submission may cause (confirmation, "already signed"): per address (keyed
# digest) and per network. Beyond them the visitor sees the same page and nothing is sent.
MAIL_LIMIT_PER_ADDRESS = env("MAIL_LIMIT_PER_ADDRESS", "1/10m")
MAIL_LIMIT_PER_ADDRESS_DAILY = env("MAIL_LIMIT_PER_ADDRESS_DAILY", "4/d")
MAIL_LIMIT_PER_NETWORK = env("MAIL_LIMIT_PER_NETWORK", "200/h")

# Updates to signers (issue 13): the `updates` app. Each worker task hands this many copies to
# the mail queue (sent like confirmations, see above), then queues the next batch; it waits
# while UPDATE_QUEUE_AHEAD copies are still unsent, so confirmations are not stuck behind them.
INSTALLED_APPS += ["updates"]
UPDATE_BATCH_SIZE = env_int("UPDATE_BATCH_SIZE", 500)
UPDATE_QUEUE_AHEAD = env_int("UPDATE_QUEUE_AHEAD", 1000)
# Seconds between looks at the mail queue while an update waits for it.
UPDATE_RECHECK_SECONDS = env_int("UPDATE_RECHECK_SECONDS", 5)

# --- Staff tools (imports, delivery documents, duplicates) -----------------------------------
# Imported lines carry a key made from their content with this secret (HMAC), so that the
# database does not reveal which known person's line was imported. Like EMAIL_DIGEST_KEY:
# generated once in DATA_DIR on a laptop, shared by every app server in production.
IMPORT_KEY_SECRET = env_secret("IMPORT_KEY_SECRET") or local_secret(DATA_DIR / "import_key")
# Erasing more than this many signatures at once asks staff to type the number.
ERASE_TYPE_NUMBER_ABOVE = env_int("ERASE_TYPE_NUMBER_ABOVE", 3)
# Delivery documents built by the worker are kept here (not in MEDIA_ROOT: they are not public).
DELIVERY_DIR = Path(env("DELIVERY_DIR", str(DATA_DIR / "deliveries")))
# Hours between scheduled searches for duplicate signatures (0: only when staff start one).
DUPLICATES_EVERY_HOURS = env_int("DUPLICATES_EVERY_HOURS", 24)

# Visitors (issue 12). Below this many signatures the petition's header invites visitors to be
# among the first instead of showing a small number.
SIGNATURE_COUNT_SHOWN_FROM = env_int("SIGNATURE_COUNT_SHOWN_FROM", 100)
# Share images (Open Graph) are drawn anew at most this often, in seconds.
SHARE_IMAGE_MAX_AGE = env_int("SHARE_IMAGE_MAX_AGE", 300)
# A TrueType font with Latin and Cyrillic letters for share images; empty: the first found of
# DejaVu Sans Bold, Liberation Sans Bold, Noto Sans Bold (Debian: fonts-dejavu-core).
SHARE_IMAGE_FONT = env("SHARE_IMAGE_FONT", "")

# Launch day (issue 10): whole anonymous public pages are cached in the shared "pages" cache
# (releasenow/lib/pagecache.py), renewed on any content save, the count filled in live.
# Redis when REDIS_URL is set; otherwise files in DATA_DIR, shared by every process on the host.
PAGE_CACHE_ALIAS = "pages"
if env("REDIS_URL"):
    CACHES[PAGE_CACHE_ALIAS] = {
        **CACHES["default"],
        "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"] + "-pages",
    }
else:
    CACHES[PAGE_CACHE_ALIAS] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache" / "pages"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
# Seconds a rendered page (its latest signatories, per-country counts) is reused (and 5 more
# while one request renews it); 0: off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 5)
# Seconds during which every process shows the same signature count on cached pages, read
# from the database once per slot and shared through the default cache; 0: read on every answer.
# Default: 1 with Redis; 0 without, as SQLite's read on every answer is local and cheap.
PAGE_COUNT_SECONDS = env_int("PAGE_COUNT_SECONDS", 1 if env("REDIS_URL") else 0)
# What proxies and browsers may do with a public page: keep it fresh max-age seconds, then
# serve it stale for up to stale-while-revalidate seconds while fetching a new one.
PAGE_MAX_AGE = env_int("PAGE_MAX_AGE", 10)
PAGE_STALE_WHILE_REVALIDATE = env_int("PAGE_STALE_WHILE_REVALIDATE", 10)
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
    "releasenow.lib.pagecache.PageCacheMiddleware",
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Opening SQLite and running its PRAGMAs costs more than answering a cached page: keep
    # each thread's connection open between requests.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("SQLITE_CONN_MAX_AGE", 600)
