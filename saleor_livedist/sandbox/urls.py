"""URLs of the sandbox project: the admin and the plugin's endpoints (the same views Saleor serves under
/plugins/global/saleor_livedist/)."""
from django.contrib import admin
from django.urls import path, re_path

from ..http import dispatch

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^(?P<path>(graphql|click|viewer|widget)/.*)$", dispatch),
]
