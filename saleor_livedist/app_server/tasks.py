"""App mode's Celery tasks: a tenant's inbox processed in its own schema, the periodic sweep of every tenant's
inbox, and the plugin's periodic tasks fanned out to every tenant (app_each_tenant). Every message sent while a
block works in a tenant's schema names it, and runs there (app_server/celery.py). Without a broker,
`livedist app serve` sweeps the inboxes on a thread of its own (worker.py)."""
from __future__ import annotations

import logging
import threading
from typing import Any

from celery import shared_task
from celery.signals import before_task_publish

from ..db import schemas
from ..inbox.tasks import RETRY

logger = logging.getLogger(__name__)

PROCESS_TENANT = "saleor_livedist.app_process_events"
SWEEP_TENANTS = "saleor_livedist.app_sweep"
EACH_TENANT = "saleor_livedist.app_each_tenant"
SCHEMA_HEADER = "livedist_schema"  # read by app_server/celery.py's TenantTask

wake = threading.Event()  # set when events arrive and no broker carries the news (worker.py waits on it)


@before_task_publish.connect(weak=False)
def _name_the_schema(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """A message sent while a block works in a tenant's schema names it, so the task runs there."""
    schema = schemas.current()
    if schema and headers is not None:
        headers.setdefault(SCHEMA_HEADER, schema)


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
    return sweep(settle_too=False)  # approvals: livedist-settle, hourly, through app_each_tenant


@shared_task(name=EACH_TENANT)
def each_tenant(task_name: str) -> int:
    """One message of `task_name` per tenant, each naming the tenant's schema."""
    from ..inbox.broker import publish
    from .models import Tenant

    sent = 0
    for schema in list(Tenant.objects.order_by("id").values_list("schema", flat=True)):
        with schemas.use_schema(schema):
            sent += publish(task_name)
    return sent
