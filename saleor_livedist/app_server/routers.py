"""Which tables go where when migrating: the tenants' table in the public schema only; the package's own tables
in every schema (a tenant's schema holds all of them but that one)."""
from __future__ import annotations

from typing import Any

from ..db import schemas

APP_LABEL = "livedist_app"


class TenantRouter:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if schemas.current() and app_label == APP_LABEL:
            return False
        return None
