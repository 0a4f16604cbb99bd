"""Routing for partitioned processing (settings.PARTITIONS > 1): which partition applies an event, in which
order, and which events are barriers.

Each event names the identities whose state it can read or write (`keys`): people and distributors (one
namespace: a distributor's id is their customer id), orders, and a live's host. Identities that ever share an
event are joined in one component of a union-find kept in two tables (RouteKey: key -> component;
RouteComponent: component -> partition, size), and a component lives on one partition. So two non-barrier
events on different partitions touch disjoint state, and applying each partition's events in submit order
gives the same state as applying all of them in submit order (docs/performance.md, "Scaling out").

Every submit takes the router lock (a transaction-level advisory lock) and gets the next number of the
`livedist_inbox_sequence` sequence: submits commit in sequence order, so any snapshot of the inbox sees a prefix of
it. An event is a barrier, applied only once every event before it is applied and with every partition's lock
held, when
- its type reads or writes state of every component (GLOBAL_TYPES: a live's schedule, start and end, which
  price orders and close watches everywhere; replays and clips; bans, which re-project the banned
  distributor's orders and are read by everyone; staff's review of a held invitee), or
- its keys span components on several partitions (a merge): they are all moved to the largest one's partition,
  and events before it on the old partitions are applied before it, or
- rows kept without routing (PARTITIONS was 1) are not all joined in the union-find yet (`catch_up`; the
  `livedist_route` command does it ahead of switching, in batches).
Every process must use the same PARTITIONS: a process with PARTITIONS=1 applies the inbox in the order received
under the whole lock (safe, but it ignores the sequence), and keeps rows unrouted.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from ..core.events import Event, parse_event
from ..db import schemas
from ..exceptions import EventError
from ..models import InboxEvent

LOCK_KEY = 0x11FED157  # the processing lock's key (inbox.processing.LOCK_KEY); partitions: (pair_key(), p)
ROUTER = -1  # the router's lock: (LOCK_KEY, -1)
SEQUENCE = "livedist_inbox_sequence"

GLOBAL_TYPES = frozenset({
    "live.scheduled", "live.started", "live.ended", "replay.published", "clip.published",
    "distributor.banned", "distributor.unbanned", "invitee.reviewed",
})


def partitions() -> int:
    from ..conf import get_setting

    return int(get_setting("PARTITIONS"))


def keys(event: Event) -> list[str]:
    """The identities whose state the event can touch (see engine.py's handlers):
    - link.clicked: the visitor (clicks, binding, invitations, watch-based tasks) and the distributor (whose
      record, invitations and leaderboard row it reads and writes);
    - customer.registered: the customer and the visitor stitched to them;
    - distributor.joined: the customer, and the host of the live they joined in (the upline fallback); the upline
      through a binding is a distributor the customer clicked, already in the component;
    - order.created: the order, the customer, the visitor, the distributors of its ref and its coupon (the
      uplines the chain reads joined through their own clicks and joins);
    - order.paid, fulfilled, cancelled, refunded: the order (joined to its customer by order.created);
    - live.joined, heartbeat, left: the viewer (the live's record is written only by barriers);
    - live.scheduled: its host, joined to the live's `h:` key (a barrier: nothing to route)."""
    d = event.data
    out: list[str] = []

    def person(value: Any) -> None:
        if value:
            out.append("p:" + value)

    t = event.type
    if t == "link.clicked":
        person(d.get("visitor"))
        person(d.get("distributor"))
    elif t == "customer.registered":
        person(d.get("customer"))
        person(d.get("visitor"))
    elif t == "distributor.joined":
        person(d.get("customer"))
        if d.get("live"):
            out.append("h:" + d["live"])
    elif t == "order.created":
        out.append("o:" + d["order"])
        person(d.get("customer"))
        person(d.get("visitor"))
        ref = d.get("ref")
        if ref:
            person(ref if isinstance(ref, str) else ref.get("distributor"))
        coupon = d.get("coupon")
        if coupon:
            person(coupon.get("distributor"))
    elif t.startswith("order."):
        out.append("o:" + d["order"])
    elif t in ("live.joined", "live.heartbeat", "live.left"):
        person(d.get("viewer"))
    elif t == "live.scheduled":
        out.append("h:" + d["live"])
        person(d.get("host"))
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Route:
    seq: int
    partition: int
    barrier: bool


def pair_key() -> int:
    """The first key of the partitions' and the router's locks (two-key space: LOCK_KEY, p): per schema, as the
    processing lock is (App mode's instances are routed and processed side by side)."""
    schema = schemas.current()
    if not schema:
        return LOCK_KEY
    return int.from_bytes(zlib.crc32(schema.encode()).to_bytes(4, "big"), "big", signed=True)


def lock_router() -> None:
    """The router's lock, until the caller's transaction ends (every submit of partitioned events)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [pair_key(), ROUTER])


def route(events: Iterable[Event], count: int | None = None) -> list[Route]:
    """Routes for events about to be kept in the inbox (their rows marked `routed`), in this order, inside the
    caller's transaction, which must hold the router lock (lock_router) until it commits. Updates the
    union-find, after catching up with rows kept without routing (barriers while some are left)."""
    events = list(events)
    count = count or partitions()
    if not events:
        return []
    if not catch_up(count=count):
        return [Route(r.seq, r.partition, True) for r in _route(events, count)]
    return _route(events, count)


def route_new(event: Event, count: int) -> Route | None:
    """One event about to be kept (a submit): the router's lock, taken here until the caller's transaction ends,
    then in one statement whether its id is kept already (then None), whether rows kept without routing are left, its
    number and its keys' components; then at most one statement to join them. A submit's lock is held for the
    fewest round trips, since every submit waits for it."""
    lock_router()
    with connection.cursor() as cursor:
        found = _lookup(cursor, [event], extra=(
            f"(SELECT id FROM {InboxEvent._meta.db_table} WHERE event_id = %s), "
            f"(SELECT id FROM {InboxEvent._meta.db_table} WHERE NOT routed ORDER BY id LIMIT 1) IS NOT NULL",
            [event.id]))  # (by id: the partial index of unrouted rows, which is empty once they all are)
        kept, unrouted = found.extra
        if kept is not None:
            return None
        if unrouted:  # the union-find may miss what they joined: caught up first, read again
            return route([event], count)[0]
        return _route_one(cursor, event, found.seqs[0], count, found.known, found.components)


@dataclass
class _Found:
    seqs: list[int]
    known: dict[str, int]  # key -> component
    components: dict[int, list[int]]  # component -> [partition, size]
    extra: tuple[Any, ...]


def _lookup(cursor: Any, events: list[Event], extra: tuple[str, list[Any]] = ("", [])) -> _Found:
    """The events' numbers (taken from the sequence in submit order) and the components of their keys, in one
    statement; `extra` adds columns (SQL, params) read in the same statement."""
    wanted = sorted({k for e in events for k in keys(e)})
    columns, params = extra
    cursor.execute(
        f"WITH s AS MATERIALIZED (SELECT array_agg(n ORDER BY n) AS seqs FROM "
        f"(SELECT nextval('{SEQUENCE}') AS n FROM generate_series(1, %s)) AS g) "
        f"SELECT s.seqs, k.key, k.component, c.partition, c.size{', ' + columns if columns else ''} FROM s "
        f"LEFT JOIN (livedist_route_key k JOIN livedist_route_component c ON c.id = k.component) "
        f"ON k.key = ANY(%s)", [len(events), *params, wanted])
    rows = cursor.fetchall()
    found = _Found(list(rows[0][0]), {}, {}, tuple(rows[0][5:]))
    for row in rows:
        key, component, partition, size = row[1:5]
        if key is not None:
            found.known[key] = component
            found.components[component] = [partition, size]
    return found


def _route(events: list[Event], count: int) -> list[Route]:
    with connection.cursor() as cursor:
        found = _lookup(cursor, events)
        return [_route_one(cursor, event, seq, count, found.known, found.components)
                for event, seq in zip(events, found.seqs)]


def _route_one(cursor: Any, event: Event, seq: int, count: int, known: dict[str, int],
               components: dict[int, list[int]]) -> Route:
    names = keys(event)
    barrier = event.type in GLOBAL_TYPES
    if not names:
        return Route(seq, 0, barrier)
    partition, merged = _union(cursor, names, count, known, components)
    return Route(seq, partition, barrier or merged)


def _union(cursor: Any, names: list[str], count: int, known: dict[str, int],
           components: dict[int, list[int]]) -> tuple[int, bool]:
    """Join the keys' components (the smaller ones into the largest); its partition, and whether components of
    several partitions met. New keys alone: one statement; keys of one component, some new: one; all known in
    one component: none; a merge: three."""
    barrier = False
    mine = sorted({known[k] for k in names if k in known}, key=lambda c: (-components[c][1], c))
    fresh = [k for k in names if k not in known]
    if not mine:  # a new component, numbered by its id, on partition id % count, with its keys
        cursor.execute(
            "WITH n AS (SELECT nextval(pg_get_serial_sequence('livedist_route_component', 'id')) AS id), "
            "c AS (INSERT INTO livedist_route_component (id, partition, size) SELECT id, id %% %s, %s FROM n "
            "RETURNING id, partition), "
            "k AS (INSERT INTO livedist_route_key (key, component) SELECT key, c.id FROM c, unnest(%s::text[]) AS key) "
            "SELECT id, partition FROM c", [count, len(fresh), fresh])
        target, partition = cursor.fetchone()
        components[target] = [partition, len(fresh)]
    else:
        target, moved = mine[0], mine[1:]
        before = list(components[target])
        partition = before[0]
        if partition >= count:  # fewer partitions than when it was made: moved, like a merge
            partition = target % count
        if any(components[c][0] != partition for c in mine):
            barrier = True  # state of several partitions meets: applied after all before it, under every lock
        if moved:
            cursor.execute("UPDATE livedist_route_key SET component = %s WHERE component = ANY(%s)", [target, moved])
            for key, component in list(known.items()):
                if component in moved:
                    known[key] = target
            grown = sum(components[c][1] for c in moved)
            cursor.execute("DELETE FROM livedist_route_component WHERE id = ANY(%s)", [moved])
            for c in moved:
                del components[c]
            components[target][1] += grown
        components[target][0] = partition
        components[target][1] += len(fresh)
        if components[target] != before:
            cursor.execute(
                "WITH u AS (UPDATE livedist_route_component SET partition = %s, size = %s WHERE id = %s) "
                "INSERT INTO livedist_route_key (key, component) SELECT k, %s FROM unnest(%s::text[]) AS k",
                [partition, components[target][1], target, target, fresh])
    for k in fresh:
        known[k] = target
    return partition, barrier


CATCH_UP = 1000  # events kept without routing that a submit routes first (the rest: livedist_route)


def catch_up(limit: int | None = None, count: int | None = None) -> bool:
    """Join the keys of up to `limit` inbox rows kept without routing (with one partition, before partitions
    existed, or by a process with PARTITIONS=1), oldest first, in the caller's transaction, which holds the router
    lock; True once every row is routed. Until then the union-find may miss what they joined, so every event
    routed meanwhile is a barrier. Rows still pending stay unnumbered: they are applied first, as barriers."""
    count, limit = count or partitions(), limit or CATCH_UP
    rows = list(InboxEvent.objects.filter(routed=False).order_by("id").values_list("id", "payload")[:limit + 1])
    if not rows:
        return True
    todo = rows[:limit]
    events = []
    for _, payload in todo:
        try:
            events.append(parse_event(payload))
        except EventError:  # kept failed; it joins nothing
            continue
    with connection.cursor() as cursor:
        wanted = sorted({k for e in events for k in keys(e)})
        known: dict[str, int] = {}
        components: dict[int, list[int]] = {}
        if wanted:
            cursor.execute("SELECT k.key, k.component, c.partition, c.size FROM livedist_route_key k "
                           "JOIN livedist_route_component c ON c.id = k.component WHERE k.key = ANY(%s)", [wanted])
            for key, component, partition, size in cursor.fetchall():
                known[key] = component
                components[component] = [partition, size]
        for event in events:
            names = keys(event)
            if names:
                _union(cursor, names, count, known, components)
    InboxEvent.objects.filter(id__in=[row_id for row_id, _ in todo]).update(routed=True)
    return len(rows) <= limit
