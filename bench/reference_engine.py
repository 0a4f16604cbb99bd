"""A hand-written engine for the benchmark's stream only: what the Engine's throughput is measured against.

It knows nothing of rule files, stores or backends. It hard-codes the default rules
(saleor_livedist/default_rules/) as plain Python over dictionaries and tuples, and handles only what
bench/streams.py sends: link.clicked, distributor.joined, live.scheduled, live.started, order.created and
order.paid, in order, nobody banned, no watches, no refunds. On that stream it must book exactly the Engine's
ledger (bench_engine.py checks every field of every entry), so the ratio of the two throughputs is what the
Engine's generality (rule files, the Store port, replays, bans, out-of-order events) costs per order.

The rules it hard-codes:
- binding: on click, the first distributor kept for 30 days; no self-purchase; a distributor is never bound
  to their own downline;
- level 1: 5% (direct), 10% for a live's featured product ordered while it is on air (live-featured), plus 2%
  in the live's first hour (first-live-hour);
- level 2 (the seller's upline): 2% if a leader (leader-level-2), plus 1% if the seller is a leader too
  (leader-peer, a peer bonus);
- a distributor becomes a leader at their second paying invitee (a customer's first paid order).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

VALID = timedelta(days=30)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
FIVE, TEN, TWO, ONE, TWELVE = Decimal(5), Decimal(10), Decimal(2), Decimal(1), Decimal(12)
FIRST_HOUR = 3600


class ReferenceEngine:
    """State in plain dictionaries; `ledger` maps an order id to its entries, each a tuple in LedgerEntry's field
    order (id, order, line, beneficiary, kind, level, amount, currency, status, percent, rule_ids,
    rules_version, at)."""

    def __init__(self, rules_version: str) -> None:
        self.version = rules_version
        self.seen: set[str] = set()
        self.alias: dict[str, str] = {}
        self.clicks: dict[str, list[tuple[datetime, str, str, str]]] = {}  # identity -> (at, distributor, kind, id)
        self.bindings: dict[str, tuple[str, datetime]] = {}  # identity -> (distributor, bound at)
        self.upline: dict[str, str | None] = {}
        self.ranks: dict[str, list[tuple[datetime, str]]] = {}
        self.paying_invitees: dict[str, int] = {}
        self.paying: set[str] = set()  # customers with a paid order
        self.lives: dict[str, tuple[datetime | None, frozenset[str]]] = {}  # live -> (started at, featured)
        self.orders: dict[str, tuple[str, str | None, tuple[Any, ...]]] = {}  # order -> (customer, seller, shares)
        self.ledger: dict[str, list[tuple[Any, ...]]] = {}

    def process(self, event: Any) -> bool:
        if event.id in self.seen:
            return False
        self.seen.add(event.id)
        getattr(self, "on_" + event.type.replace(".", "_"))(event.at, event.data)
        return True

    # ---------------------------------------------------------------- people

    def _bind(self, identity: str, distributor: str, at: datetime) -> None:
        if identity == distributor:
            return
        if identity in self.upline:  # never bound to their own downline
            current: str | None = distributor
            while current is not None:
                if current == identity:
                    return
                current = self.upline.get(current)
        existing = self.bindings.get(identity)
        if existing is not None and existing[1] <= at < existing[1] + VALID:
            return  # the first valid binding is kept
        self.bindings[identity] = (distributor, at)

    def on_link_clicked(self, at: datetime, d: dict[str, Any]) -> None:
        distributor = d["distributor"]
        visitor = self.alias.get(d["visitor"], d["visitor"])
        if distributor not in self.upline or visitor == distributor:
            return
        target = d["target"]
        self.clicks.setdefault(visitor, []).append((at, distributor, target["kind"], target["id"]))
        self._bind(visitor, distributor, at)

    def on_distributor_joined(self, at: datetime, d: dict[str, Any]) -> None:
        customer = self.alias.get(d["customer"], d["customer"])
        if customer in self.upline:
            return
        bound = self.bindings.get(customer)
        self.upline[customer] = bound[0] if bound is not None and bound[1] <= at < bound[1] + VALID else None
        self.ranks[customer] = [(at, "distributor")]
        self.paying_invitees[customer] = 0

    def on_live_scheduled(self, at: datetime, d: dict[str, Any]) -> None:
        self.lives[d["live"]] = (None, frozenset(d["products"]))

    def on_live_started(self, at: datetime, d: dict[str, Any]) -> None:
        self.lives[d["live"]] = (at, self.lives[d["live"]][1])

    def _rank(self, distributor: str, at: datetime) -> str:
        ranks = self.ranks[distributor]
        current = ranks[0][1]
        for since, rank in ranks:
            if since <= at:
                current = rank
        return current

    # ---------------------------------------------------------------- orders

    def _stitch(self, visitor: str, customer: str) -> None:
        if visitor == customer or self.alias.get(visitor, visitor) != visitor:
            return
        self.alias[visitor] = customer
        mine = self.clicks.setdefault(customer, [])
        mine.extend(self.clicks.pop(visitor, ()))
        mine.sort(key=lambda click: click[0])  # stable: the customer's own first on equal times
        moved = self.bindings.pop(visitor, None)
        if moved is not None:
            self._bind(customer, moved[0], moved[1])

    def on_order_created(self, at: datetime, d: dict[str, Any]) -> None:
        order, customer = d["order"], d["customer"]
        if d["visitor"]:
            self._stitch(d["visitor"], customer)
        customer = self.alias.get(customer, customer)
        clicks = [c for c in self.clicks.get(customer, ()) if c[0] <= at]
        live_seconds, featured = None, frozenset()
        if clicks and clicks[-1][2] == "live":
            started, products = self.lives.get(clicks[-1][3], (None, frozenset()))
            if started is not None and started <= at:
                live_seconds, featured = int((at - started).total_seconds()), products
        bound = self.bindings.get(customer)
        seller = bound[0] if bound is not None and bound[1] <= at < bound[1] + VALID else None
        chain: list[tuple[int, str, str]] = []
        if seller is not None and seller != customer and seller in self.upline:
            chain.append((1, seller, self._rank(seller, at)))
            upline = self.upline[seller]
            if upline is not None and upline != customer and upline in self.upline:
                chain.append((2, upline, self._rank(upline, at)))
        shares = []
        for line in d["lines"]:
            mine = []
            for level, who, rank in chain:
                if level == 1:
                    if live_seconds is not None and line.product in featured:
                        percent, rules = TEN, ("live-featured",)
                    else:
                        percent, rules = FIVE, ("direct",)
                    if live_seconds is not None and 0 <= live_seconds < FIRST_HOUR:
                        percent, rules = percent + TWO, rules + ("first-live-hour",)
                    mine.append((1, who, percent, rules, "commission"))
                elif rank == "leader":
                    mine.append((2, who, TWO, ("leader-level-2",), "team"))
                    if chain[0][2] == "leader":
                        mine.append((2, who, ONE, ("leader-peer",), "peer_bonus"))
            shares.append((line.line, line.amount, mine))
        self.orders[order] = (customer, seller if chain else None, tuple(shares))

    def on_order_paid(self, at: datetime, d: dict[str, Any]) -> None:
        order = d["order"]
        customer, seller, shares = self.orders[order]
        entries = []
        version = self.version
        for line, amount, mine in shares:
            for level, who, percent, rules, kind in mine:
                booked = (amount * percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
                if booked > 0:
                    suffix = "peer" if kind == "peer_bonus" else ""
                    entries.append((f"{order}:{line}:{level}{suffix}:1", order, line, who, kind, level, booked, "CNY",
                                    "pending", percent, rules, version, at))
        self.ledger[order] = entries
        first = customer not in self.paying
        self.paying.add(customer)
        if seller is not None and first:
            invitees = self.paying_invitees[seller] = self.paying_invitees[seller] + 1
            ranks = self.ranks[seller]
            if invitees >= 2 and all(rank != "leader" for _, rank in ranks):
                ranks.append((max(at, ranks[-1][0]), "leader"))

    def entries(self) -> list[tuple[Any, ...]]:
        return [entry for entries in self.ledger.values() for entry in entries]
