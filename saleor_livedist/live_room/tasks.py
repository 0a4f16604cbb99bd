"""The live room's Celery tasks: reminding invited viewers when a live starts, and the periodic one that reminds
them a set time before (shared tasks, like the inbox's)."""
from __future__ import annotations

from celery import shared_task

from ..inbox.broker import SEND_DUE_REMINDERS, SEND_LIVE_REMINDERS
from ..inbox.tasks import RETRY


@shared_task(name=SEND_LIVE_REMINDERS, **RETRY)
def send_live_reminders(live_id: str) -> int:
    """Remind the people invited to a live that it started; exactly once per person."""
    from .reminders import send_reminders

    return send_reminders(live_id)


@shared_task(name=SEND_DUE_REMINDERS, **RETRY)
def send_due_reminders() -> int:
    """Every minute (beat): the reminders due before the lives about to start; once per person and offset, also
    when two beats or a redelivery run it at the same time."""
    from .reminders import send_due_reminders as run

    return run()
