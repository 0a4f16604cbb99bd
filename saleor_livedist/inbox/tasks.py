"""The inbox's Celery tasks (processing, settlement), as shared tasks so they run on the host project's Celery
app (Saleor's workers)."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from .broker import FINISH_REWARDS, PAY_POOLS, PROCESS_EVENTS, REFRESH_REPORTS, SEND_DUE_REMINDERS, SETTLE

# Merged into the host's beat schedule by AppConfig.ready, if the host runs celery beat.
BEAT_SCHEDULE = {
    "livedist-sweep-inbox": {"task": PROCESS_EVENTS, "schedule": 60.0},
    "livedist-settle": {"task": SETTLE, "schedule": 3600.0},
    "livedist-refresh-reports": {"task": REFRESH_REPORTS, "schedule": 30.0},  # saleor_livedist.reports.tasks
    "livedist-finish-rewards": {"task": FINISH_REWARDS, "schedule": 300.0},
    # saleor_livedist.distribution.tasks; hourly: a period is paid within the hour after its after-sale window has
    # passed, and the runs in between find it paid and book nothing
    "livedist-pay-pools": {"task": PAY_POOLS, "schedule": 3600.0},
    "livedist-due-reminders": {"task": SEND_DUE_REMINDERS, "schedule": 60.0},  # saleor_livedist.live_room.tasks
}


RETRY = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": (DatabaseError, InterfaceError),
         "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 8, "soft_time_limit": 600}


@shared_task(name=PROCESS_EVENTS, bind=True, **RETRY)
def process_events(self: Any, partition: int | None = None) -> int:
    """Drain the inbox. A database outage retries with backoff; an event that keeps failing is recorded on
    its inbox row (admin: Live + distribution > events) and can be re-run from there. If another worker is
    draining, this one does not wait for it: it tries again in a few seconds. With PARTITIONS > 1: `partition`
    drains that partition (sent to its queue, PARTITION_QUEUE); None (the periodic sweep, a barrier) every
    partition and the barriers."""
    from .processing import Busy, process_pending

    careful = bool((self.request.delivery_info or {}).get("redelivered"))  # the last worker died on it
    try:
        return process_pending(wait=False, careful=careful, partition=partition)
    except Busy:
        raise self.retry(countdown=2, max_retries=30) from None  # (a retry keeps the message's queue)


@shared_task(name=SETTLE, **RETRY)
def settle() -> int:
    """Approve matured commissions; idempotent."""
    from .processing import settle as run

    return run()
