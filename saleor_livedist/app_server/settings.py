"""App mode's Django project (`livedist app serve`): the package as a standalone Saleor App on its own
PostgreSQL (DATABASE_URL, else the embedded server the sandbox uses), each Saleor instance in its own schema.

Environment: LIVEDIST_APP_ALLOWED_SALEORS (comma-separated API URLs that may install the app),
LIVEDIST_APP_SECRET_KEY, LIVEDIST_APP_ALLOWED_HOSTS (comma-separated; the host Saleor reaches the app at),
LIVEDIST_PAYOUT_KEY (the Fernet key the app tokens are encrypted with), CELERY_BROKER_URL (workers; without
it the serve command processes events on a thread of its own)."""
from __future__ import annotations

import os

from ..i18n import LANGUAGES as PACKAGE_LANGUAGES
from ..inbox.tasks import BEAT_SCHEDULE as PLUGIN_BEAT_SCHEDULE
from ..sandbox.database import database_settings

SECRET_KEY = os.environ.get("LIVEDIST_APP_SECRET_KEY", "app-mode-not-a-secret-set-LIVEDIST_APP_SECRET_KEY")
DEBUG = os.environ.get("LIVEDIST_APP_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("LIVEDIST_APP_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
                 if h.strip()]
USE_TZ = True
TIME_ZONE = os.environ.get("LIVEDIST_APP_TIME_ZONE", "UTC")
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = PACKAGE_LANGUAGES

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "saleor_livedist",
    "saleor_livedist.app_server",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "saleor_livedist.app_server.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
DATABASES = {"default": database_settings()}
DATABASE_ROUTERS = ["saleor_livedist.app_server.routers.TenantRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# The plugin's periodic tasks under their own names (the plugin keeps a host's entry of the same name), each
# fanned out to every tenant's schema; the inbox sweep is App mode's own (app_server/tasks.py).
CELERY_BEAT_SCHEDULE = {
    **{name: {"task": "saleor_livedist.app_each_tenant", "schedule": entry["schedule"], "args": (entry["task"],)}
       for name, entry in PLUGIN_BEAT_SCHEDULE.items()},
    "livedist-sweep-inbox": {"task": "saleor_livedist.app_sweep", "schedule": 60.0},
}

# Live coupons and rewards are the tenant's Saleor vouchers and gift cards, through its API (store_api.py).
LIVEDIST_APP_MODE = True
LIVEDIST = {
    "RULES_DIR": os.environ.get("LIVEDIST_RULES_DIR") or None,
    "ENGINE": os.environ.get("LIVEDIST_ENGINE") or None,
    "PAYOUT_KEY": os.environ.get("LIVEDIST_PAYOUT_KEY", ""),
    "APP_ALLOWED_SALEORS": os.environ.get("LIVEDIST_APP_ALLOWED_SALEORS", ""),
    "APP_REPLAY_WINDOW": os.environ.get("LIVEDIST_APP_REPLAY_WINDOW", "3600"),
    "APP_PUBLIC_URL": os.environ.get("LIVEDIST_APP_PUBLIC_URL", ""),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"saleor_livedist": {"handlers": ["console"], "level": "INFO"},
                "django.request": {"handlers": ["console"], "level": "ERROR"}},  # a 500's traceback
}
