"""The viewer endpoint (POST viewer/): a live's join, heartbeat and leave, turned into live.* events dated by
the server's clock, with ids that make a retried or replayed request harmless, rate-limited per viewer and per
client IP. Contract and limits: docs/events.md, "The viewer endpoint".

This module is the contract both ways of serving it share (parsing, who the viewer is, what a request adds to
its tab, a request waiting for its batch, CORS, the answer). The Django view is view.py, the lean WSGI
application app.py; both record through batch.py (one transaction for many requests), which counts through
limits.py."""
from __future__ import annotations

import _thread
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..distribution.links import VISITOR_COOKIE, LinkError, new_visitor_id, read_visitor, sign_visitor
from ..exceptions import LiveDistError
from ..identity import of_user

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
VERIFIED_CACHE_SIZE = 65536  # signed visitor ids remembered as verified, per process (about 10 MB)
DIGEST_CACHE_SIZE = 65536  # tab keys and counter names remembered, per process (about 10 MB)
LOCK_CLASS = 0x7669  # first key of the per-tab advisory locks (two-key space: never the processing lock)

Authenticator = Callable[[HttpRequest], Any]


def now() -> datetime:
    """The server's clock: every event's `at` comes from here, never from the client (tests replace it)."""
    return timezone.now()


class ViewerError(LiveDistError, ValueError):
    """A request refused with an HTTP status and a stable code; nothing was recorded. A refusal made on the
    batch thread carries a lazy message and its `params`, put in words in the request's language when read."""

    def __init__(self, status: int, code: str, message: Any, retry_after: int | None = None,
                 params: dict[str, Any] | None = None):
        self.status, self.code, self.retry_after, self.params = status, code, retry_after, params
        super().__init__(message)

    def __str__(self) -> str:
        message = str(self.args[0])
        return message % self.params if self.params is not None else message

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": str(self)}
        if self.retry_after is not None:
            error["retryAfter"] = self.retry_after
        return {"errors": [error]}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.payload(), status=self.status)
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


def _held_lock() -> Any:
    lock = _thread.allocate_lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class Pending:
    """One validated request waiting for its batch; `result` is its answer once `done` is released. (A bare
    lock, not a threading.Event: the Event's Python-level Condition cost a fifth of a worker's time.)"""

    wanted: ViewerRequest
    viewer: Viewer
    address: str  # the client's address, for the per-IP limit
    result: Outcome | ViewerError | None = None
    done: Any = field(default_factory=_held_lock)


def too_large() -> ViewerError:
    return ViewerError(413, "TOO_LARGE", _("the body is over %(n)d bytes") % {"n": MAX_BODY_BYTES})


# ---------------------------------------------------------------------- CORS

CORS_ALLOW_HEADERS = f"Authorization, Content-Type, {VISITOR_HEADER}"
CORS_MAX_AGE = 86400


def allowed_origin(origin: str | None) -> bool:
    if not origin:
        return False
    from ..conf import get_setting

    return origin.rstrip("/").lower() in get_setting("VIEWER_ALLOWED_ORIGINS")


def cors_headers(origin: str | None) -> list[tuple[str, str]]:
    """For a call from a page of an allowed origin: that origin (never '*': calls carry cookies), with
    credentials. `Vary: Origin` always, so a cache never hands one origin's answer to another."""
    if not allowed_origin(origin):
        return [("Vary", "Origin")] if origin else []
    return [("Access-Control-Allow-Origin", str(origin)), ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "Retry-After"), ("Vary", "Origin")]


def preflight(origin: str | None) -> tuple[int, list[tuple[str, str]]]:
    """The answer to OPTIONS: 204 with what a call may send, or 403 for an origin that is not allowed."""
    if origin and not allowed_origin(origin):
        return 403, [("Vary", "Origin")]
    headers = [("Allow", "POST, OPTIONS")]
    if origin:
        headers += cors_headers(origin) + [("Access-Control-Allow-Methods", "POST, OPTIONS"),
                                           ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
                                           ("Access-Control-Max-Age", str(CORS_MAX_AGE))]
    return 204, headers


def answer(wanted: ViewerRequest, viewer: Viewer, outcome: Outcome) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ok": True, "recorded": outcome.recorded, "watchedSeconds": outcome.watched_seconds,
        "next": None if wanted.action == "leave" else HEARTBEAT_SECONDS,
    }
    if viewer.issued:
        body["visitor"] = sign_visitor(viewer.id)
    return body


def parse_request(raw: bytes) -> ViewerRequest:
    """The JSON body: {"live": id, "action": join|heartbeat|leave, "tab": id?}. Other fields (a client's
    clock, say) are ignored."""
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ViewerError(400, "INVALID", _("the body must be a JSON object")) from None
    if not isinstance(data, dict):
        raise ViewerError(400, "INVALID", _('the body must be a JSON object such as {"live": "live-1", '
                                            '"action": "heartbeat", "tab": "t1"}'))
    live, action, tab = data.get("live"), data.get("action"), data.get("tab")
    if not isinstance(live, str) or not live or len(live) > MAX_LIVE_LENGTH or _UNSTORABLE.search(live):
        raise ViewerError(400, "INVALID", _("'live' must be the id of a live (1 to %(n)d printable characters)")
                          % {"n": MAX_LIVE_LENGTH})
    if action not in ACTIONS:
        raise ViewerError(400, "INVALID", _("'action' must be one of %(actions)s, got %(action)r") % {
            "actions": ", ".join(ACTIONS), "action": action})
    if tab is not None and (not isinstance(tab, str) or len(tab) > MAX_TAB_LENGTH or _UNSTORABLE.search(tab)):
        raise ViewerError(400, "INVALID", _("'tab' must be a string of at most %(n)d printable characters")
                          % {"n": MAX_TAB_LENGTH})
    return ViewerRequest(live=live, action=action, tab=tab or "")


# Control characters (NUL above all: PostgreSQL's text cannot hold it) and unpaired surrogates (not UTF-8).
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def verified_visitor(signed: str | None) -> str | None:
    """The visitor id inside a signed value, checked before anything else: an id we did not sign is refused,
    even for a signed-in customer."""
    if not signed:
        return None
    try:
        return _read_visitor(signed)
    except LinkError:
        raise ViewerError(403, "FORBIDDEN_VISITOR", _("this visitor id is not one we issued; nothing was "
                                                      "recorded (join again without it to get a new one)")) from None


@lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _read_visitor(signed: str) -> str:
    """read_visitor, remembered: a viewer sends the same signed id every 15 s, and a signature that verified
    once always does (no expiry). Only successes are kept (an exception is not cached)."""
    return read_visitor(signed)


def viewer_of(visitor: str | None, user: Any, action: str) -> Viewer:
    """The signed-in customer, else the verified visitor, else, for a join, a new visitor id."""
    if user is not None and getattr(user, "is_active", False):
        return Viewer(id=of_user(user), visitor=visitor, signed_in=True)
    if visitor is not None:
        return Viewer(id=visitor, visitor=visitor)
    if action != "join":
        raise ViewerError(400, "VISITOR_REQUIRED", _("no viewer: send join first (it sets the %(cookie)s "
                                                     "cookie), or the signed visitor id in %(header)s") % {
            "cookie": VISITOR_COOKIE, "header": VISITOR_HEADER})
    return Viewer(id=new_visitor_id(), issued=True)


@lru_cache(maxsize=DIGEST_CACHE_SIZE)  # the same tabs, viewers and addresses come back every 15 s
def digest(*parts: str) -> str:
    return hashlib.blake2b(json.dumps(parts).encode(), digest_size=12).hexdigest()


# ---------------------------------------------------------------------- what a request adds to its tab


@dataclass(eq=False)
class Tab:
    """One viewer's tab on one live, and what the inbox holds for it: joins, leaves, this window's heartbeat.
    Per tab (live, viewer, tab) the endpoint keeps sessions in the inbox itself: join N opens session N,
    leave N closes it."""

    key: str  # a digest of (live, viewer, tab): bounded, and no separator in an id can make two tabs collide
    live: str
    viewer: str
    signed_in: bool = False  # the viewer is the signed-in customer: their events say so (guards.invitees)
    joins: int = 0
    leaves: int = 0
    beat: bool = False

    @classmethod
    def of(cls, live: str, viewer: str, tab: str, signed_in: bool = False) -> Tab:
        return cls(digest(live, viewer, tab), live, viewer, signed_in)

    @property
    def open(self) -> bool:
        return self.joins > self.leaves

    @property
    def lock_key(self) -> int:
        return int(self.key[:8], 16) - 2 ** 31

    def add(self, kind: str, step: str, at: datetime) -> dict[str, Any]:
        """The event of `step`, counted on the tab at once: the next request of the same batch on this tab
        is decided as if this one were already in the inbox."""
        if step[0] == "j":
            self.joins = int(step[1:])
        elif step[0] == "l":
            self.leaves = int(step[1:])
        else:
            self.beat = True
        event = {"id": f"lv:{self.key}:{step}", "type": kind, "at": at.isoformat(), "live": self.live,
                 "viewer": self.viewer}
        if self.signed_in:
            event["signed_in"] = True
        return event


def act(action: str, tab: Tab, at: datetime) -> dict[str, Any] | None:
    """The event this request adds, or None when it adds nothing. A repeated join or leave is a no-op; a
    heartbeat on a tab that never joined is its join; a heartbeat after the tab's leave is late and dropped,
    so it cannot reopen the watch; one heartbeat per HEARTBEAT_SECONDS window."""
    if action == "join":
        return None if tab.open else tab.add("live.joined", f"j{tab.joins + 1}", at)
    if action == "leave":
        return tab.add("live.left", f"l{tab.joins}", at) if tab.open else None
    if tab.joins == 0:  # a heartbeat implies presence: it is this tab's join
        return tab.add("live.joined", "j1", at)
    if not tab.open or tab.beat:  # late (this tab already left), or this window's heartbeat again
        return None
    return tab.add("live.heartbeat", heartbeat_step(at), at)


def hand_over(previous: Tab, at: datetime) -> dict[str, Any] | None:
    """Signed in mid-session: the anonymous session of this tab ends where the customer's begins."""
    return previous.add("live.left", f"l{previous.joins}", at) if previous.open else None


def heartbeat_step(at: datetime) -> str:
    return f"h{int(at.timestamp() // HEARTBEAT_SECONDS)}"
