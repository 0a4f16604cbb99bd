"""The sandbox Django project: the demo, the tests and `livedist demo --serve` run the plugin here, on
PostgreSQL (DATABASE_URL, else an embedded server started by saleor_livedist.sandbox.database)."""
from __future__ import annotations

import os

from ..i18n import LANGUAGES as PACKAGE_LANGUAGES
from .database import database_settings

SECRET_KEY = os.environ.get("LIVEDIST_SANDBOX_SECRET_KEY", "sandbox-only-not-a-secret")
DEBUG = os.environ.get("LIVEDIST_SANDBOX_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
USE_TZ = True
TIME_ZONE = os.environ.get("LIVEDIST_SANDBOX_TIME_ZONE", "UTC")  # the merchant's zone; times are stored in UTC
# The admin follows the browser's language (LocaleMiddleware); the plugin's endpoints choose their own, as in Saleor.
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = PACKAGE_LANGUAGES

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "saleor_livedist",
    "saleor_livedist.app_server",  # App mode's table of Saleor instances (its tests run in the sandbox)
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "saleor_livedist.display.DisplayTimeZoneMiddleware",
]
ROOT_URLCONF = "saleor_livedist.sandbox.urls"
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
            ]
        },
    }
]
DATABASES = {"default": database_settings()}
DATABASE_ROUTERS = ["saleor_livedist.app_server.routers.TenantRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"

# No broker by default: events are processed inline after commit. Set CELERY_BROKER_URL to use workers.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")

LIVEDIST = {
    "RULES_DIR": os.environ.get("LIVEDIST_RULES_DIR") or None,
    "ENGINE": os.environ.get("LIVEDIST_ENGINE") or None,
    "DISPLAY_TIME_ZONE": os.environ.get("LIVEDIST_DISPLAY_TIME_ZONE") or None,
    "PAYOUT_KEY": os.environ.get("LIVEDIST_PAYOUT_KEY", ""),
    "PARTITIONS": os.environ.get("LIVEDIST_PARTITIONS") or 1,
    "PAYOUT_WEBHOOK_URL": os.environ.get("LIVEDIST_PAYOUT_WEBHOOK_URL", ""),
    "PAYOUT_WEBHOOK_SECRET": os.environ.get("LIVEDIST_PAYOUT_WEBHOOK_SECRET", ""),
    "REMINDER_WEBHOOK_URL": os.environ.get("LIVEDIST_REMINDER_WEBHOOK_URL", ""),
    "REMINDER_WEBHOOK_SECRET": os.environ.get("LIVEDIST_REMINDER_WEBHOOK_SECRET", ""),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"saleor_livedist": {"handlers": ["console"], "level": "WARNING"}},
}
