"""The viewer endpoint (POST viewer/): a live's join, heartbeat and leave, turned into live.* events dated by
the server's clock, with ids that make a retried or replayed request harmless, rate-limited per viewer and per
client IP. Contract and limits: docs/events.md, "The viewer endpoint"."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from . import processing
from .core.events import parse_event
from .exceptions import LiveDistError
from .identity import of_user
from .links import VISITOR_COOKIE, LinkError, new_visitor_id, read_visitor, sign_visitor
from .models import Alias, InboxEvent, Live, Watch

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15  # clients send a heartbeat this often; heartbeats in one such window share an event id
VIEWER_LIMIT, VIEWER_WINDOW = 5, 5  # requests per viewer per window of seconds: 1/s sustained, bursts of 5
IP_LIMIT, IP_WINDOW = 50, 1  # requests per client IP (REMOTE_ADDR) per window of seconds
SCHEDULE_SECONDS = 1.0  # with Celery: at most one processing task per process per second, run this much later
VISITOR_HEADER = "X-Livedist-Visitor"  # a signed visitor id, for clients that cannot send our cookie
ACTIONS = ("join", "heartbeat", "leave")
MAX_BODY_BYTES = 4096
MAX_LIVE_LENGTH = 200
MAX_TAB_LENGTH = 64
COOKIE_MAX_AGE = 365 * 86400
STITCH_NOTE_SECONDS = 86400
LOCK_CLASS = 0x7669  # first key of the per-tab advisory locks (two-key space: never the processing lock)

Authenticator = Callable[[HttpRequest], Any]


def now() -> datetime:
    """The server's clock: every event's `at` comes from here, never from the client (tests replace it)."""
    return timezone.now()


class ViewerError(LiveDistError, ValueError):
    """A request refused with an HTTP status and a stable code; nothing was recorded."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        self.status, self.code, self.retry_after = status, code, retry_after
        super().__init__(message)

    def response(self) -> JsonResponse:
        error: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.retry_after is not None:
            error["retryAfter"] = self.retry_after
        response = JsonResponse({"errors": [error]}, status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        return response


@dataclass(frozen=True)
class ViewerRequest:
    live: str
    action: str
    tab: str


@dataclass(frozen=True)
class Viewer:
    id: str  # who the events name: the signed-in customer, else the visitor
    visitor: str | None = None  # the verified visitor id from the cookie or header, if any
    signed_in: bool = False
    issued: bool = False  # a visitor id created by this request (a first join)


@dataclass(frozen=True)
class Outcome:
    recorded: bool  # a new event was kept (False: a repeat, or a heartbeat after this tab's leave)
    watched_seconds: int


# ---------------------------------------------------------------------- the view


def viewer_endpoint(request: HttpRequest, authenticate: Authenticator) -> HttpResponse:
    if request.method != "POST":
        return ViewerError(405, "METHOD_NOT_ALLOWED", "POST a JSON object to this endpoint").response()
    try:
        _check_rate("ip", request.META.get("REMOTE_ADDR") or "unknown", IP_LIMIT, IP_WINDOW)
        wanted = parse_request(request.body)
        viewer = identify(request, authenticate, wanted.action)
        if not viewer.issued:
            _check_rate("viewer", viewer.id, VIEWER_LIMIT, VIEWER_WINDOW)
        outcome = record(wanted, viewer)
    except ViewerError as exc:
        response = exc.response()
        if exc.code == "FORBIDDEN_VISITOR":  # let the next join start afresh with an id of ours
            response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
        return response
    body: dict[str, Any] = {
        "ok": True, "recorded": outcome.recorded, "watchedSeconds": outcome.watched_seconds,
        "next": None if wanted.action == "leave" else HEARTBEAT_SECONDS,
    }
    if viewer.issued:
        body["visitor"] = sign_visitor(viewer.id)
    response = JsonResponse(body)
    if viewer.issued:
        response.set_cookie(VISITOR_COOKIE, body["visitor"], max_age=COOKIE_MAX_AGE, httponly=True,
                            samesite="Lax", secure=request.is_secure())
    return response


def parse_request(raw: bytes) -> ViewerRequest:
    """The JSON body: {"live": id, "action": join|heartbeat|leave, "tab": id?}. Other fields (a client's
    clock, say) are ignored."""
    if len(raw) > MAX_BODY_BYTES:
        raise ViewerError(413, "TOO_LARGE", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ViewerError(400, "INVALID", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ViewerError(400, "INVALID", 'the body must be a JSON object such as {"live": "live-1", '
                                          '"action": "heartbeat", "tab": "t1"}')
    live, action, tab = data.get("live"), data.get("action"), data.get("tab")
    if not isinstance(live, str) or not live or len(live) > MAX_LIVE_LENGTH:
        raise ViewerError(400, "INVALID", f"'live' must be the id of a live (1 to {MAX_LIVE_LENGTH} characters)")
    if action not in ACTIONS:
        raise ViewerError(400, "INVALID", f"'action' must be one of {', '.join(ACTIONS)}, got {action!r}")
    if tab is not None and (not isinstance(tab, str) or len(tab) > MAX_TAB_LENGTH):
        raise ViewerError(400, "INVALID", f"'tab' must be a string of at most {MAX_TAB_LENGTH} characters")
    return ViewerRequest(live=live, action=action, tab=tab or "")


def identify(request: HttpRequest, authenticate: Authenticator, action: str) -> Viewer:
    """The signed-in customer, else the signed visitor id (header, then cookie), else, for a join, a new one.
    A visitor id we did not sign is refused, even for a signed-in customer."""
    signed = request.headers.get(VISITOR_HEADER) or request.COOKIES.get(VISITOR_COOKIE)
    visitor = None
    if signed:
        try:
            visitor = read_visitor(signed)
        except LinkError:
            raise ViewerError(403, "FORBIDDEN_VISITOR", "this visitor id is not one we issued; nothing was "
                                                        "recorded (join again without it to get a new one)") from None
    user = authenticate(request)
    if user is not None and getattr(user, "is_active", False):
        return Viewer(id=of_user(user), visitor=visitor, signed_in=True)
    if visitor is not None:
        return Viewer(id=visitor, visitor=visitor)
    if action != "join":
        raise ViewerError(400, "VISITOR_REQUIRED", f"no viewer: send join first (it sets the {VISITOR_COOKIE} "
                                                   f"cookie), or the signed visitor id in {VISITOR_HEADER}")
    return Viewer(id=new_visitor_id(), issued=True)


# ---------------------------------------------------------------------- rate limits


def _check_rate(scope: str, key: str, limit: int, window: int) -> None:
    """A fixed window counter in Django's cache (atomic add/incr on Redis; locmem counts per process)."""
    at = now().timestamp()
    slot = int(at // window)
    name = f"livedist:rate:{scope}:{_digest(key)}:{slot}"
    try:
        count = _count(name, window + 1, usually_new=scope == "viewer")
    except Exception:  # the cache is down: viewers keep watching unlimited rather than all refused
        logger.warning("livedist viewer rate limit skipped: the cache is unavailable", exc_info=True)
        return
    if count > limit:
        retry_after = max(1, math.ceil((slot + 1) * window - at))
        per = "viewer" if scope == "viewer" else "client address"
        raise ViewerError(429, "RATE_LIMITED", f"too many requests for this {per} (at most {limit} per {window} s); "
                                               f"nothing was recorded, retry in {retry_after} s", retry_after)


def _count(name: str, timeout: int, usually_new: bool) -> int:
    """Add one to a counter; the cheaper call first (each cache call is a round trip, and Django's Redis backend
    builds a client for each): a viewer's counter is usually new in its window, an address's usually is not."""
    if usually_new and cache.add(name, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # not there (yet, or any more)
        return 1 if cache.add(name, 1, timeout=timeout) else cache.incr(name)


def _digest(*parts: str) -> str:
    return hashlib.blake2b(json.dumps(parts).encode(), digest_size=12).hexdigest()


# ---------------------------------------------------------------------- recording


@dataclass
class Tab:
    """One viewer's tab on one live, and what the inbox holds for it: joins, leaves, this window's heartbeat."""

    key: str  # a digest of (live, viewer, tab): bounded, and no separator in an id can make two tabs collide
    live: str
    viewer: str
    joins: int = 0
    leaves: int = 0
    beat: bool = False

    @classmethod
    def of(cls, live: str, viewer: str, tab: str) -> Tab:
        return cls(_digest(live, viewer, tab), live, viewer)

    @property
    def open(self) -> bool:
        return self.joins > self.leaves

    def event(self, kind: str, step: str, at: datetime) -> dict[str, Any]:
        return {"id": f"lv:{self.key}:{step}", "type": kind, "at": at.isoformat(), "live": self.live,
                "viewer": self.viewer}


def record(wanted: ViewerRequest, viewer: Viewer) -> Outcome:
    """Hand off the events for one request. Per tab (live, viewer, tab) the endpoint keeps sessions in the
    inbox itself: join N opens session N, leave N closes it. A repeated join or leave is a no-op; a heartbeat
    on a tab that never joined is its join; a heartbeat after the tab's leave is late and dropped, so it cannot
    reopen the watch. Each tab is locked while deciding, so a heartbeat racing its leave cannot slip past it."""
    live = _on_air_live(wanted.live)
    previous = viewer.visitor if viewer.signed_in else None  # who this tab may have been before signing in
    with transaction.atomic():
        stitched = previous is not None and _stitch(previous, viewer.id)
        tab = Tab.of(live, viewer.id, wanted.tab)
        tabs = [tab] if previous is None else [tab, Tab.of(live, previous, wanted.tab)]
        _lock(tabs)
        at = now()  # read after the lock: a tab's events are dated in the order they are kept
        _read_sessions(tabs, at)
        # signed in mid-session: the anonymous session of this tab ends where the customer's begins
        events = [other.event("live.left", f"l{other.joins}", at) for other in tabs[1:] if other.open]
        mine = _act(wanted.action, tab, at)
        events += [mine] if mine is not None else []
        if events:
            _keep(events)
        if events or stitched:
            _schedule_processing()
    return Outcome(recorded=mine is not None, watched_seconds=watched_seconds(live, viewer.id, now()))


def _act(action: str, tab: Tab, at: datetime) -> dict[str, Any] | None:
    """The event this request adds, or None when it adds nothing."""
    if action == "join":
        return None if tab.open else tab.event("live.joined", f"j{tab.joins + 1}", at)
    if action == "leave":
        return tab.event("live.left", f"l{tab.joins}", at) if tab.open else None
    if tab.joins == 0:  # a heartbeat implies presence: it is this tab's join
        return tab.event("live.joined", "j1", at)
    if not tab.open or tab.beat:  # late (this tab already left), or this window's heartbeat again
        return None
    return tab.event("live.heartbeat", _heartbeat_step(at), at)


def _heartbeat_step(at: datetime) -> str:
    return f"h{int(at.timestamp() // HEARTBEAT_SECONDS)}"


# The reads below are plain SQL: on this path the ORM's query building costs more than the queries (a primary
# key lookup: 0.6 ms through a queryset, 0.08 ms as SQL, on the benchmark machine).
LIVE_SQL = f"SELECT started_at, ended_at FROM {Live._meta.db_table} WHERE id = %s"
SESSIONS_SQL = f"SELECT event_id FROM {InboxEvent._meta.db_table} WHERE event_id = ANY(%s)"  # + OR ... LIKE
WATCH_SQL = (f"SELECT seconds, active_since FROM {Watch._meta.db_table} WHERE live = %s AND viewer = "
             f"COALESCE((SELECT customer FROM {Alias._meta.db_table} WHERE visitor = %s), %s)")


def _select(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _on_air_live(live_id: str) -> str:
    rows = _select(LIVE_SQL, [live_id])
    row = rows[0] if rows else None
    if row is None:
        raise ViewerError(404, "LIVE_NOT_FOUND", f"there is no live {live_id!r}")
    started_at, ended_at = row
    at = now()
    if ended_at is not None and ended_at <= at:
        raise ViewerError(409, "LIVE_ENDED", f"live {live_id!r} has ended; nothing was recorded")
    if started_at is None or started_at > at:
        raise ViewerError(409, "LIVE_NOT_STARTED", f"live {live_id!r} is not on air yet; nothing was recorded")
    return live_id


def _lock(tabs: list[Tab]) -> None:
    with connection.cursor() as cursor:
        for key in sorted({tab.key for tab in tabs}):  # one order everywhere: no deadlock
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, int(key[:8], 16) - 2 ** 31])


def _read_sessions(tabs: list[Tab], at: datetime) -> None:
    """One query: every join and leave of the tabs, and whether this window's heartbeat is kept already."""
    beats = [f"lv:{tab.key}:{_heartbeat_step(at)}" for tab in tabs]
    prefixes = [f"lv:{tab.key}:{step}%" for tab in tabs for step in "jl"]  # hex keys: nothing to escape
    by_key = {tab.key: tab for tab in tabs}
    for (event_id,) in _select(SESSIONS_SQL + " OR event_id LIKE %s" * len(prefixes), [beats, *prefixes]):
        _, key, step = event_id.split(":")
        tab = by_key[key]
        if step[0] == "j":
            tab.joins = max(tab.joins, int(step[1:]))
        elif step[0] == "l":
            tab.leaves = max(tab.leaves, int(step[1:]))
        else:
            tab.beat = True


def _keep(events: list[dict[str, Any]]) -> None:
    """Into the inbox in one statement. Not processing.submit (a lookup and two savepoints per event): under
    the tab's lock these ids are known to be new; ON CONFLICT keeps any id once all the same."""
    rows = []
    for raw in events:
        event = parse_event(raw)
        rows.append(InboxEvent(event_id=event.id, type=event.type, at=event.at, payload=raw))
    InboxEvent.objects.bulk_create(rows, ignore_conflicts=True)


def _stitch(visitor: str, customer: str) -> bool:
    """A signed-in viewer still carrying a visitor id: that visitor is them. Once per pair: the event id says
    so, and a note in the cache spares the inbox a lookup on every later request."""
    note = f"livedist:stitched:{_digest(visitor, customer)}"
    if cache.get(note):
        return False
    created = processing.submit({"id": f"stitch:{visitor}:{customer}", "type": "customer.registered",
                                 "at": now().isoformat(), "customer": customer, "visitor": visitor}, process=False)
    transaction.on_commit(lambda: cache.set(note, 1, timeout=STITCH_NOTE_SECONDS))
    return created


def watched_seconds(live: str, viewer: str, at: datetime) -> int:
    """The engine's watch time for this viewer as processed so far (a stitched visitor's is their customer's)."""
    total = 0.0
    for seconds, active_since in _select(WATCH_SQL, [live, viewer, viewer]):
        total += seconds + (max(0.0, (at - active_since).total_seconds()) if active_since else 0.0)
    return int(total)


# ---------------------------------------------------------------------- processing


_schedule_lock = threading.Lock()
_next_schedule = 0.0


def _schedule_processing() -> None:
    """Without a broker (sandbox, tests): process inline after commit. With Celery: one task per process per
    SCHEDULE_SECONDS, counted down so it drains everything kept meanwhile; a heartbeat per task would flood
    the workers on a busy live. The periodic inbox sweep catches anything left."""
    from .tasks import broker_configured

    if not broker_configured():
        processing.schedule()
        return
    global _next_schedule
    with _schedule_lock:
        clock = time.monotonic()
        if clock < _next_schedule:
            return
        _next_schedule = clock + SCHEDULE_SECONDS
    transaction.on_commit(_enqueue)


def _enqueue() -> None:
    from .tasks import process_events

    try:
        process_events.apply_async(countdown=SCHEDULE_SECONDS, retry=False)
    except Exception:  # the events wait in the inbox for the periodic sweep
        logger.exception("could not enqueue livedist processing; the periodic sweep will pick it up")
