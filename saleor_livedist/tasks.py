"""Celery tasks, as shared tasks so they run on the host project's Celery app (Saleor's workers)."""
from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

logger = logging.getLogger(__name__)

# Merged into the host's beat schedule by AppConfig.ready, if the host runs celery beat.
BEAT_SCHEDULE = {
    "livedist-sweep-inbox": {"task": "saleor_livedist.process_events", "schedule": 60.0},
    "livedist-settle": {"task": "saleor_livedist.settle", "schedule": 3600.0},
}


def broker_configured() -> bool:
    """A broker is configured and tasks are not run eagerly in-process."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return False
    return bool(getattr(settings, "CELERY_BROKER_URL", "") or getattr(settings, "BROKER_URL", ""))


@shared_task(
    name="saleor_livedist.process_events", bind=True, acks_late=True, reject_on_worker_lost=True,
    autoretry_for=(DatabaseError, InterfaceError), retry_backoff=True, retry_backoff_max=300, max_retries=8,
)
def process_events(self: Any) -> int:
    """Drain the inbox. A database outage retries with backoff; an event that keeps failing is recorded on
    its inbox row (admin: Live + distribution > events) and can be re-run from there."""
    from .processing import process_pending

    return process_pending()


@shared_task(name="saleor_livedist.settle", acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True)
def settle() -> int:
    """Approve matured commissions; idempotent."""
    from .processing import settle as run

    return run()
