"""The Store port: everything the engine keeps between events, and the in-memory implementation.

The PostgreSQL store implements the same protocol and passes the same conformance tests, so
`livedist simulate` and production cannot drift apart. The engine calls a store from one thread at a time
per event; a database store makes each event one transaction.
"""
from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol

from .events import Line
from .records import (
    Attribution, BindingRecord, Click, DistributorRecord, LedgerEntry, LiveRecord, OrderRecord, OrderSnapshot,
    PointsGrant, PricedLine, ReplayRecord, Share, TaskProgress, WatchRecord,
)


class Store(Protocol):
    def mark_processed(self, event_id: str) -> bool:
        """Record the event id; False if it was seen before."""

    # identities: a visitor id is stitched to a customer id
    def resolve(self, identity: str) -> str: ...
    def link_identity(self, visitor: str, customer: str) -> None: ...

    def add_click(self, identity: str, click: Click) -> None: ...
    def clicks(self, identity: str) -> list[Click]:
        """All clicks of the identity (and of visitor ids stitched to it), oldest first."""

    def get_binding(self, identity: str) -> BindingRecord | None: ...
    def put_binding(self, binding: BindingRecord) -> None: ...
    def drop_binding(self, identity: str) -> None: ...

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None: ...
    def put_distributor(self, record: DistributorRecord) -> None: ...
    def distributors(self) -> Iterable[DistributorRecord]: ...

    def get_live(self, live_id: str) -> LiveRecord | None: ...
    def put_live(self, record: LiveRecord) -> None: ...
    def get_replay(self, replay_id: str) -> ReplayRecord | None: ...
    def put_replay(self, record: ReplayRecord) -> None: ...

    def get_watch(self, live_id: str, viewer: str) -> WatchRecord | None: ...
    def put_watch(self, record: WatchRecord) -> None: ...
    def open_watches(self, live_id: str) -> list[WatchRecord]: ...
    def lives_watched(self, viewer: str) -> list[str]: ...

    def get_task_progress(self, task: str, distributor: str, scope_key: str) -> TaskProgress | None: ...
    def put_task_progress(self, record: TaskProgress) -> None: ...
    def completed_tasks(self, distributor: str) -> list[TaskProgress]: ...
    def add_qualified(self, task: str, scope_key: str, invitee: str) -> bool:
        """Record that the invitee qualified for the task in that scope; False if already recorded."""

    def add_paying_customer(self, customer: str) -> bool:
        """Record that the customer has a paid order; False if already recorded."""

    def is_paying_customer(self, customer: str) -> bool: ...

    def get_order(self, order_id: str) -> OrderRecord | None: ...
    def put_order(self, record: OrderRecord) -> None: ...
    def order_ids(self) -> list[str]: ...
    def orders_due(self, now: datetime) -> list[str]:
        """Ids of orders with pending entries whose approval time is <= now."""

    def replace_entries(self, order_id: str, entries: list[LedgerEntry]) -> None: ...
    def entries(self, order_id: str | None = None) -> list[LedgerEntry]: ...
    def add_points(self, grant: PointsGrant) -> bool:
        """Record the grant; False if a grant with the same key exists."""

    def points(self) -> list[PointsGrant]: ...


class MemoryStore:
    """The Store in dictionaries: for `livedist simulate`, tests, benchmarks and replays of past events.

    Like a database it keeps rows, not objects: each record as a tuple of its fields (see `_rows`), and every
    read builds a new record, so an engine that forgets to write a change back fails here too. Tuples of plain
    values are not followed by Python's garbage collector, whose full passes over hundreds of thousands of
    stored records otherwise cost more than the engine itself (docs/performance.md).
    """

    def __init__(self) -> None:
        self._processed: set[str] = set()
        self._alias: dict[str, str] = {}
        self._aliases_of: dict[str, tuple[str, ...]] = {}
        self._clicks: dict[str, tuple[tuple[Any, ...], ...]] = {}  # oldest first, ties in arrival order
        self._bindings: dict[str, tuple[Any, ...]] = {}
        self._distributors: dict[str, tuple[Any, ...]] = {}
        self._lives: dict[str, tuple[Any, ...]] = {}
        self._replays: dict[str, ReplayRecord] = {}
        self._watches: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._watched: dict[str, tuple[str, ...]] = {}
        self._progress: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        self._completed: dict[str, tuple[tuple[Any, ...], ...]] = {}
        self._qualified: set[tuple[str, str, str]] = set()
        self._paying: set[str] = set()
        self._orders: dict[str, tuple[Any, ...]] = {}
        self._entries: dict[str, tuple[tuple[Any, ...], ...]] = {}
        self._points: dict[str, PointsGrant] = {}
        self._last_snapshot: tuple[OrderSnapshot | None, tuple[Any, ...] | None] = (None, None)

    def mark_processed(self, event_id: str) -> bool:
        if event_id in self._processed:
            return False
        self._processed.add(event_id)
        return True

    def resolve(self, identity: str) -> str:
        return self._alias.get(identity, identity)

    def link_identity(self, visitor: str, customer: str) -> None:
        if visitor == customer or self._alias.get(visitor) == customer:
            return
        self._alias[visitor] = customer
        self._aliases_of[customer] = self._aliases_of.get(customer, ()) + (visitor,)

    def add_click(self, identity: str, click: Click) -> None:
        clicks = list(self._clicks.get(identity, ()))
        insort(clicks, _rows.click(click), key=_first)  # after clicks at the same time: arrival order
        self._clicks[identity] = tuple(clicks)

    def clicks(self, identity: str) -> list[Click]:
        found = [Click(*row) for row in self._clicks.get(identity, ())]
        aliases = self._aliases_of.get(identity)
        if aliases:
            for alias in aliases:
                found.extend(Click(*row) for row in self._clicks.get(alias, ()))
            found.sort(key=_click_time)  # stable: the identity's own clicks first on equal times
        return found

    def get_binding(self, identity: str) -> BindingRecord | None:
        row = self._bindings.get(identity)
        return None if row is None else BindingRecord(*row)

    def put_binding(self, binding: BindingRecord) -> None:
        self._bindings[binding.identity] = _rows.binding(binding)

    def drop_binding(self, identity: str) -> None:
        self._bindings.pop(identity, None)

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None:
        row = self._distributors.get(distributor_id)
        return None if row is None else _rows.to_distributor(row)

    def put_distributor(self, record: DistributorRecord) -> None:
        self._distributors[record.id] = _rows.distributor(record)

    def distributors(self) -> Iterable[DistributorRecord]:
        return [_rows.to_distributor(row) for row in self._distributors.values()]

    def get_live(self, live_id: str) -> LiveRecord | None:
        row = self._lives.get(live_id)
        return None if row is None else LiveRecord(*row)

    def put_live(self, record: LiveRecord) -> None:
        self._lives[record.id] = _rows.live(record)

    def get_replay(self, replay_id: str) -> ReplayRecord | None:
        return self._replays.get(replay_id)  # frozen: shared safely

    def put_replay(self, record: ReplayRecord) -> None:
        self._replays[record.id] = record

    def get_watch(self, live_id: str, viewer: str) -> WatchRecord | None:
        row = self._watches.get((live_id, viewer))
        return None if row is None else WatchRecord(*row)

    def put_watch(self, record: WatchRecord) -> None:
        key = (record.live, record.viewer)
        if key not in self._watches:
            self._watched[record.viewer] = self._watched.get(record.viewer, ()) + (record.live,)
        self._watches[key] = _rows.watch(record)

    def open_watches(self, live_id: str) -> list[WatchRecord]:
        return [WatchRecord(*row) for (live, _), row in self._watches.items() if live == live_id and row[2] > 0]

    def lives_watched(self, viewer: str) -> list[str]:
        return list(self._watched.get(viewer, ()))

    def get_task_progress(self, task: str, distributor: str, scope_key: str) -> TaskProgress | None:
        row = self._progress.get((task, distributor, scope_key))
        return None if row is None else TaskProgress(*row)

    def put_task_progress(self, record: TaskProgress) -> None:
        key = (record.task, record.distributor, record.scope_key)
        previous = self._progress.get(key)
        row = self._progress[key] = _rows.progress(record)
        if record.completed_at is not None and (previous is None or previous[4] is None):
            self._completed[record.distributor] = self._completed.get(record.distributor, ()) + (row,)

    def completed_tasks(self, distributor: str) -> list[TaskProgress]:
        return [TaskProgress(*row) for row in self._completed.get(distributor, ())]

    def add_qualified(self, task: str, scope_key: str, invitee: str) -> bool:
        key = (task, scope_key, invitee)
        if key in self._qualified:
            return False
        self._qualified.add(key)
        return True

    def add_paying_customer(self, customer: str) -> bool:
        if customer in self._paying:
            return False
        self._paying.add(customer)
        return True

    def is_paying_customer(self, customer: str) -> bool:
        return customer in self._paying

    def get_order(self, order_id: str) -> OrderRecord | None:
        row = self._orders.get(order_id)
        if row is None:
            return None
        snapshot = None if row[1] is None else _rows.to_snapshot(row[1])
        self._last_snapshot = (snapshot, row[1])  # so that writing the record back does not encode it again
        return OrderRecord(row[0], snapshot, list(row[2]), row[3], row[4], row[5])

    def put_order(self, record: OrderRecord) -> None:
        snapshot = record.snapshot
        if snapshot is None:
            snapshot_row = None
        else:
            last, last_row = self._last_snapshot
            snapshot_row = last_row if snapshot is last else _rows.snapshot(snapshot)  # snapshots never change
        self._orders[record.id] = (record.id, snapshot_row, tuple(record.lifecycle), record.paid_at,
                                   record.approve_at, record.has_pending)

    def order_ids(self) -> list[str]:
        return list(self._orders)

    def orders_due(self, now: datetime) -> list[str]:
        return [
            order_id for order_id, (_, _, _, _, approve_at, has_pending) in self._orders.items()
            if has_pending and approve_at is not None and approve_at <= now
        ]

    def replace_entries(self, order_id: str, entries: list[LedgerEntry]) -> None:
        self._entries[order_id] = tuple(map(_rows.entry, entries))

    def entries(self, order_id: str | None = None) -> list[LedgerEntry]:
        if order_id is not None:
            return [LedgerEntry(*row) for row in self._entries.get(order_id, ())]
        return [LedgerEntry(*row) for rows in self._entries.values() for row in rows]

    def add_points(self, grant: PointsGrant) -> bool:
        if grant.key in self._points:
            return False
        self._points[grant.key] = grant  # frozen: shared safely
        return True

    def points(self) -> list[PointsGrant]:
        return list(self._points.values())


def _click_time(click: Click) -> datetime:
    return click.at


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


class _rows:
    """Records to rows (tuples of their fields, in declaration order) and back. A record with a list or a
    nested record is written out by hand; every other record is read with one attrgetter of all its fields."""

    @staticmethod
    def _all_fields(cls: type) -> Callable[[Any], tuple[Any, ...]]:
        return attrgetter(*(f.name for f in fields(cls)))  # type: ignore[no-any-return]

    click = _all_fields(Click)
    binding = _all_fields(BindingRecord)
    live = _all_fields(LiveRecord)
    watch = _all_fields(WatchRecord)
    progress = _all_fields(TaskProgress)
    entry = _all_fields(LedgerEntry)
    share = _all_fields(Share)
    line = _all_fields(Line)
    attribution = _all_fields(Attribution)

    @staticmethod
    def distributor(r: DistributorRecord) -> tuple[Any, ...]:
        return (r.id, r.upline, r.joined_at, tuple(r.ranks), r.last_sale_at, r.paying_invitees)

    @staticmethod
    def to_distributor(row: tuple[Any, ...]) -> DistributorRecord:
        return DistributorRecord(row[0], row[1], row[2], list(row[3]), row[4], row[5])

    @staticmethod
    def snapshot(s: OrderSnapshot) -> tuple[Any, ...]:
        share = _rows.share
        return (s.id, s.customer, s.channel, s.currency, s.at,
                tuple([(_rows.line(p.line), tuple(map(share, p.shares))) for p in s.lines]),
                _rows.attribution(s.attribution), s.rules_version)

    @staticmethod
    def to_snapshot(row: tuple[Any, ...]) -> OrderSnapshot:
        return OrderSnapshot(
            row[0], row[1], row[2], row[3], row[4],
            tuple([PricedLine(Line(*line), tuple([Share(*share) for share in shares])) for line, shares in row[5]]),
            Attribution(*row[6]), row[7],
        )
