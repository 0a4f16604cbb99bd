"""Group commit for the viewer endpoint: the requests of a batch are admitted (rate limits), checked against their
lives, and decided in arrival order in ONE transaction (every tab locked in one statement, every session read in
one query, every new event kept in one statement); only after the commit is any of them answered. The Django
view (view.py) records a batch of one; the lean WSGI app (app.py) hands its requests to a per-process Batcher."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from datetime import datetime
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connection, connections, transaction
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from ..core.events import parse_event
from ..core.records import WatchRecord
from ..exceptions import EventError
from ..inbox import broker, processing
from ..models import Alias, InboxEvent, Live, LiveSession, Watch
from ..rules.model import Viewing
from . import contract
from .contract import LOCK_CLASS, Outcome, Pending, Tab, Viewer, ViewerError, ViewerRequest, act, digest, hand_over
from .limits import admit

if is_psycopg3:
    import psycopg

logger = logging.getLogger(__name__)

MAX_BATCH = 256  # requests per transaction at most; more wait for the next one
WAIT_SECONDS = 10.0  # how long a request waits for its batch's commit before it is answered 503
LINGER_SECONDS = float(os.environ.get("LIVEDIST_VIEWER_LINGER", "0.004"))  # a batch gathers this long (measured best)


# ---------------------------------------------------------------------- one batch


def record_batch(batch: list[Pending]) -> None:
    """Set every request's result: an Outcome, or the ViewerError it is refused with. Raises (with nothing
    recorded) when the database fails; a result is only an Outcome once its events are committed. A request
    whose own data the database refuses fails alone: the batch is split until it is found (400 for it), and
    the others are recorded."""
    admit(batch, contract.now())
    _record_isolated([item for item in batch if item.result is None])


def _record_isolated(todo: list[Pending]) -> None:
    try:
        _record_admitted(todo)
    except Exception as exc:
        if not _data_error(exc):
            raise
        todo = [item for item in todo if item.result is None]  # refusals so far stand; nothing was kept
        if len(todo) == 1:
            logger.warning("livedist viewer endpoint: the database refused one request's data", exc_info=True)
            todo[0].result = ViewerError(400, "INVALID", gettext_lazy("this request's data cannot be stored; "
                                                                      "nothing was recorded"))
            return
        if not todo:
            return
        half = len(todo) // 2
        _record_isolated(todo[:half])
        _record_isolated(todo[half:])


def _data_error(exc: BaseException) -> bool:
    """Caused by what one request carries (a value the database or the driver cannot take), as opposed to the
    connection or the server failing, which fails the whole batch (503, retried by the clients)."""
    if isinstance(exc, (DataError, IntegrityError, UnicodeError, EventError)):
        return True
    return is_psycopg3 and isinstance(exc, (psycopg.DataError, psycopg.IntegrityError))


def _record_admitted(batch: list[Pending]) -> None:
    _check_lives(batch)
    todo = [item for item in batch if item.result is None]
    if not todo:
        return
    recorded = _decide_and_keep(todo)
    for item, kept in zip(todo, recorded):
        item.result = Outcome(recorded=kept, watched_seconds=0)  # committed: acknowledged whatever follows
    try:
        watched = watched_seconds({(item.wanted.live, item.viewer.id) for item in todo}, contract.now())
    except Exception:  # the events are kept; only the figure is missing from the answers
        logger.warning("livedist viewer endpoint: could not read watch time", exc_info=True)
        return
    for item, kept in zip(todo, recorded):
        item.result = Outcome(recorded=kept, watched_seconds=watched.get((item.wanted.live, item.viewer.id), 0))


def _decide_and_keep(todo: list[Pending]) -> list[bool]:
    """Each request's events, decided in arrival order on its tab as the inbox holds it (plus this batch's
    earlier requests), under every tab's lock, so a heartbeat racing its tab's leave in another batch or
    process cannot slip past it. Returns whether each request added its own event."""
    tabs: dict[str, Tab] = {}
    plans = [_tabs_of(item, tabs) for item in todo]
    with transaction.atomic():
        _lock(tabs.values())
        at = contract.now()  # read after the locks: a tab's events are dated in the order they are kept
        _read_sessions(tabs.values(), at)
        events: list[dict[str, Any]] = []
        recorded = []
        for item, (mine, previous) in zip(todo, plans):
            left = hand_over(previous, at) if previous is not None else None
            event = act(item.wanted.action, mine, at)
            events += [e for e in (left, event) if e is not None]
            recorded.append(event is not None)
        stitches = _stitches(todo, at)
        if _keep(stitches + events):
            _schedule_processing()
    return recorded


def _tabs_of(item: Pending, tabs: dict[str, Tab]) -> tuple[Tab, Tab | None]:
    """The request's tab, and for a signed-in viewer still carrying a visitor id, that visitor's same tab
    (the one this tab may have been before signing in). One Tab object per key in a batch."""
    wanted, viewer = item.wanted, item.viewer
    mine = Tab.of(wanted.live, viewer.id, wanted.tab, viewer.signed_in)
    mine = tabs.setdefault(mine.key, mine)
    if not viewer.signed_in or viewer.visitor is None:
        return mine, None
    previous = Tab.of(wanted.live, viewer.visitor, wanted.tab)
    return mine, tabs.setdefault(previous.key, previous)


# The statements below are plain SQL: on this path the ORM's query building costs more than the queries. Each
# takes one JSON array (one element per request, tab or event: json.dumps is C, a driver's array adapter is
# Python) and looks every element up by index through LATERAL (a nested loop whatever the statistics say: a
# fresh table's guesses made the planner hash-join whole tables).
INBOX, LIVES, WATCHES, ALIASES, SESSIONS = (model._meta.db_table for model in (InboxEvent, Live, Watch, Alias,
                                                                              LiveSession))
# Usually one live. The engine's live, else the session staff run: a live is on air from the second liveStart
# commits, before a worker has applied its live.started (viewers arriving then are not turned away; their events
# are kept after live.started in the inbox, so the engine sees them on air too).
LIVES_SQL = (f"SELECT k.id, COALESCE(l.started_at, s.actual_start), COALESCE(l.ended_at, s.actual_end) "
             f"FROM unnest(%s::text[]) AS k(id) LEFT JOIN {LIVES} AS l ON l.id = k.id "
             f"LEFT JOIN {SESSIONS} AS s ON s.id = k.id WHERE l.id IS NOT NULL OR s.id IS NOT NULL")
# The locks in the array's order; and no JIT for the rest of the transaction: the planner's guesses for the
# lookups below (100 rows per JSON array, a default share of the inbox per range) can pass jit_above_cost on a
# large inbox, and compiling costs far more than these index lookups (15 ms, measured).
LOCK_SQL = ("SELECT set_config('jit', 'off', true), count(pg_advisory_xact_lock(%s, k::int)) "
            "FROM json_array_elements_text(%s::json) AS k")
# Per tab key, one range: this window's heartbeat (lv:<key>:h<window>), then the joins (lv:<key>:j<n>) and leaves
# (lv:<key>:l<n>), all below lv:<key>:m; the pattern operators use the event_id index Django made for LIKE.
SESSIONS_SQL = (f"SELECT s.event_id FROM json_array_elements_text(%s::json) AS t(k) CROSS JOIN LATERAL ("
                f"SELECT event_id FROM {INBOX} WHERE event_id::text ~>=~ ('lv:' || t.k || ':' || %s) "
                f"AND event_id::text ~<~ ('lv:' || t.k || ':m') OFFSET 0) AS s")
KEEP_SQL = (f"INSERT INTO {INBOX} (event_id, type, at, payload, received_at, status, attempts, error) "
            f"SELECT e->>'id', e->>'type', (e->>'at')::timestamptz, e, %s, %s, 0, '' "
            f"FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY x.n "
            f"ON CONFLICT (event_id) DO NOTHING RETURNING event_id")
WATCH_SQL = (f"SELECT v.live, v.viewer, w.seconds, w.active_since, w.last_seen, w.spans FROM (SELECT p->>0 AS "
             f"live, p->>1 AS viewer FROM json_array_elements(%s::json) AS p) AS v CROSS JOIN LATERAL (SELECT "
             f"seconds, active_since, last_seen, spans::text "
             f"FROM {WATCHES} WHERE live = v.live AND viewer = COALESCE((SELECT customer FROM {ALIASES} "
             f"WHERE visitor = v.viewer), v.viewer) LIMIT 1) AS w")


def _select(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one statement on Django's connection (in its transaction, if any). With psycopg 3, through a plain
    psycopg cursor: the parameters travel apart from the SQL, in binary, instead of being quoted into it as
    Django's client-side binding cursor does (its escaping cost more than the statement)."""
    if not is_psycopg3:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    connection.ensure_connection()
    wrapper, raw = connections[DEFAULT_DB_ALIAS], connection.connection
    cursor = _cursors.get(wrapper)
    if cursor is None or cursor.closed or cursor.connection is not raw:  # reconnected since
        cursor = _cursors[wrapper] = psycopg.Cursor(raw)  # kept: a new cursor looks every adapter up again
    cursor.execute(_binary(sql), params)
    return cursor.fetchall() if cursor.description else []


# Django's connection wrapper (one per thread) -> a cursor on its current connection. Keyed by the wrapper, not
# the psycopg connection: the cursor refers to that, and would keep a closed one alive.
_cursors: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


@cache
def _binary(sql: str) -> str:
    return sql.replace("%s", "%b")  # parameters in binary: no escaping of every array element either


def _check_lives(batch: list[Pending]) -> None:
    """Refuse the requests for a live that does not exist or is not on air (one query for the batch)."""
    if not batch:
        return
    lives = list({item.wanted.live for item in batch})
    found = {live: (started, ended) for live, started, ended in _select(LIVES_SQL, [lives])}
    at = contract.now()
    for item in batch:
        live = item.wanted.live
        if live not in found:
            item.result = ViewerError(404, "LIVE_NOT_FOUND", gettext_lazy("there is no live %(live)r"), params={
                "live": live})
            continue
        started_at, ended_at = found[live]
        if ended_at is not None and ended_at <= at:
            item.result = ViewerError(409, "LIVE_ENDED", gettext_lazy("live %(live)r has ended; nothing was "
                                                                      "recorded"), params={"live": live})
        elif started_at is None or started_at > at:
            item.result = ViewerError(409, "LIVE_NOT_STARTED", gettext_lazy(
                "live %(live)r is not on air yet; nothing was recorded"), params={"live": live})


def _lock(tabs: Any) -> None:
    """Every tab's lock in one statement, in one order everywhere (ascending keys): no deadlock between
    batches, processes, or the Django view's batches of one."""
    keys = sorted({tab.lock_key for tab in tabs})
    _select(LOCK_SQL, [LOCK_CLASS, json.dumps(keys)])


def _read_sessions(tabs: Any, at: datetime) -> None:
    """One query: every join and leave of the tabs, and whether this window's heartbeat is kept already."""
    by_key = {tab.key: tab for tab in tabs}
    beat = contract.heartbeat_step(at)
    for (event_id,) in _select(SESSIONS_SQL, [json.dumps(list(by_key)), beat]):
        _, key, step = event_id.split(":")
        tab = by_key[key]
        if step[0] == "j":
            tab.joins = max(tab.joins, int(step[1:]))
        elif step[0] == "l":
            tab.leaves = max(tab.leaves, int(step[1:]))
        elif step == beat:  # (a later window's, from a clock that ran ahead, sorts in the range too)
            tab.beat = True


def _keep(events: list[dict[str, Any]]) -> int:
    """Into the inbox in one statement, in this order (processing follows it); returns how many were new.
    Not processing.submit (a lookup and two savepoints per event): under the tabs' locks these ids are known
    to be new; ON CONFLICT keeps any id once all the same. The events are built here, but each still goes
    through the parser, so nothing the engine would refuse is kept: an EventError fails only its request (the
    batch is split until it is found)."""
    if not events:
        return 0
    parsed = {event["id"]: parse_event(event) for event in events}
    kept = _select(KEEP_SQL, [timezone.now(), InboxEvent.PENDING, json.dumps(events)])
    new = {event_id for event_id, in kept}
    processing.route_kept([(i, e) for i, e in parsed.items() if i in new])  # with partitions: their routes
    return len(kept)


def _stitches(todo: list[Pending], at: datetime) -> list[dict[str, Any]]:
    """A signed-in viewer still carrying a visitor id: that visitor is them. Once per pair: the event id says
    so, and a note in the cache spares the inbox a write on every later request. Sorted by id, so that two
    batches handing off the same pairs wait for each other in one order."""
    pairs = sorted({(item.viewer.visitor, item.viewer.id) for item in todo
                    if item.viewer.signed_in and item.viewer.visitor is not None})
    if not pairs:
        return []
    cache = caches["default"]
    notes = {pair: f"livedist:stitched:{digest(*pair)}" for pair in pairs}
    noted = cache.get_many(list(notes.values()))
    fresh = [pair for pair in pairs if notes[pair] not in noted]
    if fresh:
        transaction.on_commit(lambda: cache.set_many({notes[pair]: 1 for pair in fresh},
                                                     timeout=contract.STITCH_NOTE_SECONDS))
    return [{"id": f"stitch:{visitor}:{customer}", "type": "customer.registered", "at": at.isoformat(),
             "customer": customer, "visitor": visitor} for visitor, customer in fresh]


def watched_seconds(pairs: set[tuple[str, str]], at: datetime) -> dict[tuple[str, str], int]:
    """The engine's watch time of each (live, viewer) as processed so far (a stitched visitor's is their
    customer's), in one query."""
    totals: dict[tuple[str, str], float] = {}
    silent = silent_after_seconds()
    for live, viewer, seconds, active_since, last_seen, spans in _select(WATCH_SQL, [json.dumps(sorted(pairs))]):
        watch = WatchRecord(live, viewer, 1, active_since, seconds, last_seen, spans=tuple(json.loads(spans)))
        totals[(live, viewer)] = totals.get((live, viewer), 0.0) + watch.watched_seconds(at, silent)
    return {pair: int(total) for pair, total in totals.items()}


_silent: tuple[float, float] = (float(Viewing.silent_after_seconds), 0.0)  # (seconds, when to read the rules again)
SILENT_REREAD_SECONDS = 60.0


def silent_after_seconds() -> float:
    """The rules' viewing.silent_after_seconds, read from the rule files at most once a minute per process (the
    loader alone: this process need not build the rule backends the engine evaluates with)."""
    global _silent
    value, until = _silent
    clock = time.monotonic()
    if clock < until:
        return value
    try:
        from ..conf import get_setting
        from ..rules.loader import default_rules_dir, load_rules

        value = float(load_rules(get_setting("RULES_DIR") or default_rules_dir()).viewing.silent_after_seconds)
    except Exception:  # rules being edited: the last value read (the engine keeps its last good version too)
        logger.warning("could not read viewing.silent_after_seconds; using %s s", value, exc_info=True)
    _silent = (value, clock + SILENT_REREAD_SECONDS)
    return value


# ---------------------------------------------------------------------- processing


_schedule_lock = threading.Lock()
_next_schedule = 0.0


def _schedule_processing() -> None:
    """Without a broker (sandbox, tests): process inline after commit. With Celery: one task per process per
    SCHEDULE_SECONDS, counted down so it drains everything kept meanwhile; a heartbeat per task would flood
    the workers on a busy live. The periodic inbox sweep catches anything left."""
    if not broker.broker_configured():
        processing.schedule()
        return
    global _next_schedule
    with _schedule_lock:
        clock = time.monotonic()
        if clock < _next_schedule:
            return
        _next_schedule = clock + contract.SCHEDULE_SECONDS
    transaction.on_commit(_enqueue)


def _enqueue() -> None:
    # (with partitions, one task per partition: the batches of this second went to any of them)
    if not processing.publish_processing(None, countdown=contract.SCHEDULE_SECONDS):  # the events wait for the sweep
        logger.warning("livedist processing not enqueued; the periodic sweep will pick the events up")


# ---------------------------------------------------------------------- the batcher


class Batcher:
    """A process's group commit: request threads queue their validated requests and wait; one thread takes
    everything queued (up to MAX_BATCH) and records it with record_batch on its own database connection, so
    while one batch commits the next one gathers. Nothing is answered before its batch's commit; a batch that
    fails is answered 503 with nothing recorded (retrying is harmless: ids are deterministic)."""

    def __init__(self, max_batch: int = MAX_BATCH, wait_seconds: float = WAIT_SECONDS,
                 linger_seconds: float | None = None):
        self.max_batch, self.wait_seconds = max_batch, wait_seconds
        self.linger_seconds = LINGER_SECONDS if linger_seconds is None else linger_seconds
        self.batches = self.requests = self.largest = 0  # for tests and the bench
        self._fork_lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._ready = threading.Condition()
        self._queue: deque[Pending] = deque()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closing = False

    def record(self, wanted: ViewerRequest, viewer: Viewer, address: str) -> Outcome:
        """Queue one request and wait for its batch's commit; raises the ViewerError it is refused with."""
        item = Pending(wanted, viewer, address)
        self.submit(item)
        if not item.done.acquire(timeout=self.wait_seconds):
            raise ViewerError(503, "UNAVAILABLE", _("the server is too busy to confirm this request in time; it "
                                                    "may or may not be recorded, and sending it again is harmless"))
        if isinstance(item.result, ViewerError):
            raise item.result
        assert item.result is not None
        return item.result

    def submit(self, item: Pending) -> None:
        if self._pid != os.getpid():  # forked (a gunicorn worker): the thread stayed in the parent
            with self._fork_lock:
                if self._pid != os.getpid():
                    self._reset()
        with self._ready:
            if self._closing:
                raise ViewerError(503, "UNAVAILABLE", _("the server is shutting down; nothing was recorded"))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="livedist-viewer-batcher", daemon=True)
                self._thread.start()
            self._queue.append(item)
            self._ready.notify()

    def close(self, timeout: float = 10.0) -> None:
        """Record what is queued, then stop the thread (it closes its database connection)."""
        with self._ready:
            self._closing = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                with self._ready:
                    while not self._queue and not self._closing:
                        self._ready.wait()
                    if not self._queue:
                        return
                if self.linger_seconds and len(self._queue) < self.max_batch:
                    time.sleep(self.linger_seconds)  # the requests being parsed right now join this batch
                with self._ready:
                    batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                self._record(batch)
        finally:
            connection.close()  # this thread's own connection

    def _record(self, batch: list[Pending]) -> None:
        self.batches += 1
        self.requests += len(batch)
        self.largest = max(self.largest, len(batch))
        try:
            record_batch(batch)
        except Exception:
            logger.exception("livedist viewer endpoint: a batch of %d requests failed; nothing was recorded",
                             len(batch))
            for item in batch:
                if item.result is None:
                    item.result = ViewerError(503, "UNAVAILABLE", gettext_lazy("the database is unavailable; "
                                                                               "nothing was recorded, send it again"))
            try:
                connection.close()  # the next batch starts on a fresh connection
            except Exception:
                pass
        finally:
            for item in batch:
                item.done.release()
