"""App mode's Celery app: `celery -A saleor_livedist.app_server.celery worker -B` (CELERY_BROKER_URL and
DATABASE_URL set as for `livedist app serve`)."""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.app_server.settings")

from ..sandbox.celery import create_app  # noqa: E402

app = create_app("livedist_app")
