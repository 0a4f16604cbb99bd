"""App mode's URLs (the project in app_server/settings.py): the app's own endpoints, and the console at the
plugin's paths (console_host.py), so the manifest's extension URLs are the plugin's under the app's base URL."""
from django.urls import path

from . import console_host, views

urlpatterns = [
    path("", views.home),
    path("app/manifest", views.manifest),
    path("app/register", views.register),
    path(views.WEBHOOKS_PATH, views.webhook),
    path("app/session", console_host.session),
    path("app/open/<str:kind>", console_host.open_page),
    path("console/whoami", console_host.whoami),
    path("console", console_host.console),
    path("console/<path:subpath>", console_host.console),
]
