"""The reports' Celery task: bringing the report lines and totals up to date every 30 seconds (beat schedule in
saleor_livedist.inbox.tasks), so that a page rarely waits for the orders changed since the last report."""
from __future__ import annotations

from celery import shared_task

from ..inbox.broker import REFRESH_REPORTS
from ..inbox.tasks import RETRY


@shared_task(name=REFRESH_REPORTS, **RETRY)
def refresh_reports() -> int:
    """Recompute the report lines (and totals) of the orders marked changed; the number of lines written. A
    refresh running at the same time (a report, another worker) takes other orders: nothing waits."""
    from .facts import refresh

    return refresh()
