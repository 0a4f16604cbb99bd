"""The lives pages: schedule a live (featured products picked from the store's catalogue where there is
one), start and end it, publish its replay, cut clips, and its leaderboard, all through the live room's
services (the same as the API's liveSchedule, liveStart, liveEnd, replayPublish and clipCreate)."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _, gettext_lazy

from ..display import zone
from ..exceptions import ServiceError
from ..identity import staff_labels
from ..live_room import lifecycle, lives
from ..models import LiveSession, LiveStat
from .access import MANAGE_PRODUCTS
from .pages import Console, Outcome, Route, paginate

BOARD = 20


def listing(console: Console, outcome: Outcome | None = None, status: int | None = None) -> HttpResponse:
    state = console.query("status")
    rows = LiveSession.objects.all() if not state else LiveSession.objects.filter(status=state)
    page = paginate(console, rows.order_by("-scheduled_start", "id"), "lives/", status=state)
    form = console.request.POST if outcome is not None and outcome.errors else {}
    return console.render("lives.html", {
        "area": "lives/", "page": page, "status": state, "form": form, "products": catalogue(),
        "can_edit": console.can(MANAGE_PRODUCTS), "schedule_url": console.url("lives/schedule"),
    }, outcome, status)


def catalogue() -> list[str]:
    """Product slugs to pick featured products from: the store's catalogue (Saleor's, in process or through its
    API), none in the sandbox (which has no catalogue; any slug is taken there)."""
    from ..catalogue import store_catalogue

    port = store_catalogue()
    return port.product_slugs() if port is not None else []


def detail(console: Console, live: str, outcome: Outcome | None = None) -> HttpResponse:
    row = LiveSession.objects.filter(id=live).first()
    if row is None:
        return listing(console, Outcome(errors=[("id", _("There is no live %(live)s.") % {"live": live})]), 404)
    board = list(LiveStat.objects.filter(live=live).order_by("-gmv", "-orders", "-invited", "distributor")[:BOARD])
    names = staff_labels([s.distributor for s in board])
    form = console.request.POST if outcome is not None and outcome.errors else {}
    return console.render("live.html", {
        "area": "lives/", "live": row, "replays": list(row.replays.order_by("available_from")),
        "clips": list(row.clips.order_by("start_seconds", "id")), "form": form,
        "board": [{"stat": s, "name": names[s.distributor]} for s in board],
        "coupons": list(row.coupons.order_by("created_at")),
        "tasks": list(row.published_tasks.order_by("published_at")),
        "can_edit": console.can(MANAGE_PRODUCTS), "here": console.url(f"lives/{row.id}/"),
    }, outcome)


def local_time(value: str, field: str) -> datetime | None:
    """A time typed in the display time zone (2026-12-05 20:00 or the browser's 2026-12-05T20:00)."""
    value = value.strip()
    if not value:
        return None
    try:
        typed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise ServiceError(field, "INVALID", _("enter a date and time such as 2026-12-05 20:00")) from None
    return typed if typed.tzinfo is not None else typed.replace(tzinfo=zone())


def _number(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ServiceError(field, "INVALID", _("enter a whole number of seconds")) from None


def schedule(console: Console) -> HttpResponse:
    form = console.request.POST
    try:
        start = local_time(form.get("scheduled_start", ""), "scheduledStart")
        if start is None:
            raise ServiceError("scheduledStart", "REQUIRED", _("a live needs its start time"))
        live = lives.schedule_live(
            form.get("id", "").strip(), form.get("title", "").strip(), start,
            [p for p in re.split(r"[\s,]+", form.get("featured_products", "")) if p],
            host=form.get("host", "").strip(), channel=form.get("channel", "").strip(),
            stream_url=form.get("stream_url", "").strip())
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return detail(console, live.id, Outcome(notice=_("The live %(live)s is scheduled.") % {"live": live.id}))


def _step(step: Callable[[str], Any], done: Any) -> Callable[..., HttpResponse]:
    def act(console: Console, live: str) -> HttpResponse:
        try:
            step(live)
        except ServiceError as exc:
            return detail(console, live, Outcome.of(exc))
        return detail(console, live, Outcome(notice=str(done)))

    return act


def replay(console: Console, live: str) -> HttpResponse:
    form = console.request.POST
    try:
        lives.publish_replay(live, form.get("replay_id", "").strip(), form.get("url", "").strip(),
                             local_time(form.get("available_until", ""), "availableUntil"))
    except ServiceError as exc:
        return detail(console, live, Outcome.of(exc))
    return detail(console, live, Outcome(notice=_("The replay is published.")))


def clip(console: Console, live: str) -> HttpResponse:
    form = console.request.POST
    try:
        lives.create_clip(live, form.get("clip_id", "").strip(), _number(form.get("start_seconds", ""), "startSeconds"),
                          _number(form.get("end_seconds", ""), "endSeconds"), title=form.get("title", "").strip(),
                          url=form.get("url", "").strip(), replay_id=form.get("replay_id", "").strip() or None)
    except ServiceError as exc:
        return detail(console, live, Outcome.of(exc))
    return detail(console, live, Outcome(notice=_("The clip is published.")))


LIVE = r"lives/(?P<live>[-\w]+)/"
ROUTES = [
    Route("lives/", get=listing),
    Route("lives/schedule", post=schedule, permission=MANAGE_PRODUCTS),
    Route(LIVE, get=detail),
    Route(LIVE + "start", post=_step(lifecycle.start_live, gettext_lazy("The live is on air.")),
          permission=MANAGE_PRODUCTS),
    Route(LIVE + "end", post=_step(lifecycle.end_live, gettext_lazy("The live has ended.")),
          permission=MANAGE_PRODUCTS),
    Route(LIVE + "replay", post=replay, permission=MANAGE_PRODUCTS),
    Route(LIVE + "clip", post=clip, permission=MANAGE_PRODUCTS),
]
