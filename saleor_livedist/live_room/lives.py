"""A live's own record: schedule a live, publish its replay, cut clips, and lock a live for a change (starting and
ending it: lifecycle). Every step that matters to commissions is handed to the engine as an event
(docs/events.md), at the server's time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..inbox import processing
from ..models import LiveClip, LiveReplay, LiveSession


def submit_event(event_id: str, etype: str, at: datetime, **fields: Any) -> None:
    processing.submit({"id": event_id, "type": etype, "at": at.isoformat(), **fields})


@transaction.atomic
def schedule_live(live_id: str, title: str, scheduled_start: datetime, featured_products: list[str],
                  host: str = "", channel: str = "", stream_url: str = "",
                  reminder_offsets: list[int] | None = None) -> LiveSession:
    if not live_id or not title:
        raise ServiceError("id" if not live_id else "title", "REQUIRED", _("a live needs an id and a title"))
    if scheduled_start.tzinfo is None:
        raise ServiceError("scheduledStart", "INVALID", _("the start time needs a UTC offset"))
    if LiveSession.objects.filter(id=live_id).exists():
        raise ServiceError("id", "UNIQUE", _("a live with id %(id)r exists already") % {"id": live_id})
    live = LiveSession.objects.create(id=live_id, title=title, scheduled_start=scheduled_start, host=host,
                                      channel=channel, featured_products=list(featured_products),
                                      stream_url=stream_url, reminder_offsets=checked_offsets(reminder_offsets))
    submit_event(f"live:{live_id}:scheduled", "live.scheduled", timezone.now(), live=live_id,
            starts_at=scheduled_start.isoformat(), products=list(featured_products), **({"host": host} if host else {}))
    return live


@transaction.atomic
def reschedule_live(live_id: str, scheduled_start: datetime, reminder_offsets: list[int] | None = None) -> LiveSession:
    """Move a scheduled live's start (and, if given, its reminder offsets): the reminders not sent yet follow the
    new time, those already sent are not sent again."""
    if scheduled_start.tzinfo is None:
        raise ServiceError("scheduledStart", "INVALID", _("the start time needs a UTC offset"))
    live = locked(live_id)
    if live.status != LiveSession.SCHEDULED:
        raise ServiceError("id", "INVALID_STATE", _("only a live that has not started can be rescheduled"))
    live.scheduled_start = scheduled_start
    if reminder_offsets is not None:
        live.reminder_offsets = checked_offsets(reminder_offsets)
    live.save(update_fields=["scheduled_start", "reminder_offsets"])
    submit_event(f"live:{live_id}:rescheduled:{scheduled_start.isoformat()}", "live.scheduled", timezone.now(),
                 live=live_id, starts_at=scheduled_start.isoformat(), products=list(live.featured_products),
                 **({"host": live.host} if live.host else {}))
    return live


def checked_offsets(minutes: list[int] | None) -> list[int] | None:
    """A live's own reminder offsets, checked; None: the REMINDER_OFFSETS setting."""
    from ..conf import MAX_REMINDER_OFFSET, reminder_offsets

    if minutes is None:
        return None
    try:
        return reminder_offsets(minutes, "reminderOffsets")
    except ValueError:
        raise ServiceError("reminderOffsets", "INVALID", _(
            "reminder offsets are whole minutes before the start, from 1 to %(max)s, e.g. [30, 5]; an empty list "
            "sends no reminder before the start") % {"max": MAX_REMINDER_OFFSET}) from None


def locked(live_id: str, field: str = "id") -> LiveSession:
    """The live, locked for the caller's transaction; ServiceError (on `field`) if there is none."""
    live = LiveSession.objects.select_for_update().filter(id=live_id).first()
    if live is None:
        raise ServiceError(field, "NOT_FOUND", _("no live %(id)r") % {"id": live_id})
    return live


def locked_before_end(live_id: str, what: str) -> LiveSession:
    """The live, locked for the caller's transaction, if it has not ended: `what` (a coupon, a task) is for a
    scheduled live or one on air."""
    live = locked(live_id, "live")
    if live.status == LiveSession.ENDED:
        raise ServiceError("live", "INVALID_STATE", _("the live has ended; %(what)s is for a scheduled live or "
                                                      "one on air") % {"what": what})
    return live


@transaction.atomic
def publish_replay(live_id: str, replay_id: str, url: str, available_until: datetime | None = None) -> LiveReplay:
    live = locked(live_id)
    if live.status != LiveSession.ENDED:
        raise ServiceError("liveId", "INVALID_STATE", _("a replay is published once the live has ended"))
    if LiveReplay.objects.filter(id=replay_id).exists():
        raise ServiceError("id", "UNIQUE", _("a replay with id %(id)r exists already") % {"id": replay_id})
    now = timezone.now()
    if available_until is not None and available_until <= now:
        raise ServiceError("availableUntil", "INVALID", _("the replay must stay available after now"))
    replay = LiveReplay.objects.create(id=replay_id, live=live, url=url, available_from=now,
                                       available_until=available_until)
    extra = {"until": available_until.isoformat()} if available_until else {}
    submit_event(f"replay:{replay_id}:published", "replay.published", now, live=live_id, replay=replay_id, **extra)
    return replay


@transaction.atomic
def create_clip(live_id: str, clip_id: str, start_seconds: int, end_seconds: int, title: str = "",
                url: str = "", replay_id: str | None = None) -> LiveClip:
    live = locked(live_id)
    if start_seconds < 0 or end_seconds <= start_seconds:
        raise ServiceError("endSeconds", "INVALID", _("a clip ends after it starts"))
    if LiveClip.objects.filter(id=clip_id).exists():
        raise ServiceError("id", "UNIQUE", _("a clip with id %(id)r exists already") % {"id": clip_id})
    replay = None
    if replay_id is not None:
        replay = LiveReplay.objects.filter(id=replay_id, live=live).first()
        if replay is None:
            raise ServiceError("replayId", "NOT_FOUND", _("no replay %(id)r of this live") % {"id": replay_id})
    clip = LiveClip.objects.create(id=clip_id, live=live, replay=replay, title=title, start_seconds=start_seconds,
                                   end_seconds=end_seconds, url=url)
    extra: dict[str, Any] = {}
    if replay is not None:
        extra["replay"] = replay.id
        if replay.available_until is not None:
            extra["until"] = replay.available_until.isoformat()
    submit_event(f"clip:{clip_id}:published", "clip.published", timezone.now(), live=live_id, clip=clip_id, **extra)
    return clip
