"""App mode's Celery app: `celery -A saleor_livedist.app_server.celery worker -B` (CELERY_BROKER_URL and
DATABASE_URL set as for `livedist app serve`).

A task message published while a block works in one tenant's schema carries that schema (the
`livedist_schema` header, added by app_server/tasks.py when the message is sent), and the task runs in it:
a first-order coupon, a reminder or a payout batch that processing one instance's events asks for is done
in that instance's tables, never in another's or the public schema."""
from __future__ import annotations

import os
from typing import Any

from celery import Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.app_server.settings")

from ..sandbox.celery import create_app  # noqa: E402

SCHEMA_HEADER = "livedist_schema"


class TenantTask(Task):
    """Runs in the schema its message names (none: as it is)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ..db import schemas

        schema = getattr(self.request, SCHEMA_HEADER, None) or ""
        if not schema or schema == schemas.current():
            return super().__call__(*args, **kwargs)
        with schemas.use_schema(schema):
            return super().__call__(*args, **kwargs)


app = create_app("livedist_app", task_cls=TenantTask)
