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

With settings.PARTITIONS > 1 (routing.py) every event also has a sequence number, a partition and a barrier
flag. A partition's worker holds the processing lock shared and its partition's lock (pair_key(), p), and applies
that partition's events in sequence order, up to the first pending barrier; a barrier is applied under the
processing lock held exclusively (every partition waits), once every event before it is applied. Non-barrier
events of different partitions touch disjoint state, so the result is that of applying every event in sequence
order, one worker. Settlement holds the lock exclusively too. Everything above holds per partition.
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
from django.db.models import F, Q
from django.utils import timezone

from ..core.engine import Engine
from ..core.events import MAX_EVENT_BYTES, Event, parse_event, same_event
from ..db import schemas
from ..db.rows import any_of
from ..db.published_tasks import OVERLAY
from ..db.store import DbStore
from ..exceptions import EventError
from ..models import InboxEvent, RuleVersion
from ..rules.provider import DirectoryRules
from . import broker, routing

logger = logging.getLogger(__name__)

LOCK_KEY = routing.LOCK_KEY  # the advisory lock that makes the engine a single writer (exclusive), or partitioned
# workers writers of disjoint state (shared, with their partition's lock)
MAX_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 10  # a failed event waits 10 s, then 40 s, before its next try
BARRIER_WAIT_MS = 5000  # a partition's worker waits this long for the other partitions' batches to apply a barrier
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
    _local.route = None
    created = _store(event, raw)
    if created and process:
        schedule()
    _local.route = None
    return created


def _store(event: Event, raw: dict[str, Any]) -> bool:
    count = routing.partitions()
    route = None
    try:
        with transaction.atomic():
            if count == 1:
                row, created = InboxEvent.objects.get_or_create(
                    event_id=event.id, defaults={"type": event.type, "at": event.at, "payload": raw})
            else:  # the router's lock until commit: sequence numbers commit in order
                route = routing.route_new(event, count)
                created = route is not None
                if route is None:  # kept already
                    row = InboxEvent.objects.get(event_id=event.id)
                else:
                    row = InboxEvent.objects.create(
                        event_id=event.id, type=event.type, at=event.at, payload=raw, seq=route.seq,
                        partition=route.partition, barrier=route.barrier, routed=True)
    except IntegrityError:  # submitted concurrently by another request
        return False
    if not created:
        _check_same(row, event, raw)
    elif route is not None:
        _local.route = route
    return created


_local = threading.local()  # the route of this thread's last submit, for schedule()


def route_kept(rows: Sequence[tuple[str, Event]]) -> list[routing.Route]:
    """Route inbox rows just kept by a writer that inserts them itself (the viewer endpoint's batches), in the
    caller's transaction; nothing with one partition (they stay unrouted barriers, as every row then)."""
    count = routing.partitions()
    if count == 1 or not rows:
        return []
    routing.lock_router()
    routes = routing.route([event for _, event in rows], count)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {InboxEvent._meta.db_table} AS i SET seq = u.seq, partition = u.partition, barrier = u.barrier, "
            f"routed = true "
            f"FROM unnest(%s::text[], %s::bigint[], %s::int[], %s::bool[]) AS u(event_id, seq, partition, barrier) "
            f"WHERE i.event_id = u.event_id",
            [[event_id for event_id, _ in rows], [r.seq for r in routes], [r.partition for r in routes],
             [r.barrier for r in routes]])
    return routes


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
                      "error": error, "attempts": MAX_ATTEMPTS, "processed_at": timezone.now(),
                      "routed": True})  # applied never: it joins nobody


def schedule(routes: Sequence[routing.Route] | None = None) -> None:
    """After the current transaction commits: a Celery task when a broker is configured, else inline. With
    partitions: one task per partition the events went to, on that partition's queue; a barrier (or events of
    unknown partitions) the sweep, on the default queue."""
    if routes is None:
        route, _local.route = getattr(_local, "route", None), None
        routes = [route] if route is not None else []
    if broker.broker_configured():
        def enqueue() -> None:
            if not publish_processing(routes):  # never stalls a request on a broker that is down
                logger.warning("livedist processing not enqueued; the periodic sweep will pick the events up")

        transaction.on_commit(enqueue)
    else:
        transaction.on_commit(lambda: process_pending())


def publish_processing(routes: Sequence[routing.Route] | None = (), **options: Any) -> bool:
    """Send the processing task(s) for these routes: one per partition on its queue; a barrier, or no routes,
    the sweep; None (events of any partition) every partition's."""
    count = routing.partitions()
    if count == 1 or (routes is not None and (not routes or any(r.barrier for r in routes))):
        return broker.publish(broker.PROCESS_EVENTS, **options)
    ok = True
    for partition in sorted({r.partition for r in routes} if routes is not None else range(count)):
        ok = broker.publish(broker.PROCESS_EVENTS, args=(partition,), queue=partition_queue(partition),
                            **options) and ok
    return ok


def partition_queue(partition: int) -> str:
    """The Celery queue of a partition's processing task (setting PARTITION_QUEUE)."""
    from ..conf import get_setting

    return str(get_setting("PARTITION_QUEUE")).format(partition=partition)


# ---------------------------------------------------------------------- processing


class Busy(Exception):
    """Another worker holds the processing lock (it drains the inbox; try again shortly)."""


def lock_key() -> int:
    """The processing lock of the current schema: the engine is a single writer per set of tables, so App mode's
    instances, each in its own schema, are processed side by side."""
    schema = schemas.current()
    return LOCK_KEY if not schema else (LOCK_KEY << 32) | zlib.crc32(schema.encode())


def _lock(wait: bool = True, partition: int | None = None) -> None:
    """The processing lock until the transaction ends: exclusive (the whole inbox: one partition, barriers,
    settlement), or shared with one partition's own lock (routing.lock_pair)."""
    with connection.cursor() as cursor:
        if partition is not None:
            pair = routing.pair_key()
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s, %s)",
                               [lock_key(), pair, partition])
                return
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s) AND pg_try_advisory_xact_lock_shared(%s)",
                           [pair, partition, lock_key()])
            if not cursor.fetchone()[0]:
                raise Busy()  # what it took is released with the caller's transaction
            return
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key()])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key()])
        if not cursor.fetchone()[0]:
            raise Busy()


def _pending() -> Any:
    return InboxEvent.objects.filter(status=InboxEvent.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))


class _Scope:
    """Which pending events a round takes, in which order, under which lock: the whole inbox in the order
    received (one partition), one partition up to the first pending barrier, or the barriers due now."""

    def __init__(self, partition: int | None = None, barriers: bool = False, timeout_ms: int = 0) -> None:
        self.partition, self.barriers, self.timeout_ms = partition, barriers, timeout_ms

    def lock(self, wait: bool) -> None:
        if not (wait and self.timeout_ms):
            return _lock(wait, self.partition)
        # Waiting for the whole inbox queues this request before any new partition batch (PostgreSQL grants
        # locks in the order asked), so it gets the lock once the batches running now commit; at most this long.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{self.timeout_ms}ms"])
            try:
                with transaction.atomic():
                    _lock(True, self.partition)
            except DatabaseError as exc:
                if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
                    raise Busy() from None
                raise
            cursor.execute("SELECT set_config('lock_timeout', '0', true)")

    def rows(self, limit: int) -> list[InboxEvent]:
        if self.partition is None and not self.barriers:
            return list(_pending().select_for_update().order_by("received_at", "id")[:limit])
        ids = self.ids(limit)
        rows = InboxEvent.objects.select_for_update().filter(any_of("id", ids))
        return list(rows.order_by("seq", "received_at", "id"))

    def ids(self, limit: int) -> list[int]:
        if self.partition is None and not self.barriers:
            return list(_pending().order_by("received_at", "id").values_list("id", flat=True)[:limit])
        with connection.cursor() as cursor:
            if self.barriers:
                unrouted = list(_pending().filter(barrier=True, seq__isnull=True).order_by("received_at", "id")
                                .values_list("id", flat=True)[:limit])
                if unrouted:  # kept before routing (or by one partition): before every routed event
                    return unrouted
                cursor.execute(BARRIERS_SQL, {"now": timezone.now(), "limit": limit})
            else:
                cursor.execute(PARTITION_SQL, {"now": timezone.now(), "limit": limit, "partition": self.partition})
            return [r[0] for r in cursor.fetchall()]


INBOX = InboxEvent._meta.db_table
_DUE = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)"
# A partition's events before the first barrier due (an unrouted event, seq null, is before all of them).
PARTITION_SQL = (
    f"SELECT id FROM {INBOX} WHERE {_DUE} AND partition = %(partition)s AND NOT barrier AND seq < COALESCE(("
    f"SELECT CASE WHEN bool_or(seq IS NULL) THEN -1 ELSE min(seq) END FROM {INBOX} WHERE {_DUE} AND barrier), "
    f"9223372036854775807) ORDER BY seq LIMIT %(limit)s")
# The barriers due with no event due before them: the leading run of the inbox in sequence order.
BARRIERS_SQL = (
    f"SELECT id FROM {INBOX} WHERE {_DUE} AND barrier AND seq < COALESCE(("
    f"SELECT min(seq) FROM {INBOX} WHERE {_DUE} AND NOT barrier), 9223372036854775807) "
    f"ORDER BY seq LIMIT %(limit)s")

_WHOLE = _Scope()
_BARRIERS = _Scope(barriers=True)
_BARRIERS_SOON = _Scope(barriers=True, timeout_ms=BARRIER_WAIT_MS)


def process_pending(limit: int = BATCH, rounds: int = 1000, wait: bool = True, careful: bool = False,
                    partition: int | None = None) -> int:
    """Process pending inbox events until none is due, a batch per transaction. Returns events applied.

    wait=False: raise Busy at once if another worker holds the lock (Celery tasks retry shortly instead of
    occupying a worker slot). careful=True: one event per transaction, its attempt counted and committed
    before it is applied, so an event that crashes the worker itself ends up `failed`, not in a loop.
    With PARTITIONS > 1: `partition` drains that partition (and applies the barriers it meets, if no other
    worker holds a partition then); None sweeps every partition and the barriers."""
    if routing.partitions() == 1:
        return _drain(_WHOLE, limit, rounds, wait, careful)
    if partition is not None:
        return _drain_partition(partition, limit, rounds, wait, careful)
    return _sweep(limit, rounds, wait, careful)


def _drain(scope: _Scope, limit: int, rounds: int, wait: bool, careful: bool) -> int:
    done = 0
    for _ in range(rounds):
        applied, more = _process_one_by_one(limit, wait, scope) if careful else _process_batch(limit, wait, scope)
        done += applied
        if not more:
            break
    return done


def _drain_partition(partition: int, limit: int, rounds: int, wait: bool, careful: bool) -> int:
    """One partition's events; at a barrier, the barriers too if every other partition is idle (else the last
    worker to finish applies them, or the sweep), then on, and the partitions waiting on them get a task."""
    done = 0
    while True:
        if _pending().filter(partition=partition, barrier=False).exists():  # (no lock taken for nothing)
            done += _drain(_Scope(partition), limit, rounds, wait, careful)
        if not _BARRIERS.ids(1):
            return done  # no barrier, or events before it are pending on other partitions
        try:
            applied = _drain(_BARRIERS_SOON, limit, rounds, True, careful)
        except Busy:
            return done  # the other partitions' batches took longer: their workers (or the sweep) apply it
        if not applied:
            return done
        done += applied
        if broker.broker_configured():
            waiting = set(_pending().filter(barrier=False).values_list("partition", flat=True).distinct())
            waiting.discard(partition)
            publish_processing([routing.Route(0, p, False) for p in sorted(waiting)])


def _sweep(limit: int, rounds: int, wait: bool, careful: bool) -> int:
    """Every partition with events due, and the barriers, until nothing is left that can be applied. A partition
    another worker holds is left to it; Busy if nothing could be done and something was held."""
    done = 0
    for _ in range(rounds):
        progress, busy = 0, False
        scopes = [_BARRIERS] + [_Scope(p) for p in sorted(set(
            _pending().filter(barrier=False).values_list("partition", flat=True).distinct()))]
        for scope in scopes:
            try:
                progress += _drain(scope, limit, rounds, wait, careful)
            except Busy:
                busy = True
        done += progress
        if not progress:
            if busy and not done:
                raise Busy()
            return done
    return done


def _process_batch(limit: int, wait: bool, scope: _Scope = _WHOLE) -> tuple[int, bool]:
    try:
        with transaction.atomic():
            scope.lock(wait)
            rows = scope.rows(limit)
            if not rows:
                return 0, False
            events, bad = _parse(rows)
            apply(events, from_inbox=True)
            now = timezone.now()
            _pending().filter(any_of("id", [r.id for r in rows if r.id not in bad])).update(
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
        return _process_one_by_one(limit, wait, scope)
    except Exception:
        logger.warning("a batch of livedist events failed; re-running it one event at a time", exc_info=True)
        return _process_one_by_one(limit, wait, scope)


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


def _process_one_by_one(limit: int, wait: bool, scope: _Scope = _WHOLE) -> tuple[int, bool]:
    ids = scope.ids(limit)
    applied = 0
    for row_id in ids:
        if not _count_attempt(row_id):
            continue
        try:
            with transaction.atomic():
                scope.lock(wait)
                row = InboxEvent.objects.select_for_update().get(id=row_id)
                if row.status != InboxEvent.PENDING:
                    continue
                apply([parse_event(row.payload)], from_inbox=True)
                row.status, row.processed_at, row.error, row.next_attempt_at = (
                    InboxEvent.DONE, timezone.now(), "", None)
                row.save(update_fields=["status", "processed_at", "error", "next_attempt_at"])
                applied += 1
        except Busy:
            if scope is not _WHOLE:  # a barrier or another partition's batch: this was no attempt
                InboxEvent.objects.filter(id=row_id, attempts__gt=0).update(attempts=F("attempts") - 1)
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
        # Tried again later, after events that came after it, maybe once its identities have moved to another
        # partition: with partitions, as a barrier (every partition's lock), wherever they are by then.
        row.barrier = True
        row.save(update_fields=["error", "status", "next_attempt_at", "barrier"])


def rerun(event_ids: Sequence[str]) -> int:
    """Put failed events back in the queue (the admin's re-run action)."""
    count = InboxEvent.objects.filter(event_id__in=event_ids, status=InboxEvent.FAILED).update(
        status=InboxEvent.PENDING, attempts=0, error="", next_attempt_at=None, barrier=True)  # see _record_failure
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
