"""The Store port: everything the engine keeps between events, and the in-memory implementation.

The PostgreSQL store implements the same protocol and passes the same conformance tests, so
`livedist simulate` and production cannot drift apart. The engine calls a store from one thread at a time
per event; a database store makes each event one transaction.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from copy import copy
from datetime import datetime
from typing import Protocol

from saleor_livedist.core.records import (
    BindingRecord, Click, DistributorRecord, LedgerEntry, LiveRecord, OrderRecord, PointsGrant, ReplayRecord,
    TaskProgress, WatchRecord,
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

    Reads return copies, as a database would, so an engine that forgets to write a change back fails here too.
    """

    def __init__(self) -> None:
        self._processed: set[str] = set()
        self._alias: dict[str, str] = {}
        self._aliases_of: dict[str, list[str]] = defaultdict(list)
        self._clicks: dict[str, list[Click]] = defaultdict(list)
        self._bindings: dict[str, BindingRecord] = {}
        self._distributors: dict[str, DistributorRecord] = {}
        self._lives: dict[str, LiveRecord] = {}
        self._replays: dict[str, ReplayRecord] = {}
        self._watches: dict[tuple[str, str], WatchRecord] = {}
        self._watched: dict[str, list[str]] = defaultdict(list)
        self._progress: dict[tuple[str, str, str], TaskProgress] = {}
        self._completed: dict[str, list[TaskProgress]] = defaultdict(list)
        self._qualified: set[tuple[str, str, str]] = set()
        self._paying: set[str] = set()
        self._orders: dict[str, OrderRecord] = {}
        self._entries: dict[str, list[LedgerEntry]] = {}
        self._points: dict[str, PointsGrant] = {}

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
        self._aliases_of[customer].append(visitor)

    def add_click(self, identity: str, click: Click) -> None:
        self._clicks[identity].append(click)

    def clicks(self, identity: str) -> list[Click]:
        found = list(self._clicks.get(identity, ()))
        for alias in self._aliases_of.get(identity, ()):
            found.extend(self._clicks.get(alias, ()))
        found.sort(key=lambda c: c.at)
        return found

    def get_binding(self, identity: str) -> BindingRecord | None:
        return self._bindings.get(identity)

    def put_binding(self, binding: BindingRecord) -> None:
        self._bindings[binding.identity] = binding

    def drop_binding(self, identity: str) -> None:
        self._bindings.pop(identity, None)

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None:
        record = self._distributors.get(distributor_id)
        if record is None:
            return None
        record = copy(record)
        record.ranks = list(record.ranks)
        return record

    def put_distributor(self, record: DistributorRecord) -> None:
        self._distributors[record.id] = record

    def distributors(self) -> Iterable[DistributorRecord]:
        return list(self._distributors.values())

    def get_live(self, live_id: str) -> LiveRecord | None:
        record = self._lives.get(live_id)
        return None if record is None else copy(record)

    def put_live(self, record: LiveRecord) -> None:
        self._lives[record.id] = record

    def get_replay(self, replay_id: str) -> ReplayRecord | None:
        return self._replays.get(replay_id)

    def put_replay(self, record: ReplayRecord) -> None:
        self._replays[record.id] = record

    def get_watch(self, live_id: str, viewer: str) -> WatchRecord | None:
        record = self._watches.get((live_id, viewer))
        return None if record is None else copy(record)

    def put_watch(self, record: WatchRecord) -> None:
        key = (record.live, record.viewer)
        if key not in self._watches:
            self._watched[record.viewer].append(record.live)
        self._watches[key] = record

    def open_watches(self, live_id: str) -> list[WatchRecord]:
        return [copy(w) for (live, _), w in self._watches.items() if live == live_id and w.open_count > 0]

    def lives_watched(self, viewer: str) -> list[str]:
        return list(self._watched.get(viewer, ()))

    def get_task_progress(self, task: str, distributor: str, scope_key: str) -> TaskProgress | None:
        record = self._progress.get((task, distributor, scope_key))
        return None if record is None else copy(record)

    def put_task_progress(self, record: TaskProgress) -> None:
        key = (record.task, record.distributor, record.scope_key)
        previous = self._progress.get(key)
        self._progress[key] = record
        if record.completed_at is not None and (previous is None or previous.completed_at is None):
            self._completed[record.distributor].append(record)

    def completed_tasks(self, distributor: str) -> list[TaskProgress]:
        return self._completed.get(distributor, [])

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
        record = self._orders.get(order_id)
        if record is None:
            return None
        record = copy(record)
        record.lifecycle = list(record.lifecycle)
        return record

    def put_order(self, record: OrderRecord) -> None:
        self._orders[record.id] = record

    def order_ids(self) -> list[str]:
        return list(self._orders)

    def orders_due(self, now: datetime) -> list[str]:
        return [
            o.id for o in self._orders.values() if o.has_pending and o.approve_at is not None and o.approve_at <= now
        ]

    def replace_entries(self, order_id: str, entries: list[LedgerEntry]) -> None:
        self._entries[order_id] = entries

    def entries(self, order_id: str | None = None) -> list[LedgerEntry]:
        if order_id is not None:
            return list(self._entries.get(order_id, ()))
        return [e for entries in self._entries.values() for e in entries]

    def add_points(self, grant: PointsGrant) -> bool:
        if grant.key in self._points:
            return False
        self._points[grant.key] = grant
        return True

    def points(self) -> list[PointsGrant]:
        return list(self._points.values())
