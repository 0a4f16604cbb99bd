"""Running the live room: schedule, start and end a live, publish its replay, cut clips. Every step that
matters to commissions is handed to the engine as an event (docs/events.md), at the server's time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import coupons
from ..inbox import processing
from ..models import LiveClip, LiveQuestion, LiveReplay, LiveSession
from ..exceptions import ServiceError


def _submit(event_id: str, etype: str, at: datetime, **fields: Any) -> None:
    processing.submit({"id": event_id, "type": etype, "at": at.isoformat(), **fields})


@transaction.atomic
def schedule_live(live_id: str, title: str, scheduled_start: datetime, featured_products: list[str],
                  host: str = "", channel: str = "", stream_url: str = "") -> LiveSession:
    if not live_id or not title:
        raise ServiceError("id" if not live_id else "title", "REQUIRED", "a live needs an id and a title")
    if scheduled_start.tzinfo is None:
        raise ServiceError("scheduledStart", "INVALID", "the start time needs a UTC offset")
    if LiveSession.objects.filter(id=live_id).exists():
        raise ServiceError("id", "UNIQUE", f"a live with id {live_id!r} exists already")
    live = LiveSession.objects.create(id=live_id, title=title, scheduled_start=scheduled_start, host=host,
                                      channel=channel, featured_products=list(featured_products),
                                      stream_url=stream_url)
    _submit(f"live:{live_id}:scheduled", "live.scheduled", timezone.now(), live=live_id,
            starts_at=scheduled_start.isoformat(), products=list(featured_products), **({"host": host} if host else {}))
    return live


def _locked(live_id: str, field: str = "id") -> LiveSession:
    live = LiveSession.objects.select_for_update().filter(id=live_id).first()
    if live is None:
        raise ServiceError(field, "NOT_FOUND", f"no live {live_id!r}")
    return live


def locked_before_end(live_id: str, what: str) -> LiveSession:
    """The live, locked for the caller's transaction, if it has not ended: `what` (a coupon, a task) is for a
    scheduled live or one on air."""
    live = _locked(live_id, "live")
    if live.status == LiveSession.ENDED:
        raise ServiceError("live", "INVALID_STATE", f"the live has ended; {what} is for a scheduled live or one "
                                                    "on air")
    return live


@transaction.atomic
def start_live(live_id: str) -> LiveSession:
    """scheduled -> live. Starting twice is refused, so the engine's clock for the live is set once."""
    live = _locked(live_id)
    if live.status != LiveSession.SCHEDULED:
        raise ServiceError("id", "INVALID_STATE", f"the live is {live.status}; only a scheduled live can start")
    live.status, live.actual_start = LiveSession.LIVE, timezone.now()
    live.save(update_fields=["status", "actual_start"])
    _submit(f"live:{live_id}:started", "live.started", live.actual_start, live=live_id)
    coupons.open_window(live)  # the live's coupons are valid from this second
    from .reminders import schedule

    schedule(live_id)  # after commit, and after the engine has the click history it needs
    return live


@transaction.atomic
def end_live(live_id: str) -> LiveSession:
    live = _locked(live_id)
    if live.status != LiveSession.LIVE:
        raise ServiceError("id", "INVALID_STATE", f"the live is {live.status}; only a live on air can end")
    live.status, live.actual_end = LiveSession.ENDED, timezone.now()
    live.save(update_fields=["status", "actual_end"])
    _submit(f"live:{live_id}:ended", "live.ended", live.actual_end, live=live_id)
    coupons.close_window(live)
    return live


@transaction.atomic
def publish_replay(live_id: str, replay_id: str, url: str, available_until: datetime | None = None) -> LiveReplay:
    live = _locked(live_id)
    if live.status != LiveSession.ENDED:
        raise ServiceError("liveId", "INVALID_STATE", "a replay is published once the live has ended")
    if LiveReplay.objects.filter(id=replay_id).exists():
        raise ServiceError("id", "UNIQUE", f"a replay with id {replay_id!r} exists already")
    now = timezone.now()
    if available_until is not None and available_until <= now:
        raise ServiceError("availableUntil", "INVALID", "the replay must stay available after now")
    replay = LiveReplay.objects.create(id=replay_id, live=live, url=url, available_from=now,
                                       available_until=available_until)
    extra = {"until": available_until.isoformat()} if available_until else {}
    _submit(f"replay:{replay_id}:published", "replay.published", now, live=live_id, replay=replay_id, **extra)
    return replay


@transaction.atomic
def create_clip(live_id: str, clip_id: str, start_seconds: int, end_seconds: int, title: str = "",
                url: str = "", replay_id: str | None = None) -> LiveClip:
    live = _locked(live_id)
    if start_seconds < 0 or end_seconds <= start_seconds:
        raise ServiceError("endSeconds", "INVALID", "a clip ends after it starts")
    if LiveClip.objects.filter(id=clip_id).exists():
        raise ServiceError("id", "UNIQUE", f"a clip with id {clip_id!r} exists already")
    replay = None
    if replay_id is not None:
        replay = LiveReplay.objects.filter(id=replay_id, live=live).first()
        if replay is None:
            raise ServiceError("replayId", "NOT_FOUND", f"no replay {replay_id!r} of this live")
    clip = LiveClip.objects.create(id=clip_id, live=live, replay=replay, title=title, start_seconds=start_seconds,
                                   end_seconds=end_seconds, url=url)
    extra: dict[str, Any] = {}
    if replay is not None:
        extra["replay"] = replay.id
        if replay.available_until is not None:
            extra["until"] = replay.available_until.isoformat()
    _submit(f"clip:{clip_id}:published", "clip.published", timezone.now(), live=live_id, clip=clip_id, **extra)
    return clip


MAX_QUESTION = 500


def ask_question(live_id: str, distributor: str, text: str, customer: str = "") -> LiveQuestion:
    """A distributor queues a question for the host; only while the live is scheduled or on air."""
    from ..models import Distributor

    text = text.strip()
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError(None, "NOT_A_DISTRIBUTOR", "only distributors queue questions for the host")
    if not text or len(text) > MAX_QUESTION:
        raise ServiceError("text", "INVALID", f"a question has 1 to {MAX_QUESTION} characters")
    live = LiveSession.objects.filter(id=live_id).first()
    if live is None:
        raise ServiceError("live", "NOT_FOUND", f"no live {live_id!r}")
    if live.status == LiveSession.ENDED:
        raise ServiceError("live", "INVALID_STATE", "the live has ended")
    if customer and not is_bound_to(customer, distributor):
        raise ServiceError("customer", "NOT_YOUR_CUSTOMER", _(
            "questions can name only customers bound to you (see me { customers }); leave customer empty otherwise"))
    return LiveQuestion.objects.create(live=live, asked_by=distributor, customer=customer, text=text)


def is_bound_to(identity: str, distributor: str) -> bool:
    """Whether the person (a stitched visitor id counts as its customer) is bound to the distributor now."""
    from django.db.models import Q

    from .models import Alias, Binding

    customer = Alias.objects.filter(visitor=identity).values_list("customer", flat=True).first() or identity
    return Binding.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
                                  identity=customer, distributor=distributor).exists()


def can_host(live: LiveSession, identity: str | None, is_staff: bool) -> bool:
    return is_staff or (identity is not None and identity == live.host)


@transaction.atomic
def answer_question(question_id: int, identity: str | None, is_staff: bool) -> LiveQuestion:
    question = LiveQuestion.objects.select_for_update().select_related("live").filter(id=question_id).first()
    if question is None:
        raise ServiceError("id", "NOT_FOUND", "no such question")
    if not can_host(question.live, identity, is_staff):
        raise ServiceError(None, "PERMISSION_DENIED", "only the host or staff answer questions")
    if question.status != LiveQuestion.ANSWERED:
        question.status, question.answered_at = LiveQuestion.ANSWERED, timezone.now()
        question.save(update_fields=["status", "answered_at"])
    return question
