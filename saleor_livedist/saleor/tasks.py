"""Hand-off from Saleor's hooks: the hook only enqueues (order id, what happened, when); the worker maps
the order and submits the events. Without a broker (or with CELERY_TASK_ALWAYS_EAGER) it runs inline."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.db import DatabaseError

from ..inbox import processing
from . import mapping, refunds

_writer_access: dict[str, Any] = {}


@task_prerun.connect(weak=False)
def _allow_writer(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Saleor's task class (RestrictWriterDBTask) raises, or logs a traceback, on every query to the writer
    database outside `allow_writer()`. All our tasks write, so they say so, without each knowing Saleor."""
    if task_id is None or not getattr(task, "name", "").startswith("saleor_livedist."):
        return
    from saleor.core.db.connection import allow_writer

    guard = allow_writer()
    guard.__enter__()
    _writer_access[task_id] = guard


@task_postrun.connect(weak=False)
def _restore_writer(task_id: str | None = None, **_: Any) -> None:
    guard = _writer_access.pop(task_id, None) if task_id is not None else None
    if guard is not None:
        guard.__exit__(None, None, None)

ORDER_KINDS = ("created", "paid", "fulfilled", "cancelled", "refunded", "fully_refunded")


def order_events(kind: str, order: Any, at: datetime | None) -> list[dict[str, Any]]:
    if kind == "created":
        return [mapping.order_created(order)]
    if kind in ("refunded", "fully_refunded"):
        return refunds.order_refunds(order, full=kind == "fully_refunded")
    return [mapping.order_lifecycle(kind, order, at)]


@shared_task(name="saleor_livedist.saleor_order_event", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=8)
def order_event(kind: str, order_pk: str, at: str | None = None) -> int:
    from saleor.order.models import Order

    order = Order.objects.filter(pk=order_pk).select_related("user", "channel").first()
    if order is None:
        return 0
    submitted = 0
    for event in order_events(kind, order, datetime.fromisoformat(at) if at else None):
        submitted += processing.submit(event)
    return submitted


@shared_task(name="saleor_livedist.saleor_customer_event", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=8)
def customer_event(user_pk: Any) -> int:
    from saleor.account.models import User

    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        return 0
    return sum(processing.submit(event) for event in mapping.customer_registered(user))
