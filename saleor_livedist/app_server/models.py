"""The Saleor instances App mode serves: one row each, in the public schema (routers.py)."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class Tenant(models.Model):
    """A Saleor instance that installed the app: its API URL (normalized, the tenant's name), the schema its
    tables are in, the app's token there (encrypted) and the app's id there (deliveries name it as recipient)."""

    api_url = models.CharField(max_length=500, unique=True)
    schema = models.CharField(max_length=63, unique=True)
    sealed_token = models.TextField()
    app_id = models.CharField(max_length=200)
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_app_tenant"

    def __str__(self) -> str:
        return self.api_url
