"""Starting and ending a live, with what follows from it: the engine is told at that second, the live's coupons
open or close with it, and everyone invited before the start is reminded."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..models import LiveSession
from . import coupons, reminders
from .lives import locked, submit_event


@transaction.atomic
def start_live(live_id: str) -> LiveSession:
    """scheduled -> live. Starting twice is refused, so the engine's clock for the live is set once."""
    live = locked(live_id)
    if live.status != LiveSession.SCHEDULED:
        raise ServiceError("id", "INVALID_STATE", _("the live is %(status)s; only a scheduled live can "
                                                       "start") % {"status": live.get_status_display()})
    live.status, live.actual_start = LiveSession.LIVE, timezone.now()
    live.save(update_fields=["status", "actual_start"])
    submit_event(f"live:{live_id}:started", "live.started", live.actual_start, live=live_id)
    coupons.open_window(live)  # the live's coupons are valid from this second
    reminders.schedule(live_id)  # after commit, and after the engine has the click history it needs
    return live


@transaction.atomic
def end_live(live_id: str) -> LiveSession:
    live = locked(live_id)
    if live.status != LiveSession.LIVE:
        raise ServiceError("id", "INVALID_STATE", _("the live is %(status)s; only a live on air can end") % {
            "status": live.get_status_display()})
    live.status, live.actual_end = LiveSession.ENDED, timezone.now()
    live.save(update_fields=["status", "actual_end"])
    submit_event(f"live:{live_id}:ended", "live.ended", live.actual_end, live=live_id)
    coupons.close_window(live)
    return live
