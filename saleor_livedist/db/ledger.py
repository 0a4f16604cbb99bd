"""The Store's orders and ledger on PostgreSQL: orders with their lifecycle, ledger entries, points, paying
customers. Part of DbStore (store.py), which declares the unit of work's state and loads a batch's rows ahead."""
from __future__ import annotations

from copy import copy
from datetime import datetime

from django.db.models import Q

from .. import models as m
from ..core.records import LedgerEntry, OrderRecord, PaidOrder, PointsGrant
from .rows import (
    MISSING, any_of, entry_of, grant_of, lifecycle_to_json, order_of, paid_of, rewards_to_json, snapshot_to_json,
    upsert,
)


class LedgerTables:
    def paying_order(self, customer: str) -> PaidOrder | None:
        found = self._paying.get(customer, MISSING)
        if found is MISSING:
            row = m.PayingCustomer.objects.filter(customer=customer).first()
            self._paying[customer] = found = paid_of(row) if row else None
        return found  # type: ignore[return-value]

    def put_paying_order(self, customer: str, paid: PaidOrder) -> None:
        self._paying[customer] = paid
        self._new_paying[customer] = paid

    def get_points(self, key: str) -> PointsGrant | None:
        self._flush_points()
        row = m.PointsGrant.objects.filter(key=key).first()
        return grant_of(row) if row is not None else None

    def get_order(self, order_id: str) -> OrderRecord | None:
        found = self._orders.get(order_id, MISSING)
        if found is MISSING:
            row = m.Order.objects.filter(id=order_id).first()
            self._orders[order_id] = found = order_of(row) if row else None
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

    def orders_paying(self, distributor: str, since: datetime) -> list[str]:
        self._flush_orders()
        shares = Q(paid_at__gte=since, snapshot__contains={"lines": [{"shares": [{"beneficiary": distributor}]}]})
        rewards = Q(rewards__contains=[{"beneficiary": distributor}])
        found = []
        for row in m.Order.objects.filter(shares | rewards).order_by("id"):  # read once: the caller reads them all
            self._orders.setdefault(row.id, order_of(row))
            found.append(row.id)
        return found

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
        return [entry_of(r) for r in rows]

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
        return [grant_of(r) for r in m.PointsGrant.objects.order_by("at", "key")]

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
        upsert(m.Order,
               ["id", "customer", "snapshot", "lifecycle", "paid_at", "approve_at", "has_pending", "rewards",
                "board_orders", "board_gmv"], rows,
               conflict=["id"], json_columns=("snapshot", "lifecycle", "rewards"))
        self._dirty_orders = {}

    def _flush_entries(self) -> None:
        if not self._dirty_entries:
            return
        orders = list(self._dirty_entries)
        m.LedgerEntry.objects.filter(any_of("order", orders)).delete()
        upsert(m.LedgerEntry, ["id", "order", "line", "beneficiary", "kind", "level", "amount", "currency", "status",
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

    def _flush_paying(self) -> None:
        if self._new_paying:
            upsert(m.PayingCustomer, ["customer", "order", "order_at", "live"],
                   [(c, p.order, p.at, p.live) for c, p in self._new_paying.items()], conflict=["customer"])
            self._new_paying = {}
