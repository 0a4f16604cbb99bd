"""The Store on PostgreSQL: a unit of work over one transaction.

Reads go through an identity map (so one batch of events reads each row once), writes are kept and sent
as bulk upserts by `flush()`. Before any query of a table with unsent writes, that table is flushed, so a
read always sees the batch's own writes. The caller holds the processing lock for the whole transaction
(saleor_livedist.inbox.processing), so nobody else writes these tables meanwhile.

DbStore is the unit of work: its state, the batch's rows loaded ahead (`prefetch`) and the writes sent back
in one order (`flush`). The Store's methods are grouped by what they keep: people.py (identities, clicks,
bindings, distributors), live_room.py (lives, watches, invite tasks, leaderboard figures), ledger.py
(orders, ledger entries, points, paying customers) and guards.py (customers, invitees per day, held invitees).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import models as m
from ..core.events import Event
from ..core.records import BanMark, Click, LedgerEntry, PaidOrder, PointsGrant, TaskProgress, WatchRecord
from .guards import GuardTables
from .ledger import LedgerTables
from .live_room import LiveRoomTables
from .people import PeopleTables
from .rows import any_of, binding_of, distributor_of, order_of, paid_of, upsert


class DbStore(PeopleTables, LiveRoomTables, LedgerTables, GuardTables):
    def __init__(self, inbox_dedupes: bool = False) -> None:
        # inbox_dedupes: the events come from pending inbox rows, whose unique id and `done` status (written
        # in the same transaction) already make them exactly-once; the processed-event table is then not
        # written (a quarter of the rows a batch would write).
        self._inbox_dedupes = inbox_dedupes
        self._processed: set[str] = set()
        self._checked: set[str] = set()  # ids whose presence in the database is already known
        self._new_processed: list[str] = []
        self._alias: dict[str, str | None] = {}
        self._new_alias: dict[str, tuple[str, int]] = {}
        self._own_clicks: dict[str, list[Click]] = {}  # per identity: by time, ties in arrival order
        self._aliases_of: dict[str, list[str]] = {}  # per customer: visitor ids in the order they were linked
        self._new_clicks: list[tuple[str, Click]] = []
        self._bindings: dict[str, Any] = {}
        self._dirty_bindings: dict[str, None] = {}
        self._distributors: dict[str, Any] = {}
        self._dirty_distributors: dict[str, None] = {}
        self._lives: dict[str, Any] = {}
        self._dirty_lives: dict[str, None] = {}
        self._replays: dict[str, Any] = {}
        self._dirty_replays: dict[str, None] = {}
        self._watches: dict[tuple[str, str], Any] = {}
        self._watched: dict[str, list[str]] = {}  # viewer -> lives, in first-watched order
        self._dirty_watches: dict[tuple[str, str], None] = {}
        self._progress: dict[tuple[str, str, str], Any] = {}
        self._dirty_progress: dict[tuple[str, str, str], None] = {}
        self._completed: dict[str, list[TaskProgress]] = {}
        self._qualified: dict[tuple[str, str, str], bool] = {}
        self._new_qualified: list[tuple[str, str, str]] = []
        self._qualified_known: set[str] = set()  # invitees whose qualifications are all loaded
        self._paying: dict[str, PaidOrder | None] = {}
        self._new_paying: dict[str, PaidOrder] = {}
        self._orders: dict[str, Any] = {}
        self._dirty_orders: dict[str, None] = {}
        self._entries: dict[str, list[LedgerEntry]] = {}
        self._dirty_entries: dict[str, None] = {}
        self._points: dict[str, Any] = {}
        self._invitations: dict[tuple[str, str, str], bool] = {}
        self._new_invitations: list[tuple[str, str, str]] = []
        self._invitations_known: set[tuple[str, str]] = set()  # (live, viewer): their invitations all loaded
        self._live_qualified: dict[tuple[str, str], bool] = {}
        self._new_live_qualified: list[tuple[str, str]] = []
        self._stat_deltas: dict[tuple[str, str], list[Any]] = {}  # (live, distributor) -> [invited, qualified,
        # orders, gmv, currency], added to the rows at flush
        self._new_points: list[PointsGrant] = []
        self._bans: dict[str, tuple[BanMark, ...]] | None = None  # all ban marks, once read
        self._new_bans: list[BanMark] = []
        self._init_guards()

    def prefetch(self, events: Iterable[Event]) -> None:
        """Load in a few queries what a batch of events will read: processed ids, orders, aliases, bindings,
        clicks, distributors (with their uplines), lives."""
        events = list(events)
        ids = [e.id for e in events]
        if self._inbox_dedupes:
            ids = []
        self._processed.update(
            m.ProcessedEvent.objects.filter(any_of("event_id", ids)).values_list("event_id", flat=True))
        self._checked.update(ids)
        people: set[str] = set()
        orders: set[str] = set()
        lives: set[str] = set()
        distributors: set[str] = set()
        for e in events:
            d = e.data
            for key in ("customer", "visitor", "viewer"):
                if d.get(key):
                    people.add(d[key])
            if d.get("distributor"):
                distributors.add(d["distributor"])
            if d.get("order"):
                orders.add(d["order"])
            if d.get("live"):
                lives.add(d["live"])
            target = d.get("target")
            if target and target["kind"] == "live":  # a live link: the viewer's invitation and watch are read
                lives.add(target["id"])
            ref = d.get("ref")
            if ref:
                distributors.add(ref if isinstance(ref, str) else ref["distributor"])
        for visitor in people:
            self._alias.setdefault(visitor, None)
        for row in m.Alias.objects.filter(any_of("visitor", people)):
            self._alias[row.visitor] = row.customer
        people |= {c for c in self._alias.values() if c}
        for identity in people:
            self._bindings.setdefault(identity, None)
            self._aliases_of.setdefault(identity, [])
        self._prefetch_customers(people)
        for row in m.Binding.objects.filter(any_of("identity", people)):
            self._bindings[row.identity] = binding_of(row)
        for row in m.Alias.objects.filter(any_of("customer", people)).order_by("position", "visitor"):
            self._aliases_of[row.customer].append(row.visitor)
        everyone = people | {v for vs in self._aliases_of.values() for v in vs}
        for identity in everyone:
            self._own_clicks.setdefault(identity, [])
        for row in m.Click.objects.filter(any_of("identity", everyone)).order_by("at", "id"):
            self._own_clicks[row.identity].append(
                Click(at=row.at, distributor=row.distributor, kind=row.kind, target=row.target))
        for clicks in self._own_clicks.values():  # a buyer's order is attributed to the live of a live link
            lives.update(c.target for c in clicks if c.kind == "live")
        self._load_distributors((people | distributors), depth=3)
        for identity in people:
            self._watched.setdefault(identity, [])
            self._paying.setdefault(identity, None)
        for row in m.Watch.objects.filter(any_of("viewer", people)).order_by("id"):
            self._watched[row.viewer].append(row.live)
            self._watches.setdefault((row.live, row.viewer), WatchRecord(
                live=row.live, viewer=row.viewer, open_count=row.open_count, active_since=row.active_since,
                seconds=row.seconds, last_seen=row.last_seen, until=row.until, spans=tuple(row.spans)))
        for live_id in lives:  # known not to be watching yet: no lookup when they join
            for identity in people:
                self._watches.setdefault((live_id, identity), None)
        for task, scope_key, invitee in m.QualifiedInvitee.objects.filter(any_of("invitee", people)).values_list(
                "task", "scope_key", "invitee"):
            self._qualified[(task, scope_key, invitee)] = True
        self._qualified_known |= people
        qualified = m.LiveQualifiedViewer.objects.filter(any_of("live", lives), any_of("viewer", people))
        for live_id, viewer in qualified.values_list("live", "viewer"):
            self._live_qualified[(live_id, viewer)] = True
        for live_id in lives:
            for identity in people:
                self._live_qualified.setdefault((live_id, identity), False)
        for key in m.LiveInvitation.objects.filter(any_of("live", lives), any_of("viewer", people)).values_list(
                "live", "distributor", "viewer"):
            self._invitations[key] = True
        self._invitations_known.update((live_id, identity) for live_id in lives for identity in people)
        for row in m.PayingCustomer.objects.filter(any_of("customer", people)):
            self._paying[row.customer] = paid_of(row)
        for order_id in orders:
            self._orders.setdefault(order_id, None)
        for row in m.Order.objects.filter(any_of("id", orders)):
            self._orders[row.id] = order_of(row)
        for live_id in lives:
            self._lives.setdefault(live_id, None)
        for row in m.Live.objects.filter(any_of("id", lives)):
            self._lives[row.id] = self._live_record(row)

    def _load_distributors(self, ids: set[str], depth: int) -> None:
        todo = {i for i in ids if i not in self._distributors}
        for _ in range(depth):
            if not todo:
                return
            for i in todo:
                self._distributors[i] = None
            uplines = set()
            fresh = [i for i in todo if i not in self._completed]
            for distributor in fresh:
                self._completed[distributor] = []
            if fresh:
                self._flush_progress()  # a task completed earlier in this unit of work must be read back
            completed = m.TaskProgress.objects.filter(any_of("distributor", fresh), completed_at__isnull=False)
            for r in completed.order_by("completed_at", "id"):
                self._completed[r.distributor].append(TaskProgress(
                    task=r.task, distributor=r.distributor, scope_key=r.scope_key, qualified=r.qualified,
                    completed_at=r.completed_at))
            for row in m.Distributor.objects.filter(any_of("id", todo)):
                self._distributors[row.id] = distributor_of(row)
                if row.upline:
                    uplines.add(row.upline)
            todo = {u for u in uplines if u not in self._distributors}

    def flush(self) -> None:
        """Send every kept write to the database (inside the caller's transaction)."""
        self._flush_processed()
        self._flush_aliases()
        self._flush_clicks()
        self._flush_bindings()
        self._flush_distributors()
        self._flush_bans()
        self._flush_lives()
        self._flush_watches()
        self._flush_progress()
        self._flush_qualified()
        self._flush_paying()
        self._flush_orders()
        self._flush_entries()
        self._flush_points()
        self._flush_live_stats()
        self._flush_guards()

    def _flush_processed(self) -> None:
        if self._new_processed:
            upsert(m.ProcessedEvent, ["event_id"], [(i,) for i in self._new_processed])
            self._new_processed = []

    def mark_processed(self, event_id: str) -> bool:
        if event_id in self._processed:
            return False
        if self._inbox_dedupes:
            self._processed.add(event_id)
            return True
        if event_id not in self._checked and m.ProcessedEvent.objects.filter(event_id=event_id).exists():
            self._processed.add(event_id)
            return False
        self._processed.add(event_id)
        self._new_processed.append(event_id)
        return True
