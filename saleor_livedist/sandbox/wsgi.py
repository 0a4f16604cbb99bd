"""WSGI entry point of the sandbox project, for a real server: `gunicorn saleor_livedist.sandbox.wsgi:application`."""
from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.sandbox.settings")

application = get_wsgi_application()
