"""Settings for govwx. Every setting comes from an environment variable with a
working default: SQLite and no other server."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from govwx.lib import keyfile as _keyfile

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GOVWX_DATA_DIR", Path.cwd() / "var"))


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = _flag("GOVWX_DEBUG")
# Never a key that is public in the source: GOVWX_SECRET_KEY, or one made on the first
# start in the data directory (owner-only), the same for the demo, which needs no set-up.
# Rotation (docs/deploy.md): the new key in GOVWX_SECRET_KEY, the old ones in
# GOVWX_SECRET_KEY_FALLBACKS until signed links and sessions made with them have expired.
try:
    SECRET_KEY = (
        _keyfile.refuse_public(os.environ["GOVWX_SECRET_KEY"], "GOVWX_SECRET_KEY")
        if os.environ.get("GOVWX_SECRET_KEY", "").strip()
        else _keyfile.load_or_create(DATA_DIR)
    )
    SECRET_KEY_FALLBACKS = [
        _keyfile.refuse_public(k, "GOVWX_SECRET_KEY_FALLBACKS")
        for k in _list("GOVWX_SECRET_KEY_FALLBACKS")
    ]
except _keyfile.KeyFileError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
# Key for secrets stored in the database (app secrets, tokens, EncodingAESKeys).
# Defaults to one derived from SECRET_KEY; set it separately to rotate SECRET_KEY alone.
# Stored secrets are read with the current key or any old one (the secret key's fallbacks
# and GOVWX_FIELD_KEY_FALLBACKS), and written with the current one (lib/secretbox.py).
GOVWX_FIELD_KEY = os.environ.get("GOVWX_FIELD_KEY", "")
GOVWX_FIELD_KEY_FALLBACKS = _list("GOVWX_FIELD_KEY_FALLBACKS")
ALLOWED_HOSTS = _list("GOVWX_ALLOWED_HOSTS", "*")

# HTTPS, usually ended by a reverse proxy in front of `govwx serve` (docs/deploy.md).
# GOVWX_PROXY_SSL_HEADER names the header the proxy sets to "https" (X-Forwarded-Proto):
# only behind a proxy that always sets it, as a client could send it too.
_proxy_header = os.environ.get("GOVWX_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# Proxies in front of govwx that append to X-Forwarded-For: the client's address (for the
# login throttle) is the one the nearest of them saw. 0: the connection's own address.
GOVWX_PROXY_COUNT = int(os.environ.get("GOVWX_PROXY_COUNT", "1" if _proxy_header else "0"))
_public_https = os.environ.get("GOVWX_PUBLIC_URL", "").startswith("https://")
# Cookies only over HTTPS: on by default when citizens reach govwx by https.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _flag("GOVWX_SECURE_COOKIES", _public_https)
SECURE_SSL_REDIRECT = _flag("GOVWX_SSL_REDIRECT")
SECURE_HSTS_SECONDS = int(os.environ.get("GOVWX_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("GOVWX_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = _flag("GOVWX_HSTS_PRELOAD")
# Origins (scheme://host[:port]) from which a form may be posted besides govwx's own host:
# by default the origin of GOVWX_PUBLIC_URL.
CSRF_TRUSTED_ORIGINS = _list(
    "GOVWX_CSRF_TRUSTED_ORIGINS",
    "/".join(os.environ.get("GOVWX_PUBLIC_URL", "").split("/")[:3]),
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "govwx.accounts",
    "govwx.workcalendar",
    "govwx.wechat",
    "govwx.replies",
    "govwx.notify",
    "govwx.team",
    "govwx.desk",
    "govwx.services",
    "govwx.content",
    "govwx.inbox",
    "govwx.console",
]

GOVWX_SANDBOX = _flag("GOVWX_SANDBOX")
if GOVWX_SANDBOX:
    INSTALLED_APPS.append("govwx.sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "govwx.lib.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A view's PermissionDenied: the console's own 403 page, no traceback in the log.
    "govwx.console.forbidden.ForbiddenPage",
    # Last: turns a login refused by the throttle into the login page saying so.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govwx.urls"
WSGI_APPLICATION = "govwx.wsgi.application"

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
                "django.template.context_processors.i18n",
                "govwx.console.context.console",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'govwx.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("GOVWX_DATABASE_URL", _default_db), conn_max_age=600
    )
}
# NORMAL: a commit survives a crash or restart of govwx (it is in the operating system's
# hands); FULL: it also survives power loss, at the cost of an fsync per commit.
_SQLITE_SYNC = os.environ.get("GOVWX_SQLITE_SYNCHRONOUS", "NORMAL").upper()
if _SQLITE_SYNC not in {"NORMAL", "FULL"}:
    raise ValueError("GOVWX_SQLITE_SYNCHRONOUS must be NORMAL or FULL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so
    # that concurrent writers queue on busy_timeout instead of failing to upgrade a lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=20000;"
            f" PRAGMA synchronous={_SQLITE_SYNC};"
            " PRAGMA cache_size=-65536;"
            # Copying the log back into the database (a checkpoint, with its fsyncs) falls
            # on whichever commit passes this many pages: at SQLite's 1,000 that was a
            # callback every few dozen milliseconds in a burst. The desk's loop checkpoints
            # after each pass (lib/dblock.checkpoint), off the callback's path.
            " PRAGMA wal_autocheckpoint=4000;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = None
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = os.environ.get("GOVWX_REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # A cache every process on the host (and every host on one database) shares.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "govwx_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if _flag("GOVWX_TASKS_IMMEDIATE"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (django-axes): after GOVWX_LOGIN_FAILURE_LIMIT wrong passwords for one
# user name, or GOVWX_LOGIN_ADDRESS_LIMIT from one address, logins are refused for
# GOVWX_LOGIN_LOCKOUT_MINUTES;
# the account's admin can lift it sooner (设置 › 登录锁定, accounts/lockouts.py).
AUTHENTICATION_BACKENDS = [
    "govwx.accounts.lockouts.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("GOVWX_LOGIN_FAILURE_LIMIT", "10"))
# An office's colleagues often share one address: it takes more failures to lock it.
GOVWX_LOGIN_ADDRESS_LIMIT = int(os.environ.get("GOVWX_LOGIN_ADDRESS_LIMIT", "50"))
AXES_HANDLER = "govwx.accounts.lockouts.LoginThrottleHandler"
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("GOVWX_LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures only: no row per successful login
AXES_CLIENT_IP_CALLABLE = "govwx.accounts.lockouts.client_address"
AXES_LOCKOUT_CALLABLE = "govwx.console.views.locked_out"
AXES_VERBOSE = False
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Unset: static files are served from the apps by WhiteNoise (no collectstatic step).
STATIC_ROOT = os.environ.get("GOVWX_STATIC_ROOT") or None
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# What citizens send (pictures, voice, video) and the pictures staff reply with: never
# at a public URL, served only through the desk's view that checks who may see the case.
# file (default): under GOVWX_MEDIA_DIR; s3: any S3-compatible store (django-storages,
# `pip install 'govwx[s3]'`), private objects read back through govwx.
GOVWX_MEDIA_STORAGE = os.environ.get("GOVWX_MEDIA_STORAGE", "file").lower()
if GOVWX_MEDIA_STORAGE == "s3":
    STORAGES["media"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("GOVWX_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("GOVWX_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("GOVWX_S3_REGION") or None,
            "access_key": os.environ.get("GOVWX_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("GOVWX_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("GOVWX_S3_PREFIX", "govwx-media"),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif GOVWX_MEDIA_STORAGE == "file":
    STORAGES["media"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(os.environ.get("GOVWX_MEDIA_DIR") or DATA_DIR / "media"),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
else:
    raise ValueError("GOVWX_MEDIA_STORAGE must be file or s3")
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Where citizens reach govwx's pages (links sent in WeChat messages, e.g. rating a case)
GOVWX_PUBLIC_URL = os.environ.get("GOVWX_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# WeChat
GOVWX_WECHAT_API_BASE = os.environ.get("GOVWX_WECHAT_API_BASE", "https://api.weixin.qq.com")
GOVWX_WECHAT_TIMESTAMP_WINDOW = int(os.environ.get("GOVWX_WECHAT_TIMESTAMP_WINDOW", "300"))
GOVWX_WECHAT_API_TIMEOUT = float(os.environ.get("GOVWX_WECHAT_API_TIMEOUT", "5"))
# Largest callback body accepted (bytes); larger ones get 413 unread.
GOVWX_CALLBACK_MAX_BODY = 1024 * 1024
# How old a process's copy of an account and its rules may get before it is checked.
GOVWX_RULES_TTL = float(os.environ.get("GOVWX_RULES_TTL", "1.0"))
# Link health (services.links): seconds per request when checking a link.
GOVWX_LINK_TIMEOUT = float(os.environ.get("GOVWX_LINK_TIMEOUT", "10"))
# Off: a link to an internal or local address (10/8, 192.168/16, 127/8, 169.254/16, …) is
# reported broken without a request; on: every address is checked (an internal network).
GOVWX_LINK_CHECK_PRIVATE = _flag("GOVWX_LINK_CHECK_PRIVATE")

# Notification channels (notify): e-mail goes through this SMTP server (localhost:25 by
# default); every send, by any channel, gives up after GOVWX_NOTIFY_TIMEOUT seconds.
EMAIL_HOST = os.environ.get("GOVWX_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("GOVWX_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("GOVWX_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GOVWX_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("GOVWX_EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("GOVWX_EMAIL_FROM", "govwx@localhost")
GOVWX_NOTIFY_TIMEOUT = float(os.environ.get("GOVWX_NOTIFY_TIMEOUT", "5"))
# New cases of one account are announced at most once per this many seconds: the first
# after a quiet spell at once, the rest of a burst together (「5 分钟内新诉求 312 件」).
GOVWX_ALERT_WINDOW = float(os.environ.get("GOVWX_ALERT_WINDOW", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GOVWX_LOG_LEVEL", "WARNING")},
}
