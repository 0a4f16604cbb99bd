"""WSGI entry point of the sandbox project, for a real server: `gunicorn saleor_livedist.sandbox.wsgi:application`.
The viewer endpoint (POST /viewer/) is answered by the lean application in front (saleor_livedist.viewers.app,
group commit); every other request by Django."""
from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.sandbox.settings")

django_application = get_wsgi_application()

from ..viewers.app import ViewerApp  # noqa: E402
from ..web.endpoints import sandbox_authenticate  # noqa: E402  (after django.setup())

application = ViewerApp(fallback=django_application, path="/viewer/", authenticate=sandbox_authenticate)
