"""URLs of the sandbox project: the admin, the console and the plugin's endpoints (the same views Saleor serves under
/plugins/global/saleor_livedist/)."""
from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import path, re_path

from ..console.views import sandbox_console
from ..web.endpoints import dispatch

urlpatterns = [
    path("admin/", admin.site.urls),
    # The admin's styles and scripts, from the installed apps (also with DEBUG off: this is a sandbox, not a
    # production server, which serves collected static files itself).
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
    re_path(r"^(?P<path>(graphql|click|viewer|widget|payouts|center)/.*)$", dispatch),
    re_path(r"^console/(?P<path>.*)$", sandbox_console),  # the merchant's console, for the sandbox's staff
]
