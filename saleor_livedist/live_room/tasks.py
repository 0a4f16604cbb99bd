"""The live room's Celery task: reminding invited viewers once a live starts (a shared task, like the inbox's)."""
from __future__ import annotations

from celery import shared_task

from ..inbox.broker import SEND_LIVE_REMINDERS
from ..inbox.tasks import RETRY


@shared_task(name=SEND_LIVE_REMINDERS, **RETRY)
def send_live_reminders(live_id: str) -> int:
    """Remind the people invited to a live that it started; exactly once per person."""
    from .reminders import send_reminders

    return send_reminders(live_id)
