"""The payouts' Celery task: sending a payout batch to the payment gateway, retried with backoff."""
from __future__ import annotations

from typing import Any

from celery import shared_task

from .webhook import SEND_PAYOUT_BATCH


@shared_task(name=SEND_PAYOUT_BATCH, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8,
             soft_time_limit=120)
def send_payout_batch(self: Any, batch_id: str) -> bool:
    """Deliver a batch; a gateway that is down or refuses is tried again (30 s, 1 min, 2 min ... up to 1 h).
    The gateway keeps the first delivery of a batch id and ignores the others (Idempotency-Key)."""
    from .webhook import deliver

    try:
        return deliver(batch_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(3600, 30 * 2 ** self.request.retries))
