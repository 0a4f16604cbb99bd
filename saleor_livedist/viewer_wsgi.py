"""WSGI entry point of the lean viewer endpoint, for a production server:

    gunicorn saleor_livedist.viewer_wsgi:application --worker-class gthread --workers 2 --threads 24

It answers POST of the viewer path itself (viewers.app) and hands every other request to the project's own WSGI
application (settings.WSGI_APPLICATION: Saleor's inside Saleor; the sandbox's otherwise), so it can take all
of a host's traffic or only the viewer path's. Environment (all optional):

- DJANGO_SETTINGS_MODULE: the project (default: the sandbox; inside Saleor, saleor.settings);
- LIVEDIST_VIEWER_PATH: the path answered here (default: /plugins/global/saleor_livedist/viewer/ inside Saleor,
  /viewer/ in the sandbox);
- LIVEDIST_VIEWER_AUTHENTICATE: dotted path of the authenticator for Authorization headers (default:
  saleor_livedist.saleor.auth.saleor_authenticate inside Saleor, saleor_livedist.web.endpoints.sandbox_authenticate);
- LIVEDIST_VIEWER_LINGER: seconds a batch waits for more requests before its transaction (default 0.004).
"""
from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.sandbox.settings")
get_wsgi_application()  # django.setup(): the apps must be loaded before the plugin's modules are imported

from django.conf import settings  # noqa: E402
from django.core.servers.basehttp import get_internal_wsgi_application  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from .viewers.app import ViewerApp  # noqa: E402

SALEOR_PATH = "/plugins/global/saleor_livedist/viewer/"
SANDBOX_PATH = "/viewer/"


def project_application() -> ViewerApp:
    in_saleor = settings.ROOT_URLCONF.split(".")[0] == "saleor"
    path = os.environ.get("LIVEDIST_VIEWER_PATH") or (SALEOR_PATH if in_saleor else SANDBOX_PATH)
    authenticate = os.environ.get("LIVEDIST_VIEWER_AUTHENTICATE") or (
        "saleor_livedist.saleor.auth.saleor_authenticate" if in_saleor else "saleor_livedist.web.endpoints.sandbox_authenticate")
    return ViewerApp(fallback=get_internal_wsgi_application(), path=path, authenticate=import_string(authenticate))


application = project_application()
