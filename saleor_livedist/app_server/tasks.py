"""App mode's Celery tasks: a tenant's inbox processed in its own schema, and the periodic sweep of every
tenant (the inbox's events due again, then approvals). Without a broker, `livedist app serve` runs the same
work on a thread of its own (worker.py)."""
from __future__ import annotations

import logging
import threading
from typing import Any

from celery import shared_task

from ..inbox.tasks import RETRY

logger = logging.getLogger(__name__)

PROCESS_TENANT = "saleor_livedist.app_process_events"
SWEEP_TENANTS = "saleor_livedist.app_sweep"

wake = threading.Event()  # set when events arrive and no broker carries the news (worker.py waits on it)


def hand_off(schema: str) -> None:
    """Tell a worker the tenant has new events: a task message, or the serve command's own worker."""
    from ..inbox.broker import broker_configured, publish

    if broker_configured() and publish(PROCESS_TENANT, (schema,)):
        return
    wake.set()  # nobody waits: the periodic sweep picks the events up


def process_schema(schema: str, wait: bool = True) -> int:
    from ..db.schemas import use_schema
    from ..inbox.processing import process_pending

    with use_schema(schema):
        return process_pending(wait=wait)


def sweep(settle_too: bool = True) -> int:
    """Every tenant's due events, then its approvals; a tenant that fails is logged and the others go on."""
    from ..db.schemas import use_schema
    from ..inbox.processing import settle
    from .models import Tenant

    done = 0
    for schema in list(Tenant.objects.order_by("id").values_list("schema", flat=True)):
        try:
            done += process_schema(schema)
            if settle_too:
                with use_schema(schema):
                    settle()
        except Exception:
            logger.exception("livedist app: the sweep of schema %s failed", schema)
    return done


@shared_task(name=PROCESS_TENANT, bind=True, **RETRY)
def process_tenant_events(self: Any, schema: str) -> int:
    from ..inbox.processing import Busy

    try:
        return process_schema(schema, wait=False)
    except Busy:
        raise self.retry(countdown=2, max_retries=30) from None


@shared_task(name=SWEEP_TENANTS, **RETRY)
def sweep_tenants() -> int:
    return sweep()
