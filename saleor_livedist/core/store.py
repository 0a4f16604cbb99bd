"""The Store port: everything the engine keeps between events, and the in-memory implementation.

The PostgreSQL store implements the same protocol and passes the same conformance tests, so
`livedist simulate` and production cannot drift apart. The engine calls a store from one thread at a time
per event; a database store makes each event one transaction.
"""
from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable
from dataclasses import fields, replace
from decimal import Decimal
from itertools import chain
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Protocol

from .events import Line
from .records import (
    Attribution, BanMark, BindingRecord, Click, DistributorRecord, HeldInvitee, LedgerEntry, LiveRecord, LiveStat,
    OrderRecord, OrderSnapshot, PaidOrder, PointsGrant, PricedLine, ReplayRecord, Share, TaskCash, TaskProgress, WatchRecord,
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

    def add_ban_mark(self, mark: BanMark) -> None:
        """Keep a ban or unban (once per event id)."""

    def ban_marks(self) -> dict[str, tuple[BanMark, ...]]:
        """Every distributor's ban marks, sorted by (at, event); distributors never banned are absent."""

    def orders_paying(self, distributor: str, since: datetime) -> list[str]:
        """Ids of orders paid at or after `since` with a share for the distributor, and of orders carrying a task
        reward of theirs: the orders a ban or unban dated `since` can change."""

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

    def qualifications(self, invitee: str) -> list[tuple[str, str]]:
        """(task, scope key) of every task the invitee, under this very id, qualified for."""

    def paying_order(self, customer: str) -> PaidOrder | None:
        """The customer's latest paid order, as last put; None if they have none."""

    def put_paying_order(self, customer: str, paid: PaidOrder) -> None: ...

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
    def get_points(self, key: str) -> PointsGrant | None: ...

    # the live leaderboard
    def add_live_invitation(self, live: str, distributor: str, viewer: str) -> bool:
        """Record that the viewer came to the live through the distributor's link; False if already."""

    def invitations(self, viewer: str) -> list[tuple[str, str]]:
        """(live, distributor) of every invitation recorded for the viewer, under this very id."""

    def add_live_qualified(self, live: str, viewer: str) -> bool:
        """Record that the viewer qualified for a task of this live; False if already."""

    def is_live_qualified(self, live: str, viewer: str) -> bool: ...

    def bump_live_stat(self, live: str, distributor: str, invited: int = 0, qualified: int = 0, orders: int = 0,
                       gmv: Decimal = Decimal(0), currency: str = "") -> None: ...
    def live_stats(self, live: str) -> list[LiveStat]: ...

    def mark_customer(self, identity: str) -> None: ...
    def is_customer(self, identity: str) -> bool: ...
    def count_invitee(self, distributor: str, day: date) -> int:
        """One more task qualification for the distributor's invitees on `day`; the day's count with it."""
    def get_held_invitee(self, key: str) -> HeldInvitee | None: ...
    def put_held_invitee(self, held: HeldInvitee) -> None: ...


class MemoryStore:
    """The Store in dictionaries: for `livedist simulate`, tests, benchmarks and replays of past events.

    Like a database it keeps rows, not objects: each record as a tuple of its fields (see `_Rows`), and every
    read builds a new record, so an engine that forgets to write a change back fails here too (the one
    exception, an unpaid order's snapshot, is never mutated and is handed back as written: see `_fresh`).
    Tuples of plain values are not followed by Python's garbage collector, whose full passes over hundreds of
    thousands of stored records otherwise cost more than the engine itself (docs/performance.md).
    """

    def __init__(self) -> None:
        # Dictionaries of strings to None rather than sets: the garbage collector skips them entirely.
        self._processed: dict[str, None] = {}
        self._alias: dict[str, str] = {}
        self._aliases_of: dict[str, tuple[str, ...]] = {}
        self._clicks: dict[str, tuple[Any, ...]] = {}  # click rows end to end: oldest first, ties in arrival order
        self._bindings: dict[str, tuple[Any, ...]] = {}
        self._distributors: dict[str, tuple[Any, ...]] = {}
        self._lives: dict[str, tuple[Any, ...]] = {}
        self._replays: dict[str, ReplayRecord] = {}
        self._watches: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._watched: dict[str, tuple[str, ...]] = {}
        self._progress: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        self._completed: dict[str, tuple[Any, ...]] = {}  # task progress rows end to end
        self._qualified: set[tuple[str, str, str]] = set()
        self._paying: dict[str, tuple[Any, ...]] = {}  # customer -> PaidOrder row
        self._orders: dict[str, tuple[Any, ...]] = {}  # (id, paid_at, approve_at, has_pending, board_orders,
        # board_gmv, *lifecycle entries)
        self._rewards: dict[str, tuple[Any, ...]] = {}  # order -> task cash rows end to end
        self._snapshots: dict[str, tuple[Any, ...]] = {}
        self._entries: dict[str, tuple[Any, ...]] = {}  # ledger entry rows end to end
        self._points: dict[str, PointsGrant] = {}
        self._invitations: dict[tuple[str, str, str], None] = {}
        self._invited: dict[str, list[tuple[str, str]]] = {}  # viewer -> (live, distributor), arrival order
        self._live_qualified: dict[tuple[str, str], None] = {}
        self._live_stats: dict[tuple[str, str], LiveStat] = {}
        self._last_snapshot: tuple[str, OrderSnapshot | None] = ("", None)
        # Orders created and not paid yet: their snapshot as written, so that order.paid reads it back without
        # decoding its row (snapshots are never mutated once built). Dropped once the order is paid, and the
        # oldest past FRESH_SNAPSHOTS: the collector follows these objects, so only a few are kept.
        self._fresh: dict[str, OrderSnapshot] = {}
        self._customers: dict[str, None] = {}
        self._invitee_days: dict[tuple[str, date], int] = {}
        self._held: dict[str, HeldInvitee] = {}
        self._bans: dict[str, tuple[BanMark, ...]] = {}

    def mark_processed(self, event_id: str) -> bool:
        if event_id in self._processed:
            return False
        self._processed[event_id] = None
        return True

    def resolve(self, identity: str) -> str:
        return self._alias.get(identity, identity)

    def link_identity(self, visitor: str, customer: str) -> None:
        if visitor == customer or self._alias.get(visitor) == customer:
            return
        self._alias[visitor] = customer
        self._aliases_of[customer] = self._aliases_of.get(customer, ()) + (visitor,)

    def add_click(self, identity: str, click: Click) -> None:
        clicks = _groups(self._clicks.get(identity, ()), _CLICK)
        insort(clicks, _Rows.click(click), key=_first)  # after clicks at the same time: arrival order
        self._clicks[identity] = _flat(clicks)

    def clicks(self, identity: str) -> list[Click]:
        found = _records(Click, self._clicks.get(identity, ()), _CLICK)
        aliases = self._aliases_of.get(identity)
        if aliases:
            for alias in aliases:
                found.extend(_records(Click, self._clicks.get(alias, ()), _CLICK))
            found.sort(key=_click_time)  # stable: the identity's own clicks first on equal times
        return found

    def get_binding(self, identity: str) -> BindingRecord | None:
        row = self._bindings.get(identity)
        return None if row is None else BindingRecord(*row)

    def put_binding(self, binding: BindingRecord) -> None:
        self._bindings[binding.identity] = _Rows.binding(binding)

    def drop_binding(self, identity: str) -> None:
        self._bindings.pop(identity, None)

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None:
        row = self._distributors.get(distributor_id)
        if row is None:
            return None
        if len(row) == 7:  # one rank: _Rows.to_distributor, inlined
            return DistributorRecord(row[0], row[1], row[2], [(row[5], row[6])], row[3], row[4])
        return _Rows.to_distributor(row)

    def put_distributor(self, record: DistributorRecord) -> None:
        self._distributors[record.id] = _Rows.distributor(record)

    def distributors(self) -> Iterable[DistributorRecord]:
        return [_Rows.to_distributor(row) for row in self._distributors.values()]

    def add_ban_mark(self, mark: BanMark) -> None:
        marks = self._bans.get(mark.distributor, ())
        if all(m.event != mark.event for m in marks):
            self._bans[mark.distributor] = tuple(sorted((*marks, mark), key=ban_order))

    def ban_marks(self) -> dict[str, tuple[BanMark, ...]]:
        return self._bans

    def orders_paying(self, distributor: str, since: datetime) -> list[str]:
        found = []
        for order_id, row in self._orders.items():
            snapshot = self._snapshots.get(order_id)
            if snapshot is None and order_id in self._fresh:
                snapshot = _Rows.snapshot(self._fresh[order_id])
            if snapshot is None or distributor not in snapshot and distributor not in self._rewards.get(order_id, ()):
                continue  # the id is nowhere in the flat rows: no share and no reward of theirs (the fast path)
            paid_at = row[1]
            shares = paid_at is not None and paid_at >= since and any(
                share.beneficiary == distributor for priced in _Rows.to_snapshot(snapshot).lines
                for share in priced.shares)
            rewards = any(r.beneficiary == distributor
                          for r in _records(TaskCash, self._rewards.get(order_id, ()), _TASK_CASH))
            if shares or rewards:
                found.append(order_id)
        return found

    def get_live(self, live_id: str) -> LiveRecord | None:
        row = self._lives.get(live_id)
        return None if row is None else LiveRecord(*row)

    def put_live(self, record: LiveRecord) -> None:
        self._lives[record.id] = _Rows.live(record)

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
        self._watches[key] = _Rows.watch(record)

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
        row = self._progress[key] = _Rows.progress(record)
        if record.completed_at is not None and (previous is None or previous[4] is None):
            self._completed[record.distributor] = self._completed.get(record.distributor, ()) + row

    def completed_tasks(self, distributor: str) -> list[TaskProgress]:
        rows = self._completed.get(distributor)
        return _records(TaskProgress, rows, _PROGRESS) if rows else []

    def add_qualified(self, task: str, scope_key: str, invitee: str) -> bool:
        key = (task, scope_key, invitee)
        if key in self._qualified:
            return False
        self._qualified.add(key)
        return True

    def qualifications(self, invitee: str) -> list[tuple[str, str]]:
        return sorted((task, scope) for task, scope, who in self._qualified if who == invitee)

    def paying_order(self, customer: str) -> PaidOrder | None:
        row = self._paying.get(customer)
        return None if row is None else PaidOrder(*row)

    def put_paying_order(self, customer: str, paid: PaidOrder) -> None:
        self._paying[customer] = (paid.order, paid.at, paid.live)

    def get_order(self, order_id: str) -> OrderRecord | None:
        row = self._orders.get(order_id)
        if row is None:
            return None
        snapshot = self._fresh.get(order_id)
        if snapshot is None:
            snapshot_row = self._snapshots.get(order_id)
            snapshot = None if snapshot_row is None else _Rows.to_snapshot(snapshot_row)
            self._last_snapshot = (order_id, snapshot)  # writing the record back then need not encode it again
        lifecycle = _groups(row[6:], _LIFECYCLE) if len(row) > 6 else []
        rewards = _records(TaskCash, self._rewards[order_id], _TASK_CASH) if order_id in self._rewards else []
        return OrderRecord(order_id, snapshot, lifecycle, row[1], row[2], row[3], rewards, row[4], row[5])

    def put_order(self, record: OrderRecord) -> None:
        # A snapshot never changes once the order is created: the one just read need not be written again.
        snapshot = record.snapshot
        order_id = record.id
        fresh = self._fresh
        if snapshot is None:
            self._snapshots.pop(order_id, None)
            fresh.pop(order_id, None)
            if self._last_snapshot[0] == order_id:
                self._last_snapshot = ("", None)
        elif record.paid_at is None:  # not paid yet: kept as the object (its row is written when it leaves)
            if fresh.get(order_id) is not snapshot:
                self._snapshots.pop(order_id, None)
                fresh.pop(order_id, None)  # re-inserted last: the oldest leave first
                fresh[order_id] = snapshot
                if len(fresh) > FRESH_SNAPSHOTS:
                    oldest = next(iter(fresh))
                    self._snapshots[oldest] = _Rows.snapshot(fresh.pop(oldest))
        else:
            kept = fresh.pop(order_id, None)
            last_id, last = self._last_snapshot
            if kept is not snapshot and (snapshot is not last or order_id != last_id) \
                    or order_id not in self._snapshots:
                self._snapshots[order_id] = _Rows.snapshot(snapshot)
                self._last_snapshot = (order_id, snapshot)
        lifecycle = record.lifecycle
        self._orders[order_id] = (order_id, record.paid_at, record.approve_at, record.has_pending,
                                  record.board_orders, record.board_gmv,
                                  *(lifecycle[0] if len(lifecycle) == 1 else chain.from_iterable(lifecycle)))
        if record.rewards:
            self._rewards[order_id] = _flat(map(_Rows.task_cash, record.rewards))
        elif order_id in self._rewards:
            del self._rewards[order_id]

    def order_ids(self) -> list[str]:
        return list(self._orders)

    def orders_due(self, now: datetime) -> list[str]:
        return [
            order_id for order_id, (_, _, approve_at, has_pending, *_) in self._orders.items()
            if has_pending and approve_at is not None and approve_at <= now
        ]

    def replace_entries(self, order_id: str, entries: list[LedgerEntry]) -> None:
        self._entries[order_id] = _flat(map(_Rows.entry, entries))

    def entries(self, order_id: str | None = None) -> list[LedgerEntry]:
        if order_id is not None:
            return _records(LedgerEntry, self._entries.get(order_id, ()), _ENTRY)
        return [entry for rows in self._entries.values() for entry in _records(LedgerEntry, rows, _ENTRY)]

    def add_points(self, grant: PointsGrant) -> bool:
        if grant.key in self._points:
            return False
        self._points[grant.key] = grant  # frozen: shared safely
        return True

    def points(self) -> list[PointsGrant]:
        return list(self._points.values())

    def get_points(self, key: str) -> PointsGrant | None:
        return self._points.get(key)

    def add_live_invitation(self, live: str, distributor: str, viewer: str) -> bool:
        key = (live, distributor, viewer)
        if key in self._invitations:
            return False
        self._invitations[key] = None
        self._invited.setdefault(viewer, []).append((live, distributor))
        return True

    def invitations(self, viewer: str) -> list[tuple[str, str]]:
        # by viewer, not a scan of every invitation: the scan made a long replay quadratic in its clicks
        return list(self._invited.get(viewer, ()))

    def add_live_qualified(self, live: str, viewer: str) -> bool:
        key = (live, viewer)
        if key in self._live_qualified:
            return False
        self._live_qualified[key] = None
        return True

    def is_live_qualified(self, live: str, viewer: str) -> bool:
        return (live, viewer) in self._live_qualified

    def bump_live_stat(self, live: str, distributor: str, invited: int = 0, qualified: int = 0, orders: int = 0,
                       gmv: Decimal = Decimal(0), currency: str = "") -> None:
        key = (live, distributor)
        stat = self._live_stats.get(key)
        if stat is None:
            stat = self._live_stats[key] = LiveStat(live=live, distributor=distributor)
        stat.invited += invited
        stat.qualified += qualified
        stat.orders += orders
        stat.gmv += gmv
        stat.currency = stat.currency or currency

    def live_stats(self, live: str) -> list[LiveStat]:
        return [replace(s) for (lv, _), s in sorted(self._live_stats.items()) if lv == live]

    def mark_customer(self, identity: str) -> None:
        self._customers[identity] = None

    def is_customer(self, identity: str) -> bool:
        return identity in self._customers

    def count_invitee(self, distributor: str, day: date) -> int:
        count = self._invitee_days[(distributor, day)] = self._invitee_days.get((distributor, day), 0) + 1
        return count

    def get_held_invitee(self, key: str) -> HeldInvitee | None:
        return self._held.get(key)

    def put_held_invitee(self, held: HeldInvitee) -> None:
        self._held[held.key] = held

    def held_invitees(self) -> list[HeldInvitee]:
        return sorted(self._held.values(), key=attrgetter("at", "key"))


def ban_order(mark: BanMark) -> tuple[datetime, str]:
    return mark.at, mark.event


def _click_time(click: Click) -> datetime:
    return click.at


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def _flat(rows: Iterable[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Rows of one size end to end in one tuple (see _Rows for why)."""
    return tuple(chain.from_iterable(rows))


def _groups(flat: tuple[Any, ...], size: int) -> list[tuple[Any, ...]]:
    return [flat[i:i + size] for i in range(0, len(flat), size)]


def _records(cls: Callable[..., Any], flat: tuple[Any, ...], size: int) -> list[Any]:
    return [cls(*flat[i:i + size]) for i in range(0, len(flat), size)]


def _all_fields(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    return attrgetter(*(f.name for f in fields(cls)))  # type: ignore[no-any-return]


class _Rows:
    """Records to rows and back. A row is a tuple of the record's fields in declaration order, flattened:
    a nested record or a list is written out in place rather than as a tuple in the tuple. The garbage
    collector stops following a tuple once everything in it is untracked, but it untracks nested tuples
    one level per pass, so deeper rows would reach its oldest generation and trigger full passes."""

    click = _all_fields(Click)
    binding = _all_fields(BindingRecord)
    live = _all_fields(LiveRecord)
    watch = _all_fields(WatchRecord)
    progress = _all_fields(TaskProgress)
    entry = _all_fields(LedgerEntry)
    task_cash = _all_fields(TaskCash)
    _SHARE, _LINE, _ATTRIBUTION = len(fields(Share)), len(fields(Line)), len(fields(Attribution))

    @staticmethod
    def distributor(r: DistributorRecord) -> tuple[Any, ...]:
        """(id, upline, joined_at, last_sale_at, paying_invitees, since, rank, since, rank, ...)"""
        ranks = r.ranks
        if len(ranks) == 1:
            return (r.id, r.upline, r.joined_at, r.last_sale_at, r.paying_invitees, *ranks[0])
        row: list[Any] = [r.id, r.upline, r.joined_at, r.last_sale_at, r.paying_invitees]
        for since, rank in ranks:
            row += (since, rank)
        return tuple(row)

    @staticmethod
    def to_distributor(row: tuple[Any, ...]) -> DistributorRecord:
        ranks = [(row[5], row[6])] if len(row) == 7 else list(zip(row[5::2], row[6::2]))
        return DistributorRecord(row[0], row[1], row[2], ranks, row[3], row[4])

    @staticmethod
    def snapshot(s: OrderSnapshot) -> tuple[Any, ...]:
        """(id, customer, channel, currency, at, rules_version, *attribution, then per line: *line, the number
        of shares, *share, *share...), each record's fields in declaration order, written out by hand (once
        per order; test_memory_store.test_rows_follow_the_records_fields counts the fields)"""
        a = s.attribution
        row = [s.id, s.customer, s.channel, s.currency, s.at, s.rules_version,
               a.paid_to, a.last_click, a.assists, a.lives_watched, a.context, a.live, a.reason]
        for priced in s.lines:
            line, shares = priced.line, priced.shares
            row += (line.line, line.product, line.category, line.collections, line.quantity, line.amount, len(shares))
            for one in shares:
                row += (one.level, one.beneficiary, one.percent, one.rule_ids, one.actions, one.kind)
        return tuple(row)

    @staticmethod
    def to_snapshot(row: tuple[Any, ...]) -> OrderSnapshot:
        n_line, n_share = _Rows._LINE, _Rows._SHARE
        i = start = 6 + _Rows._ATTRIBUTION
        lines = []
        while i < len(row):
            line = Line(*row[i:i + n_line])
            i += n_line + 1
            end = i + row[i - 1] * n_share
            lines.append(PricedLine(line, tuple([Share(*row[j:j + n_share]) for j in range(i, end, n_share)])))
            i = end
        return OrderSnapshot(row[0], row[1], row[2], row[3], row[4], tuple(lines), Attribution(*row[6:start]),
                             row[5])


_CLICK, _PROGRESS, _ENTRY = len(fields(Click)), len(fields(TaskProgress)), len(fields(LedgerEntry))
_TASK_CASH = len(fields(TaskCash))
FRESH_SNAPSHOTS = 4096  # snapshots of unpaid orders kept as objects (MemoryStore._fresh)
_LIFECYCLE = 5  # OrderRecord.lifecycle entries: (at, type rank, event id, type, refunded lines)
