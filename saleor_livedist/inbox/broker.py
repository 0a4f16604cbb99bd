"""The Celery broker as the plugin's senders see it: whether there is one, and a task message sent without
waiting on a dead broker, by the task's name.

The names are the tasks' public names: brokers and beat schedules keep them, so they never change. Sending by
name means a sender needs no task module, and no import of what the task runs."""
from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

PROCESS_EVENTS = "saleor_livedist.process_events"
SETTLE = "saleor_livedist.settle"
SEND_LIVE_REMINDERS = "saleor_livedist.send_live_reminders"
REFRESH_REPORTS = "saleor_livedist.refresh_reports"
ISSUE_FIRST_ORDER_COUPON = "saleor_livedist.issue_first_order_coupon"
FINISH_REWARDS = "saleor_livedist.finish_rewards"
PAY_POOLS = "saleor_livedist.pay_pools"
SEND_DUE_REMINDERS = "saleor_livedist.send_due_reminders"


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
    """Send a task message without waiting on a dead broker; False (logged) if it could not be sent. `task` is
    a task, or a task's name (sent on the current app: the sender then needs no task module).

    Every caller has already kept what the task needs (an inbox row, a committed order), so a message that
    is not sent only delays the work until the periodic sweep or the caller's own fallback."""
    from kombu.pools import producers

    by_name = isinstance(task, str)
    app = current_app if by_name else task._get_app()
    try:
        connection = app.connection_for_write(connect_timeout=PUBLISH_CONNECT_TIMEOUT,
                                              transport_options=_ONE_ATTEMPT)
        with producers[connection].acquire(block=True, timeout=PUBLISH_CONNECT_TIMEOUT) as producer:
            if by_name:
                app.send_task(task, args=args, producer=producer, retry=False, **options)
            else:
                task.apply_async(args=args, producer=producer, retry=False, **options)
    except Exception as exc:  # the broker is down or unreachable; the work is not lost (see above)
        logger.warning("livedist: could not publish %s (%s: %s)", task if by_name else task.name,
                       type(exc).__name__, exc)
        return False
    return True
