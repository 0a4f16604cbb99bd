"""Celery tasks, as shared tasks so they run on the host project's Celery app (Saleor's workers)."""
from __future__ import annotations

import logging
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

logger = logging.getLogger(__name__)

# Merged into the host's beat schedule by AppConfig.ready, if the host runs celery beat.
BEAT_SCHEDULE = {
    "livedist-sweep-inbox": {"task": "saleor_livedist.process_events", "schedule": 60.0},
    "livedist-settle": {"task": "saleor_livedist.settle", "schedule": 3600.0},
}


def broker_configured() -> bool:
    """The current Celery app has a broker and does not run tasks eagerly in-process."""
    conf = current_app.conf
    if conf.task_always_eager or getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return False
    return bool(conf.broker_url or getattr(settings, "CELERY_BROKER_URL", ""))


# A publish tries the broker once, for at most this long. Celery's own `retry=False` still waits for the
# connection: kombu retries connecting until broker_connection_timeout (4 s, about 6 s in all with its waits),
# and with retries on it is Celery's publish retry policy; neither belongs in a shopper's request.
PUBLISH_CONNECT_TIMEOUT = 0.5
_ONE_ATTEMPT = {"max_retries": 0}  # kombu's connection retries (read from the transport options)


def publish(task: Any, args: tuple[Any, ...] = (), **options: Any) -> bool:
    """Send a task message without waiting on a dead broker; False (logged) if it could not be sent.

    Every caller has already kept what the task needs (an inbox row, a committed order), so a message that
    is not sent only delays the work until the periodic sweep or the caller's own fallback."""
    from kombu.pools import producers

    app = task._get_app()
    try:
        connection = app.connection_for_write(connect_timeout=PUBLISH_CONNECT_TIMEOUT,
                                              transport_options=_ONE_ATTEMPT)
        with producers[connection].acquire(block=True, timeout=PUBLISH_CONNECT_TIMEOUT) as producer:
            task.apply_async(args=args, producer=producer, retry=False, **options)
    except Exception as exc:  # the broker is down or unreachable; the work is not lost (see above)
        logger.warning("livedist: could not publish %s (%s: %s)", task.name, type(exc).__name__, exc)
        return False
    return True


RETRY = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": (DatabaseError, InterfaceError),
         "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 8, "soft_time_limit": 600}


@shared_task(name="saleor_livedist.process_events", bind=True, **RETRY)
def process_events(self: Any) -> int:
    """Drain the inbox. A database outage retries with backoff; an event that keeps failing is recorded on
    its inbox row (admin: Live + distribution > events) and can be re-run from there. If another worker is
    draining, this one does not wait for it: it tries again in a few seconds."""
    from .processing import Busy, process_pending

    careful = bool((self.request.delivery_info or {}).get("redelivered"))  # the last worker died on it
    try:
        return process_pending(wait=False, careful=careful)
    except Busy:
        raise self.retry(countdown=2, max_retries=30) from None


@shared_task(name="saleor_livedist.settle", **RETRY)
def settle() -> int:
    """Approve matured commissions; idempotent."""
    from .processing import settle as run

    return run()


@shared_task(name="saleor_livedist.send_live_reminders", **RETRY)
def send_live_reminders(live_id: str) -> int:
    """Remind the people invited to a live that it started; exactly once per person."""
    from ..live_room.reminders import send_reminders

    return send_reminders(live_id)
