"""Events in, exactly once: hooks and endpoints `submit` events to the inbox; `process_pending` applies them
with the engine on PostgreSQL.

Why it is exactly once:
- the inbox has a unique event id, so the same event handed off twice is stored once;
- processing runs in one transaction per batch, holding a transaction-level advisory lock, so two workers
  never interleave (the engine is a single writer; workers take turns, none waits on a hook);
- the engine's own processed-event table is written in that same transaction, so a worker killed between
  evaluating and writing leaves nothing behind and the batch is simply processed again;
- an event that fails is isolated (the batch is re-run one event per transaction), recorded on its inbox row
  with the error, retried with backoff, and after MAX_ATTEMPTS left as `failed` for the merchant to see and
  re-run; a database error that the data caused (SQLSTATE classes 22, 23 and 54: a value out of range, a
  constraint, a limit) isolates the event the same way, failed at once, and the rest go on; any other
  database error (connection lost, server restarting) is not the events' fault and goes back to the caller
  (Celery retries the task);
- a redelivered task message (the worker died) is processed carefully: one event per transaction, its
  attempt committed first, so an event that kills the worker every time ends up `failed`, not in a loop.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import traceback
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, InterfaceError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..core.engine import Engine
from ..core.events import MAX_EVENT_BYTES, Event, parse_event, same_event
from ..db import schemas
from ..db.published_tasks import OVERLAY
from ..db.store import DbStore
from ..exceptions import EventError
from ..models import InboxEvent, RuleVersion
from ..rules.provider import DirectoryRules
from . import broker

logger = logging.getLogger(__name__)

LOCK_KEY = 0x11FED157  # the advisory lock that makes the engine a single writer
MAX_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 10  # a failed event waits 10 s, then 40 s, before its next try
BATCH = 2000  # events per transaction: larger batches amortize the round trips (bench/bench_db.py)

_rules_lock = threading.Lock()
# One per schema (App mode keeps each Saleor's tables in its own): the overlay of tasks staff published is
# read from the schema's tables, so one schema's rules must never serve another's events.
_rules: dict[str, DirectoryRules] = {}


def rules_source() -> DirectoryRules:
    """The process's rules, hot-reloaded from the RULES_DIR setting; each new version is recorded."""
    with _rules_lock:
        source = _rules.get(schemas.current())
        if source is None:
            from ..conf import get_setting
            from ..rules.loader import default_rules_dir

            source = _rules[schemas.current()] = DirectoryRules(
                get_setting("RULES_DIR") or default_rules_dir(), get_setting("ENGINE"), overlay=OVERLAY)
        return source


def reset_rules_source() -> None:
    """Forget the process's rules (tests, and after settings change)."""
    with _rules_lock:
        for source in _rules.values():
            source.close()
        _rules.clear()


def record_rule_version(source: DirectoryRules) -> None:
    active = source.current()
    # The texts the version was loaded from (not re-read: a file edited meanwhile would not match the hash).
    texts = {name: active.texts.get(name, b"").decode("utf-8", "replace") for name in active.ruleset.files}
    RuleVersion.objects.update_or_create(version=active.version, defaults={"files": texts, "active": True})
    RuleVersion.objects.exclude(version=active.version).filter(active=True).update(active=False)
    if source.problems:
        # A stable key (hash() of a str differs between processes), so each rejected change is kept once.
        digest = hashlib.sha256("\n".join(str(p) for p in source.problems).encode()).hexdigest()
        key = "rejected-" + digest[:16]
        RuleVersion.objects.get_or_create(version=key, defaults={"files": {}, "problems": [
            p.render() for p in source.problems]})


_recorded: set[tuple[str, int, str]] = set()


def _record_once(source: DirectoryRules) -> None:
    """Keep each rules version (and each rejected change) in RuleVersion the first time a process uses it
    (in each schema)."""
    key = (source.current().version, len(source.problems), schemas.current())
    if key not in _recorded:
        record_rule_version(source)
        _recorded.add(key)


# ---------------------------------------------------------------------- submitting


def submit(raw: dict[str, Any], process: bool = True) -> bool:
    """Keep one event (a dict in the docs/events.md vocabulary) in the inbox and schedule its processing.

    Returns False if an event with that id was already submitted. Raises EventError for a malformed event,
    before anything is stored."""
    event = parse_event(raw)
    if len(json.dumps(raw, default=str)) > MAX_EVENT_BYTES:
        raise EventError(f"event {event.id}: longer than {MAX_EVENT_BYTES} bytes")
    created = _store(event, raw)
    if created and process:
        schedule()
    return created


def _store(event: Event, raw: dict[str, Any]) -> bool:
    try:
        with transaction.atomic():
            row, created = InboxEvent.objects.get_or_create(
                event_id=event.id, defaults={"type": event.type, "at": event.at, "payload": raw})
    except IntegrityError:  # submitted concurrently by another request
        return False
    if not created:
        _check_same(row, event, raw)
    return created


def _check_same(row: InboxEvent, event: Event, raw: dict[str, Any]) -> None:
    """A second event with a used id and a different body is never dropped silently: it is kept beside the
    first as a failed row, visible in the admin with the reason, and not applied. A first row the parser now
    refuses (kept before its limits were this strict) is a different body too: it failed, and the new event
    must not vanish behind it."""
    try:
        first: Event | None = parse_event(row.payload)
    except EventError:
        first = None
    if first is not None and same_event(first, event):
        return
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    error = (f"refused: event id {event.id!r} was already used by an event with a different body (received "
             f"{row.received_at.isoformat()}); this one was not applied. Give it its own id and submit it again.")
    logger.warning("livedist event %s: a different event with the same id was refused", event.id)
    with transaction.atomic():
        InboxEvent.objects.get_or_create(
            event_id=f"{event.id[:200]}~conflict~{digest}",
            defaults={"type": event.type, "at": event.at, "payload": raw, "status": InboxEvent.FAILED,
                      "error": error, "attempts": MAX_ATTEMPTS, "processed_at": timezone.now()})


def schedule() -> None:
    """After the current transaction commits: a Celery task when a broker is configured, else inline."""
    if broker.broker_configured():
        def enqueue() -> None:
            if not broker.publish(broker.PROCESS_EVENTS):  # never stalls a request on a broker that is down
                logger.warning("livedist processing not enqueued; the periodic sweep will pick the events up")

        transaction.on_commit(enqueue)
    else:
        transaction.on_commit(lambda: process_pending())


# ---------------------------------------------------------------------- processing


class Busy(Exception):
    """Another worker holds the processing lock (it drains the inbox; try again shortly)."""


def lock_key() -> int:
    """The processing lock of the current schema: the engine is a single writer per set of tables, so App mode's
    instances, each in its own schema, are processed side by side."""
    schema = schemas.current()
    return LOCK_KEY if not schema else (LOCK_KEY << 32) | zlib.crc32(schema.encode())


def _lock(wait: bool = True) -> None:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key()])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key()])
        if not cursor.fetchone()[0]:
            raise Busy()


def _pending() -> Any:
    return InboxEvent.objects.filter(status=InboxEvent.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))


def process_pending(limit: int = BATCH, rounds: int = 1000, wait: bool = True, careful: bool = False) -> int:
    """Process pending inbox events until none is due, a batch per transaction. Returns events applied.

    wait=False: raise Busy at once if another worker holds the lock (Celery tasks retry shortly instead of
    occupying a worker slot). careful=True: one event per transaction, its attempt counted and committed
    before it is applied, so an event that crashes the worker itself ends up `failed`, not in a loop."""
    done = 0
    for _ in range(rounds):
        applied, more = _process_one_by_one(limit, wait) if careful else _process_batch(limit, wait)
        done += applied
        if not more:
            break
    return done


def _process_batch(limit: int, wait: bool) -> tuple[int, bool]:
    try:
        with transaction.atomic():
            _lock(wait)
            rows = list(_pending().select_for_update().order_by("received_at", "id")[:limit])
            if not rows:
                return 0, False
            events, bad = _parse(rows)
            apply(events, from_inbox=True)
            now = timezone.now()
            _pending().filter(id__in=[r.id for r in rows if r.id not in bad]).update(
                status=InboxEvent.DONE, processed_at=now, error="")
            for row_id, error in bad.items():
                InboxEvent.objects.filter(id=row_id).update(status=InboxEvent.FAILED, error=error,
                                                            attempts=MAX_ATTEMPTS, processed_at=now)
            return len(events), len(rows) == limit
    except Busy:
        raise
    except DatabaseError as exc:
        if not caused_by_data(exc):
            raise  # not the events' fault: the caller (a Celery task) retries with backoff
        logger.warning("the database refused a batch of livedist events; re-running it one event at a time",
                       exc_info=True)
        return _process_one_by_one(limit, wait)
    except Exception:
        logger.warning("a batch of livedist events failed; re-running it one event at a time", exc_info=True)
        return _process_one_by_one(limit, wait)


def _parse(rows: Sequence[InboxEvent]) -> tuple[list[Event], dict[int, str]]:
    events, bad = [], {}
    for row in rows:
        try:
            events.append(parse_event(row.payload))
        except EventError as exc:
            bad[row.id] = f"invalid event: {exc}"
    return events, bad


def apply(events: Sequence[Event], now: datetime | None = None, source: Any = None,
          from_inbox: bool = False) -> Engine:
    """Apply events with the engine on the database, inside the caller's transaction (which must hold the
    processing lock). Returns the engine (for its notices). from_inbox: the events are pending inbox rows
    locked by the caller, which marks them done in the same transaction."""
    if source is None:
        source = rules_source()
        _record_once(source)
    store = DbStore(inbox_dedupes=from_inbox)
    store.prefetch(events)
    engine = Engine(store, source)
    for event in events:
        engine.process(event)
    if now is not None:
        engine.settle(now)
    store.flush()
    return engine


def _process_one_by_one(limit: int, wait: bool) -> tuple[int, bool]:
    ids = list(_pending().order_by("received_at", "id").values_list("id", flat=True)[:limit])
    applied = 0
    for row_id in ids:
        if not _count_attempt(row_id):
            continue
        try:
            with transaction.atomic():
                _lock(wait)
                row = InboxEvent.objects.select_for_update().get(id=row_id)
                if row.status != InboxEvent.PENDING:
                    continue
                apply([parse_event(row.payload)], from_inbox=True)
                row.status, row.processed_at, row.error, row.next_attempt_at = (
                    InboxEvent.DONE, timezone.now(), "", None)
                row.save(update_fields=["status", "processed_at", "error", "next_attempt_at"])
                applied += 1
        except Busy:
            raise
        except DatabaseError as exc:
            if not caused_by_data(exc):
                raise
            _record_failure(row_id, exc, final=True)  # the same data fails the same way every time
        except Exception as exc:
            _record_failure(row_id, exc)
    return applied, len(ids) == limit


def _count_attempt(row_id: int) -> bool:
    """Count the attempt in its own committed transaction before trying; False if the event is out of tries
    (it is marked failed: a worker died on it MAX_ATTEMPTS times)."""
    with transaction.atomic():
        row = InboxEvent.objects.select_for_update().filter(id=row_id, status=InboxEvent.PENDING).first()
        if row is None:
            return False
        if row.attempts >= MAX_ATTEMPTS:
            row.status = InboxEvent.FAILED
            row.error = row.error or "the worker stopped while applying this event, every time it tried"
            row.save(update_fields=["status", "error"])
            logger.error("livedist event %s is left failed after %d attempts", row.event_id, row.attempts)
            return False
        row.attempts += 1
        row.save(update_fields=["attempts"])
        return True


# SQLSTATE classes the data causes: 22 data exception, 23 integrity constraint, 54 program limit exceeded.
DATA_ERROR_CLASSES = ("22", "23", "54")


def caused_by_data(exc: DatabaseError) -> bool:
    """Whether a database error comes from the values written (it will recur) rather than the connection."""
    if isinstance(exc, InterfaceError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None) or ""
    return state[:2] in DATA_ERROR_CLASSES


def _record_failure(row_id: int, exc: BaseException, final: bool = False) -> None:
    """The event raised: keep the error; retry later with backoff, or (after MAX_ATTEMPTS, or at once when
    final) leave it failed for a re-run."""
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:10_000]
    with transaction.atomic():
        row = InboxEvent.objects.select_for_update().get(id=row_id)
        row.error = detail
        if final or row.attempts >= MAX_ATTEMPTS:
            row.status = InboxEvent.FAILED
            logger.error("livedist event %s failed %d times and is left for a re-run: %s", row.event_id,
                         row.attempts, detail)
        else:
            row.next_attempt_at = timezone.now() + timedelta(seconds=RETRY_BACKOFF_SECONDS * 4 ** (row.attempts - 1))
        row.save(update_fields=["error", "status", "next_attempt_at"])


def rerun(event_ids: Sequence[str]) -> int:
    """Put failed events back in the queue (the admin's re-run action)."""
    count = InboxEvent.objects.filter(event_id__in=event_ids, status=InboxEvent.FAILED).update(
        status=InboxEvent.PENDING, attempts=0, error="", next_attempt_at=None)
    if count:
        schedule()
    return count


def settle(now: datetime | None = None) -> int:
    """Approve commissions whose after-sale window has passed; running it twice changes nothing."""
    with transaction.atomic():
        _lock()
        store = DbStore()
        changed = Engine(store, rules_source()).settle(now or timezone.now())
        store.flush()
    return changed
