"""The Store on PostgreSQL: a unit of work over one transaction.

Reads go through an identity map (so one batch of events reads each row once), writes are kept and sent
as bulk upserts by `flush()`. Before any query of a table with unsent writes, that table is flushed, so a
read always sees the batch's own writes. The caller holds the processing lock for the whole transaction
(saleor_livedist.inbox.processing), so nobody else writes these tables meanwhile.
"""
from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
import json
from copy import copy
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from django.db import connection


from .. import models as m
from ..core.events import Event
from ..core.money import round_money
from ..core.records import (
    BindingRecord, Click, DistributorRecord, LedgerEntry, LiveRecord, LiveStat, OrderRecord, PaidOrder, PointsGrant,
    ReplayRecord, TaskProgress, WatchRecord,
)
from .codec import (
    lifecycle_from_json, lifecycle_to_json, ranks_from_json, ranks_to_json, rewards_from_json, rewards_to_json,
    snapshot_from_json, snapshot_to_json,
)

_MISSING = object()


def _click_time(click: Click) -> datetime:
    return click.at


def _upsert(model: type, columns: list[str], rows: list[tuple[Any, ...]], conflict: list[str] | None = None,
            json_columns: tuple[str, ...] = ()) -> None:
    """INSERT ... ON CONFLICT DO UPDATE for many rows with executemany (psycopg 3 pipelines it and prepares the
    statement once). Django's bulk_create sends these through array parameters, several times slower for
    our JSON-heavy rows."""
    if not rows:
        return
    table = model._meta.db_table
    cast = ["%s::jsonb" if c in json_columns else "%s" for c in columns]
    row_sql = "(" + ", ".join(cast) + ")"
    quoted = ", ".join('"' + c + '"' for c in columns)
    head = f'INSERT INTO "{table}" ({quoted}) VALUES '
    tail = ""
    if conflict:
        updates = [c for c in columns if c not in conflict]
        keys = ", ".join('"' + c + '"' for c in conflict)
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
        tail = f" ON CONFLICT ({keys}) " + (f"DO UPDATE SET {sets}" if updates else "DO NOTHING")
    params = [
        tuple(json.dumps(value) if columns[n] in json_columns else value for n, value in enumerate(row))
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(head + row_sql + tail, params)


def _binding(row: m.Binding) -> BindingRecord:
    return BindingRecord(identity=row.identity, distributor=row.distributor, at=row.at, expires_at=row.expires_at,
                         via=row.via)


def _distributor(row: m.Distributor) -> DistributorRecord:
    return DistributorRecord(id=row.id, upline=row.upline, joined_at=row.joined_at, ranks=ranks_from_json(row.ranks),
                             last_sale_at=row.last_sale_at, paying_invitees=row.paying_invitees)


def _order(row: m.Order) -> OrderRecord:
    return OrderRecord(
        id=row.id, snapshot=snapshot_from_json(row.snapshot) if row.snapshot else None,
        lifecycle=lifecycle_from_json(row.lifecycle), paid_at=row.paid_at, approve_at=row.approve_at,
        has_pending=row.has_pending, rewards=rewards_from_json(row.rewards), board_orders=row.board_orders,
        board_gmv=plain(row.board_gmv),
    )


_LONG_AGO = datetime(1, 1, 1, tzinfo=timezone.utc)


def _paid(row: m.PayingCustomer) -> PaidOrder:
    # A customer recorded before orders were kept with them (nothing found by migration 0013) still counts as
    # paying; no order of theirs qualifies for a task.
    return PaidOrder(order=row.order, at=row.order_at or _LONG_AGO, live=row.live)


def _entry(row: m.LedgerEntry) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, order=row.order, line=row.line, beneficiary=row.beneficiary, kind=row.kind, level=row.level,
        amount=round_money(row.amount, row.currency), currency=row.currency, status=row.status,
        percent=plain(row.percent), rule_ids=tuple(row.rule_ids), rules_version=row.rules_version, at=row.at,
    )


def plain(value: Decimal) -> Decimal:
    """Decimal('14.0000') -> Decimal('14'), Decimal('2.5000') -> Decimal('2.5'): as the rules wrote it."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _grant(row: m.PointsGrant) -> PointsGrant:
    return PointsGrant(key=row.key, beneficiary=row.beneficiary, points=row.points, reason=row.reason,
                       rule_ids=tuple(row.rule_ids), rules_version=row.rules_version, at=row.at, live=row.live,
                       invitee=row.invitee)


class DbStore:
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
        self._live_qualified: dict[tuple[str, str], bool] = {}
        self._new_live_qualified: list[tuple[str, str]] = []
        self._stat_deltas: dict[tuple[str, str], list[Any]] = {}  # (live, distributor) -> [invited, qualified,
        # orders, gmv, currency], added to the rows at flush
        self._new_points: list[PointsGrant] = []

    # ------------------------------------------------------------------ batch helpers

    def prefetch(self, events: Iterable[Event]) -> None:
        """Load in a few queries what a batch of events will read: processed ids, orders, aliases, bindings,
        clicks, distributors (with their uplines), lives."""
        events = list(events)
        ids = [e.id for e in events]
        if self._inbox_dedupes:
            ids = []
        self._processed.update(m.ProcessedEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
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
            ref = d.get("ref")
            if ref:
                distributors.add(ref if isinstance(ref, str) else ref["distributor"])
        for visitor in people:
            self._alias.setdefault(visitor, None)
        for row in m.Alias.objects.filter(visitor__in=people):
            self._alias[row.visitor] = row.customer
        people |= {c for c in self._alias.values() if c}
        for identity in people:
            self._bindings.setdefault(identity, None)
            self._aliases_of.setdefault(identity, [])
        for row in m.Binding.objects.filter(identity__in=people):
            self._bindings[row.identity] = _binding(row)
        for row in m.Alias.objects.filter(customer__in=people).order_by("position", "visitor"):
            self._aliases_of[row.customer].append(row.visitor)
        everyone = people | {v for vs in self._aliases_of.values() for v in vs}
        for identity in everyone:
            self._own_clicks.setdefault(identity, [])
        for row in m.Click.objects.filter(identity__in=everyone).order_by("at", "id"):
            self._own_clicks[row.identity].append(
                Click(at=row.at, distributor=row.distributor, kind=row.kind, target=row.target))
        self._load_distributors((people | distributors), depth=3)
        for identity in people:
            self._watched.setdefault(identity, [])
            self._paying.setdefault(identity, None)
        for row in m.Watch.objects.filter(viewer__in=people).order_by("id"):
            self._watched[row.viewer].append(row.live)
            self._watches.setdefault((row.live, row.viewer), WatchRecord(
                live=row.live, viewer=row.viewer, open_count=row.open_count, active_since=row.active_since,
                seconds=row.seconds, last_seen=row.last_seen, until=row.until, spans=tuple(row.spans)))
        for live_id in lives:  # known not to be watching yet: no lookup when they join
            for identity in people:
                self._watches.setdefault((live_id, identity), None)
        for task, scope_key, invitee in m.QualifiedInvitee.objects.filter(invitee__in=people).values_list(
                "task", "scope_key", "invitee"):
            self._qualified[(task, scope_key, invitee)] = True
        self._qualified_known |= people
        for live_id, viewer in m.LiveQualifiedViewer.objects.filter(live__in=lives, viewer__in=people).values_list(
                "live", "viewer"):
            self._live_qualified[(live_id, viewer)] = True
        for live_id in lives:
            for identity in people:
                self._live_qualified.setdefault((live_id, identity), False)
        for row in m.PayingCustomer.objects.filter(customer__in=people):
            self._paying[row.customer] = _paid(row)
        for order_id in orders:
            self._orders.setdefault(order_id, None)
        for row in m.Order.objects.filter(id__in=orders):
            self._orders[row.id] = _order(row)
        for live_id in lives:
            self._lives.setdefault(live_id, None)
        for row in m.Live.objects.filter(id__in=lives):
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
            completed = m.TaskProgress.objects.filter(distributor__in=fresh, completed_at__isnull=False)
            for r in completed.order_by("completed_at", "id"):
                self._completed[r.distributor].append(TaskProgress(
                    task=r.task, distributor=r.distributor, scope_key=r.scope_key, qualified=r.qualified,
                    completed_at=r.completed_at))
            for row in m.Distributor.objects.filter(id__in=todo):
                self._distributors[row.id] = _distributor(row)
                if row.upline:
                    uplines.add(row.upline)
            todo = {u for u in uplines if u not in self._distributors}

    @staticmethod
    def _live_record(row: m.Live) -> LiveRecord:
        return LiveRecord(id=row.id, starts_at=row.starts_at, products=frozenset(row.products), host=row.host,
                          started_at=row.started_at, ended_at=row.ended_at)

    def flush(self) -> None:
        """Send every kept write to the database (inside the caller's transaction)."""
        self._flush_processed()
        self._flush_aliases()
        self._flush_clicks()
        self._flush_bindings()
        self._flush_distributors()
        self._flush_lives()
        self._flush_watches()
        self._flush_progress()
        self._flush_sets()
        self._flush_orders()
        self._flush_entries()
        self._flush_points()
        self._flush_live_stats()

    def _flush_processed(self) -> None:
        if self._new_processed:
            _upsert(m.ProcessedEvent, ["event_id"], [(i,) for i in self._new_processed])
            self._new_processed = []

    def _flush_aliases(self) -> None:
        if self._new_alias:
            _upsert(m.Alias, ["visitor", "customer", "position"],
                    [(v, c, n) for v, (c, n) in self._new_alias.items()], conflict=["visitor"])
            self._new_alias = {}

    def _flush_clicks(self) -> None:
        if self._new_clicks:
            _upsert(m.Click, ["identity", "at", "distributor", "kind", "target"],
                    [(i, c.at, c.distributor, c.kind, c.target) for i, c in self._new_clicks])
            self._new_clicks = []

    def _flush_bindings(self) -> None:
        if not self._dirty_bindings:
            return
        keep = [b for i in self._dirty_bindings if (b := self._bindings.get(i)) is not None]
        drop = [i for i in self._dirty_bindings if self._bindings.get(i) is None]
        if drop:
            m.Binding.objects.filter(identity__in=drop).delete()
        _upsert(m.Binding, ["identity", "distributor", "at", "expires_at", "via"],
                [(b.identity, b.distributor, b.at, b.expires_at, b.via) for b in keep], conflict=["identity"])
        self._dirty_bindings = {}

    def _flush_distributors(self) -> None:
        if not self._dirty_distributors:
            return
        _upsert(m.Distributor, ["id", "upline", "joined_at", "rank", "ranks", "last_sale_at", "paying_invitees"],
                [(d.id, d.upline, d.joined_at, d.rank, ranks_to_json(d.ranks), d.last_sale_at, d.paying_invitees)
                 for i in self._dirty_distributors if (d := self._distributors[i]) is not None],
                conflict=["id"], json_columns=("ranks",))
        self._dirty_distributors = {}

    def _flush_lives(self) -> None:
        if self._dirty_lives:
            m.Live.objects.bulk_create(
                [m.Live(id=v.id, starts_at=v.starts_at, products=sorted(v.products), host=v.host,
                        started_at=v.started_at, ended_at=v.ended_at)
                 for i in self._dirty_lives if (v := self._lives[i]) is not None],
                update_conflicts=True, unique_fields=["id"],
                update_fields=["starts_at", "products", "host", "started_at", "ended_at"],
            )
            self._dirty_lives = {}
        if self._dirty_replays:
            m.Replay.objects.bulk_create(
                [m.Replay(id=r.id, live=r.live, available_from=r.available_from, until=r.until)
                 for i in self._dirty_replays if (r := self._replays[i]) is not None],
                update_conflicts=True, unique_fields=["id"], update_fields=["live", "available_from", "until"],
            )
            self._dirty_replays = {}

    def _flush_watches(self) -> None:
        if not self._dirty_watches:
            return
        m.Watch.objects.bulk_create(
            [m.Watch(live=w.live, viewer=w.viewer, open_count=w.open_count, active_since=w.active_since,
                     seconds=w.seconds, last_seen=w.last_seen, until=w.until, spans=list(w.spans))
             for k in self._dirty_watches if (w := self._watches[k]) is not None],
            update_conflicts=True, unique_fields=["live", "viewer"],
            update_fields=["open_count", "active_since", "seconds", "last_seen", "until", "spans"],
        )
        self._dirty_watches = {}

    def _flush_progress(self) -> None:
        if not self._dirty_progress:
            return
        m.TaskProgress.objects.bulk_create(
            [m.TaskProgress(task=p.task, distributor=p.distributor, scope_key=p.scope_key, qualified=p.qualified,
                            completed_at=p.completed_at)
             for k in self._dirty_progress if (p := self._progress[k]) is not None],
            update_conflicts=True, unique_fields=["task", "distributor", "scope_key"],
            update_fields=["qualified", "completed_at"],
        )
        self._dirty_progress = {}

    def _flush_sets(self) -> None:
        if self._new_qualified:
            m.QualifiedInvitee.objects.bulk_create(
                [m.QualifiedInvitee(task=t, scope_key=s, invitee=i) for t, s, i in self._new_qualified])
            self._new_qualified = []
        if self._new_paying:
            _upsert(m.PayingCustomer, ["customer", "order", "order_at", "live"],
                    [(c, p.order, p.at, p.live) for c, p in self._new_paying.items()], conflict=["customer"])
            self._new_paying = {}

    def _flush_orders(self) -> None:
        if not self._dirty_orders:
            return
        rows = []
        for i in self._dirty_orders:
            o = self._orders[i]
            rows.append((o.id, o.snapshot.customer if o.snapshot else "",
                         snapshot_to_json(o.snapshot) if o.snapshot else None, lifecycle_to_json(o.lifecycle),
                         o.paid_at, o.approve_at, o.has_pending, rewards_to_json(o.rewards), o.board_orders,
                         o.board_gmv))
        _upsert(m.Order,
                ["id", "customer", "snapshot", "lifecycle", "paid_at", "approve_at", "has_pending", "rewards",
                 "board_orders", "board_gmv"], rows,
                conflict=["id"], json_columns=("snapshot", "lifecycle", "rewards"))
        self._dirty_orders = {}

    def _flush_entries(self) -> None:
        if not self._dirty_entries:
            return
        orders = list(self._dirty_entries)
        m.LedgerEntry.objects.filter(order__in=orders).delete()
        _upsert(m.LedgerEntry, ["id", "order", "line", "beneficiary", "kind", "level", "amount", "currency", "status",
                                "percent", "rule_ids", "rules_version", "at", "seq"],
                [(e.id, e.order, e.line, e.beneficiary, e.kind, e.level, e.amount, e.currency, e.status, e.percent,
                  list(e.rule_ids), e.rules_version, e.at, n)
                 for order in orders for n, e in enumerate(self._entries[order])],
                json_columns=("rule_ids",))
        self._dirty_entries = {}

    def _flush_points(self) -> None:
        if self._new_points:
            m.PointsGrant.objects.bulk_create([
                m.PointsGrant(key=g.key, beneficiary=g.beneficiary, points=g.points, reason=g.reason,
                              rule_ids=list(g.rule_ids), rules_version=g.rules_version, at=g.at, live=g.live,
                              invitee=g.invitee)
                for g in self._new_points
            ])
            self._new_points = []

    def _flush_live_stats(self) -> None:
        if self._new_invitations:
            _upsert(m.LiveInvitation, ["live", "distributor", "viewer"], self._new_invitations)
            self._new_invitations = []
        if self._new_live_qualified:
            _upsert(m.LiveQualifiedViewer, ["live", "viewer"], self._new_live_qualified)
            self._new_live_qualified = []
        if self._stat_deltas:
            rows = [(live, who, *delta) for (live, who), delta in self._stat_deltas.items()]
            table = m.LiveStat._meta.db_table
            sql = (
                f'INSERT INTO "{table}" (live, distributor, invited, qualified, orders, gmv, currency) '
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (live, distributor) DO UPDATE SET "
                f'invited = "{table}".invited + EXCLUDED.invited, qualified = "{table}".qualified + EXCLUDED.qualified, '
                f'orders = "{table}".orders + EXCLUDED.orders, gmv = "{table}".gmv + EXCLUDED.gmv, '
                f'currency = COALESCE(NULLIF("{table}".currency, \'\'), EXCLUDED.currency)'
            )
            # A negative delta (the same person counted twice, taken back) has its row already, and would fail
            # the columns' checks as a proposed insert: an update.
            fewer = [r for r in rows if min(r[2], r[3], r[4]) < 0]
            more = [r for r in rows if min(r[2], r[3], r[4]) >= 0]
            update = (
                f'UPDATE "{table}" SET invited = GREATEST(0, invited + %s), qualified = GREATEST(0, qualified + %s), '
                "orders = GREATEST(0, orders + %s), gmv = gmv + %s WHERE live = %s AND distributor = %s"
            )
            with connection.cursor() as cursor:
                if more:
                    cursor.executemany(sql, more)
                if fewer:
                    cursor.executemany(update, [(*r[2:6], r[0], r[1]) for r in fewer])
            self._stat_deltas = {}

    # ------------------------------------------------------------------ the Store protocol

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

    def resolve(self, identity: str) -> str:
        customer = self._alias.get(identity, _MISSING)
        if customer is _MISSING:
            row = m.Alias.objects.filter(visitor=identity).values_list("customer", flat=True).first()
            self._alias[identity] = customer = row
        return customer or identity  # type: ignore[return-value]

    def link_identity(self, visitor: str, customer: str) -> None:
        if visitor == customer or self.resolve(visitor) == customer:
            return
        aliases = self._aliases(customer)
        self._alias[visitor] = customer
        self._new_alias[visitor] = (customer, len(aliases))
        aliases.append(visitor)

    def _aliases(self, customer: str) -> list[str]:
        if customer not in self._aliases_of:
            self._flush_aliases()
            self._aliases_of[customer] = list(m.Alias.objects.filter(customer=customer).order_by("position", "visitor")
                                              .values_list("visitor", flat=True))
        return self._aliases_of[customer]

    def _own(self, identity: str) -> list[Click]:
        if identity not in self._own_clicks:
            self._flush_clicks()
            self._own_clicks[identity] = [
                Click(at=r.at, distributor=r.distributor, kind=r.kind, target=r.target)
                for r in m.Click.objects.filter(identity=identity).order_by("at", "id")
            ]
        return self._own_clicks[identity]

    def add_click(self, identity: str, click: Click) -> None:
        insort(self._own(identity), click, key=_click_time)  # after clicks at the same time: arrival order
        self._new_clicks.append((identity, click))

    def clicks(self, identity: str) -> list[Click]:
        found = list(self._own(identity))
        aliases = self._aliases(identity)
        if aliases:
            for alias in aliases:
                found.extend(self._own(alias))
            found.sort(key=_click_time)  # stable: the identity's own clicks first on equal times
        return found

    def get_binding(self, identity: str) -> BindingRecord | None:
        found = self._bindings.get(identity, _MISSING)
        if found is _MISSING:
            row = m.Binding.objects.filter(identity=identity).first()
            self._bindings[identity] = found = _binding(row) if row else None
        return found  # type: ignore[return-value]

    def put_binding(self, binding: BindingRecord) -> None:
        self._bindings[binding.identity] = binding
        self._dirty_bindings[binding.identity] = None

    def drop_binding(self, identity: str) -> None:
        self._bindings[identity] = None
        self._dirty_bindings[identity] = None

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None:
        found = self._distributors.get(distributor_id, _MISSING)
        if found is _MISSING:
            self._load_distributors({distributor_id}, depth=3)
            found = self._distributors[distributor_id]
        if found is None:
            return None
        record = copy(found)
        record.ranks = list(found.ranks)
        return record

    def put_distributor(self, record: DistributorRecord) -> None:
        self._distributors[record.id] = record
        self._dirty_distributors[record.id] = None

    def distributors(self) -> Iterable[DistributorRecord]:
        self._flush_distributors()
        return [_distributor(r) for r in m.Distributor.objects.order_by("id")]

    def get_live(self, live_id: str) -> LiveRecord | None:
        found = self._lives.get(live_id, _MISSING)
        if found is _MISSING:
            row = m.Live.objects.filter(id=live_id).first()
            self._lives[live_id] = found = self._live_record(row) if row else None
        return copy(found) if found is not None else None

    def put_live(self, record: LiveRecord) -> None:
        self._lives[record.id] = record
        self._dirty_lives[record.id] = None

    def get_replay(self, replay_id: str) -> ReplayRecord | None:
        found = self._replays.get(replay_id, _MISSING)
        if found is _MISSING:
            row = m.Replay.objects.filter(id=replay_id).first()
            found = ReplayRecord(id=row.id, live=row.live, available_from=row.available_from, until=row.until) \
                if row else None
            self._replays[replay_id] = found
        return found  # type: ignore[return-value]

    def put_replay(self, record: ReplayRecord) -> None:
        self._replays[record.id] = record
        self._dirty_replays[record.id] = None

    def get_watch(self, live_id: str, viewer: str) -> WatchRecord | None:
        key = (live_id, viewer)
        found = self._watches.get(key, _MISSING)
        if found is _MISSING:
            row = m.Watch.objects.filter(live=live_id, viewer=viewer).first()
            found = WatchRecord(live=row.live, viewer=row.viewer, open_count=row.open_count,
                                active_since=row.active_since, seconds=row.seconds,
                                last_seen=row.last_seen, until=row.until, spans=tuple(row.spans)) if row else None
            self._watches[key] = found
        return copy(found) if found is not None else None

    def put_watch(self, record: WatchRecord) -> None:
        key = (record.live, record.viewer)
        if self._watches.get(key) is None and record.viewer in self._watched:
            if record.live not in self._watched[record.viewer]:
                self._watched[record.viewer].append(record.live)
        self._watches[key] = record
        self._dirty_watches[key] = None

    def open_watches(self, live_id: str) -> list[WatchRecord]:
        self._flush_watches()
        rows = m.Watch.objects.filter(live=live_id, open_count__gt=0).order_by("viewer")
        return [self.get_watch(r.live, r.viewer) for r in rows]  # type: ignore[misc]

    def lives_watched(self, viewer: str) -> list[str]:
        if viewer not in self._watched:
            self._flush_watches()
            self._watched[viewer] = list(m.Watch.objects.filter(viewer=viewer).order_by("id")
                                         .values_list("live", flat=True))
        return list(self._watched[viewer])

    def get_task_progress(self, task: str, distributor: str, scope_key: str) -> TaskProgress | None:
        key = (task, distributor, scope_key)
        found = self._progress.get(key, _MISSING)
        if found is _MISSING:
            row = m.TaskProgress.objects.filter(task=task, distributor=distributor, scope_key=scope_key).first()
            found = TaskProgress(task=row.task, distributor=row.distributor, scope_key=row.scope_key,
                                 qualified=row.qualified, completed_at=row.completed_at) if row else None
            self._progress[key] = found
        return copy(found) if found is not None else None

    def put_task_progress(self, record: TaskProgress) -> None:
        key = (record.task, record.distributor, record.scope_key)
        self._progress[key] = record
        self._dirty_progress[key] = None
        if record.completed_at is not None and record.distributor in self._completed:
            done = self._completed[record.distributor]
            if not any((p.task, p.scope_key) == (record.task, record.scope_key) for p in done):
                done.append(record)

    def completed_tasks(self, distributor: str) -> list[TaskProgress]:
        if distributor not in self._completed:
            self._flush_progress()
            self._completed[distributor] = [
                TaskProgress(task=r.task, distributor=r.distributor, scope_key=r.scope_key, qualified=r.qualified,
                             completed_at=r.completed_at)
                for r in m.TaskProgress.objects.filter(distributor=distributor, completed_at__isnull=False)
                .order_by("completed_at", "id")
            ]
        return self._completed[distributor]

    def add_qualified(self, task: str, scope_key: str, invitee: str) -> bool:
        key = (task, scope_key, invitee)
        known = self._qualified.get(key)
        if known is None and invitee not in self._qualified_known:  # (prefetched invitees: absent means no)
            known = m.QualifiedInvitee.objects.filter(task=task, scope_key=scope_key, invitee=invitee).exists()
        if known:
            self._qualified[key] = True
            return False
        self._qualified[key] = True
        self._new_qualified.append(key)
        return True

    def qualifications(self, invitee: str) -> list[tuple[str, str]]:
        self._flush_sets()
        return list(m.QualifiedInvitee.objects.filter(invitee=invitee).order_by("task", "scope_key")
                    .values_list("task", "scope_key"))

    def paying_order(self, customer: str) -> PaidOrder | None:
        found = self._paying.get(customer, _MISSING)
        if found is _MISSING:
            row = m.PayingCustomer.objects.filter(customer=customer).first()
            self._paying[customer] = found = _paid(row) if row else None
        return found  # type: ignore[return-value]

    def put_paying_order(self, customer: str, paid: PaidOrder) -> None:
        self._paying[customer] = paid
        self._new_paying[customer] = paid

    def get_order(self, order_id: str) -> OrderRecord | None:
        found = self._orders.get(order_id, _MISSING)
        if found is _MISSING:
            row = m.Order.objects.filter(id=order_id).first()
            self._orders[order_id] = found = _order(row) if row else None
        if found is None:
            return None
        record = copy(found)
        record.lifecycle = list(found.lifecycle)
        record.rewards = list(found.rewards)
        return record

    def put_order(self, record: OrderRecord) -> None:
        self._orders[record.id] = record
        self._dirty_orders[record.id] = None

    def order_ids(self) -> list[str]:
        self._flush_orders()
        return list(m.Order.objects.order_by("id").values_list("id", flat=True))

    def orders_due(self, now: datetime) -> list[str]:
        self._flush_orders()
        return list(m.Order.objects.filter(has_pending=True, approve_at__lte=now).order_by("approve_at", "id")
                    .values_list("id", flat=True))

    def replace_entries(self, order_id: str, entries: list[LedgerEntry]) -> None:
        self._entries[order_id] = list(entries)
        self._dirty_entries[order_id] = None

    def entries(self, order_id: str | None = None) -> list[LedgerEntry]:
        if order_id is not None and order_id in self._entries:
            return list(self._entries[order_id])
        self._flush_entries()
        rows = m.LedgerEntry.objects.order_by("order", "seq")
        if order_id is not None:
            rows = rows.filter(order=order_id)
        return [_entry(r) for r in rows]

    def add_points(self, grant: PointsGrant) -> bool:
        if grant.key in self._points:
            return False
        exists = m.PointsGrant.objects.filter(key=grant.key).exists()
        self._points[grant.key] = True
        if exists:
            return False
        self._new_points.append(grant)
        return True

    def points(self) -> list[PointsGrant]:
        self._flush_points()
        return [_grant(r) for r in m.PointsGrant.objects.order_by("at", "key")]

    def get_points(self, key: str) -> PointsGrant | None:
        self._flush_points()
        row = m.PointsGrant.objects.filter(key=key).first()
        return _grant(row) if row is not None else None

    def add_live_invitation(self, live: str, distributor: str, viewer: str) -> bool:
        key = (live, distributor, viewer)
        known = self._invitations.get(key)
        if known is None:
            known = m.LiveInvitation.objects.filter(live=live, distributor=distributor, viewer=viewer).exists()
        self._invitations[key] = True
        if known:
            return False
        self._new_invitations.append(key)
        return True

    def invitations(self, viewer: str) -> list[tuple[str, str]]:
        self._flush_live_stats()
        return list(m.LiveInvitation.objects.filter(viewer=viewer).order_by("id")
                    .values_list("live", "distributor"))

    def add_live_qualified(self, live: str, viewer: str) -> bool:
        key = (live, viewer)
        known = self._live_qualified.get(key)
        if known is None:
            known = m.LiveQualifiedViewer.objects.filter(live=live, viewer=viewer).exists()
        self._live_qualified[key] = True
        if known:
            return False
        self._new_live_qualified.append(key)
        return True

    def is_live_qualified(self, live: str, viewer: str) -> bool:
        known = self._live_qualified.get((live, viewer))
        if known is None:
            known = self._live_qualified[(live, viewer)] = m.LiveQualifiedViewer.objects.filter(
                live=live, viewer=viewer).exists()
        return known

    def bump_live_stat(self, live: str, distributor: str, invited: int = 0, qualified: int = 0, orders: int = 0,
                       gmv: Decimal = Decimal(0), currency: str = "") -> None:
        delta = self._stat_deltas.setdefault((live, distributor), [0, 0, 0, Decimal(0), ""])
        delta[0] += invited
        delta[1] += qualified
        delta[2] += orders
        delta[3] += gmv
        delta[4] = delta[4] or currency

    def live_stats(self, live: str) -> list[LiveStat]:
        self._flush_live_stats()
        return [
            LiveStat(live=r.live, distributor=r.distributor, invited=r.invited, qualified=r.qualified,
                     orders=r.orders, gmv=round_money(r.gmv, r.currency) if r.currency else plain(r.gmv),
                     currency=r.currency)
            for r in m.LiveStat.objects.filter(live=live).order_by("distributor")
        ]
