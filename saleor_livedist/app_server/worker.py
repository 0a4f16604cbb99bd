"""The worker `livedist app serve` runs on a thread when no broker is configured: it processes the tenants'
inboxes when a delivery arrives (tasks.wake) and sweeps them every SWEEP_SECONDS."""
from __future__ import annotations

import logging
import threading

from django.db import connection

from . import tasks

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0
SETTLE_EVERY = 60  # sweeps (an hour) between approvals


def run_forever(stop: threading.Event) -> None:
    rounds = 0
    while not stop.is_set():
        tasks.wake.wait(SWEEP_SECONDS)
        tasks.wake.clear()
        try:
            tasks.sweep(settle_too=rounds % SETTLE_EVERY == 0)
        except Exception:
            logger.exception("livedist app: the local worker's sweep failed")
        finally:
            connection.close()
        rounds += 1


def start() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="livedist-app-worker", daemon=True).start()
    return stop
