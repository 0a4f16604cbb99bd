"""Cut a clip: a distributor picks a time range of a replay (within the replay's length: the live's air time) and
gets their share link to it. The clip is a live-room clip like the ones staff cut (live_room/lives.py)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..live_room.lives import create_clip
from ..models import DistributorBan, LiveClip, LiveReplay, ShareLink
from .links import link_for
from .pages import Center, Route

CLIP_MIN_SECONDS = 3
TITLE_MAX = 255
_TIME = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2})|(\d{1,6})")


@dataclass(frozen=True)
class ReplayChoice:
    id: str
    title: str
    length: int | None  # seconds; None when the live's air time is not known


def replay_length(replay: LiveReplay) -> int | None:
    """A replay is the live as it was on air: from its actual start to its actual end."""
    live = replay.live
    if live.actual_start is None or live.actual_end is None or live.actual_end <= live.actual_start:
        return None
    return int((live.actual_end - live.actual_start).total_seconds())


def available_replays() -> list[LiveReplay]:
    now = timezone.now()
    return list(LiveReplay.objects.select_related("live").filter(available_from__lte=now)
                .exclude(available_until__lte=now).order_by("-available_from")[:50])


def seconds(text: str, field: str) -> int:
    """90, 1:30 or 0:01:30: a time in the replay, as a whole number of seconds."""
    found = _TIME.fullmatch(text.strip())
    if found is None:
        raise ServiceError(field, "INVALID", _("write a time in the replay as seconds (90), m:ss (1:30) or h:mm:ss "
                                               "(0:01:30), not %(text)r") % {"text": text})
    hours, minutes, secs, plain = found.groups()
    if plain is not None:
        return int(plain)
    if int(secs) > 59 or (hours is not None and int(minutes) > 59):
        raise ServiceError(field, "INVALID", _("minutes and seconds go up to 59, not %(text)r") % {"text": text})
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)


def clock(total: int) -> str:
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def cut_clip(distributor: str, replay_id: str, start: int, end: int, title: str = "") -> ShareLink:
    """The distributor's link to a clip of the replay from `start` to `end` seconds: the same range cut again by
    the same distributor is the same clip and the same link. Raises ServiceError; nothing is kept then."""
    if DistributorBan.objects.filter(distributor=distributor).exists():
        raise ServiceError(None, "BANNED", _("this distributor account is banned; it cannot create share links"))
    now = timezone.now()
    replay = LiveReplay.objects.select_related("live").filter(id=replay_id).first()
    if replay is None or replay.available_from > now or (replay.available_until and replay.available_until <= now):
        raise ServiceError("replay", "NOT_FOUND", _("there is no replay %(id)r available to cut") % {"id": replay_id})
    length = replay_length(replay)
    if length is None:
        raise ServiceError("replay", "UNKNOWN_LENGTH", _("this replay's length is not known (its live has no "
                                                         "recorded start and end); it cannot be cut"))
    if start < 0 or end > length:
        raise ServiceError("end", "OUT_OF_RANGE", _("the replay is %(length)s long: a clip lies within 0:00 and "
                                                    "%(length)s") % {"length": clock(length)})
    if end - start < CLIP_MIN_SECONDS:
        raise ServiceError("end", "TOO_SHORT", _("a clip ends at least %(n)d seconds after it starts") % {
            "n": CLIP_MIN_SECONDS})
    title = " ".join(title.split())[:TITLE_MAX] or f"{replay.live.title} {clock(start)}-{clock(end)}"
    key = hashlib.sha256(f"{distributor}\n{replay.id}\n{start}\n{end}".encode()).hexdigest()[:16]
    clip_id = f"cut-{key}"
    with transaction.atomic():
        if not LiveClip.objects.filter(id=clip_id).exists():
            create_clip(replay.live_id, clip_id, start, end, title=title,
                        url=f"{replay.url}#t={start},{end}", replay_id=replay.id)
        return link_for(distributor, "clip", clip_id)


def clip_page(center: Center, error: str = "", status: int = 200) -> HttpResponse:
    choices = [ReplayChoice(r.id, r.live.title, replay_length(r)) for r in available_replays()]
    return center.render("clip.html", {
        "title": _("Cut a clip"), "replays": [(c, clock(c.length) if c.length else "") for c in choices],
        "error": error, "form": center.request.POST if center.request.method == "POST" else {}},
        status=status, area="clip/")


def cut(center: Center) -> HttpResponse:
    post = center.request.POST
    try:
        start, end = seconds(post.get("start", ""), "start"), seconds(post.get("end", ""), "end")
        link = cut_clip(center.identity, post.get("replay", ""), start, end, post.get("title", ""))
    except ServiceError as exc:
        return clip_page(center, error=exc.message, status=400)
    return HttpResponseRedirect(center.url("links/") + f"#link-{link.id}", status=303)


ROUTES = [Route("clip/", get=clip_page, post=cut)]
