"""App mode's URLs (the project in app_server/settings.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("app/manifest", views.manifest),
    path("app/register", views.register),
    path(views.WEBHOOKS_PATH, views.webhook),
]
