"""Generated worlds for the benchmarks: a distributor network, a live with featured products, customers bound
by a click, and orders (created + paid). Events are generated as raw JSON documents and parsed by the real
parser, so the engine sees exactly what it sees in production."""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from saleor_livedist.core.events import Event, parse_event
from saleor_livedist.core.records import DistributorRecord
from saleor_livedist.core.store import Store

CST = timezone(timedelta(hours=8))
LIVE_START = datetime(2026, 11, 20, 20, 0, tzinfo=CST)
NETWORK_START = LIVE_START - timedelta(days=10)
PRODUCTS = [f"p{i}" for i in range(200)]
CATEGORIES = [f"c{i}" for i in range(20)]
FEATURED = PRODUCTS[:20]
FANOUT = 8  # average direct downline per distributor: most of 10,000 distributors are 5 levels deep


def category_of(product: str) -> str:
    return CATEGORIES[int(product[1:]) % len(CATEGORIES)]


def upline_of(n: int, rng: random.Random) -> int:
    """A tree with about FANOUT children per distributor, jittered so the levels are not perfectly regular."""
    parent = (n - 1) // FANOUT
    return rng.randrange(max(0, parent - 2), parent + 1)


def _event(events: list[dict[str, Any]], etype: str, at: datetime, prefix: str = "", **fields: Any) -> None:
    events.append({"id": f"{prefix}{etype[0]}{len(events)}", "type": etype, "at": at.isoformat(), **fields})


def network_events(distributors: int, seed: int = 7) -> list[Event]:
    """Distributor d{n} clicks their upline's link, is bound to them, and joins: the engine builds the tree."""
    rng = random.Random(seed)
    raw: list[dict[str, Any]] = []
    for n in range(distributors):
        at = NETWORK_START + timedelta(milliseconds=n)
        if n:
            _event(raw, "link.clicked", at, "net:", distributor=f"d{upline_of(n, rng)}", visitor=f"d{n}",
                   target={"product": "p0"})
        _event(raw, "distributor.joined", at, "net:", customer=f"d{n}")
    return [parse_event(e) for e in raw]


def build_network_in_store(store: Store, distributors: int, leader_every: int = 4, seed: int = 7) -> int:
    """The same tree written directly through Store.put_distributor (fast enough for 1,000,000 distributors);
    every `leader_every`-th distributor is already a leader, as if promoted earlier. Returns the leader count."""
    rng = random.Random(seed)
    leaders = 0
    for n in range(distributors):
        joined = NETWORK_START + timedelta(milliseconds=n)
        ranks = [(joined, "distributor")]
        if n % leader_every == 0:
            ranks.append((joined, "leader"))
            leaders += 1
        store.put_distributor(DistributorRecord(
            id=f"d{n}", upline=f"d{upline_of(n, rng)}" if n else None, joined_at=joined, ranks=ranks,
            paying_invitees=2 if n % leader_every == 0 else 0,
        ))
    return leaders


def live_events() -> list[Event]:
    raw: list[dict[str, Any]] = []
    _event(raw, "live.scheduled", LIVE_START - timedelta(days=1), "live:", live="L1", starts_at=LIVE_START.isoformat(),
           products=FEATURED, host="host")
    _event(raw, "live.started", LIVE_START, "live:", live="L1")
    return [parse_event(e) for e in raw]


@dataclass
class Order:
    before: list[Event]  # the customer's clicks: processed, but not part of the order's timing
    created: Event
    paid: Event


def orders(count: int, distributors: int, seed: int = 11) -> Iterator[Order]:
    """Orders spread evenly from 30 minutes before the live to 3 hours after its start (28.6% in its first
    hour). A new customer first clicks a distributor's live link (60%) or product link; a fifth of them click
    as an anonymous visitor who is stitched to the customer at checkout. A quarter of the orders come from
    returning customers, half of whom click another distributor's live link first (the first binding is kept).
    1-3 lines, 30% of them drawn from the featured products. Generated (and parsed) one order at a time, as
    events arrive."""
    rng = random.Random(seed)
    span = timedelta(hours=3, minutes=30).total_seconds()
    start = LIVE_START - timedelta(minutes=30)
    customers: list[str] = []
    for n in range(count):
        at = start + timedelta(seconds=span * n / count)
        raw: list[dict[str, Any]] = []
        order_id = f"o{n}"
        mark = f"{order_id}:"  # event ids unique across the whole stream
        visitor = None
        clicked = at - timedelta(seconds=1)
        if customers and rng.random() < 0.25:
            customer = rng.choice(customers)
            if rng.random() < 0.5:
                seller = f"d{rng.randrange(distributors)}"
                _event(raw, "link.clicked", clicked, mark, distributor=seller, visitor=customer, target={"live": "L1"})
        else:
            customer = f"u{len(customers)}"
            customers.append(customer)
            clicker = customer
            if rng.random() < 0.2:
                visitor = clicker = f"v{len(customers)}"
            target = {"live": "L1"} if rng.random() < 0.6 else {"product": rng.choice(PRODUCTS)}
            seller = f"d{rng.randrange(distributors)}"
            _event(raw, "link.clicked", clicked, mark, distributor=seller, visitor=clicker, target=target)
        lines = []
        for k in range(rng.randint(1, 3)):
            product = rng.choice(FEATURED) if rng.random() < 0.3 else rng.choice(PRODUCTS)
            quantity, cents = rng.randint(1, 3), rng.randrange(990, 99900)
            lines.append({"line": str(k + 1), "product": product, "category": category_of(product),
                          "quantity": quantity, "amount": f"{cents // 100}.{cents % 100:02d}"})
        _event(raw, "order.created", at, mark, order=order_id, customer=customer, visitor=visitor, channel="default",
               currency="CNY", lines=lines)
        _event(raw, "order.paid", at + timedelta(milliseconds=100), mark, order=order_id)
        events = [parse_event(e) for e in raw]
        yield Order(before=events[:-2], created=events[-2], paid=events[-1])


def teams_world(teams: int = 64, sellers: int = 8, orders: int = 1000, cross_clicks: int = 4, lives: int = 1,
                bans: int = 0, viewers: float = 0.0, seed: int = 5
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Many teams, as raw events: (setup, orders). Team t is a leader `t{t}`, a manager `t{t}m` who clicked
    the leader's link and joined, and `sellers` sellers who clicked the manager's; each customer clicks a seller
    of one team (a live link for 60% of them) and orders (created + paid; 5% then refunded in part, 2%
    cancelled; 10% of the orders from returning customers). `cross_clicks` customers also click a seller of
    another team first (their binding stays the first: the two teams' state meets in that customer). A fraction
    `viewers` of the customers watch the live first (joined, heartbeats, left). `lives` lives, the first hosted
    by t0, scheduled and started before the orders and ended after them; `bans` sellers banned a third of the
    way through and unbanned at two thirds. Partitioned processing keeps each team on one partition except where
    a cross click joins two."""
    rng = random.Random(seed)
    setup: list[dict[str, Any]] = []
    start = LIVE_START

    def add(out: list[dict[str, Any]], etype: str, at: datetime, **fields: Any) -> None:
        _event(out, etype, at, "tw:", **fields)

    # ids unique across both lists: _event numbers by position, so the order events get their own prefix
    for t in range(teams):
        at = NETWORK_START + timedelta(seconds=t)
        add(setup, "distributor.joined", at, customer=f"t{t}")
        add(setup, "link.clicked", at + timedelta(milliseconds=100), distributor=f"t{t}", visitor=f"t{t}m",
            target={"product": "p0"})
        add(setup, "distributor.joined", at + timedelta(milliseconds=200), customer=f"t{t}m")
        for k in range(sellers):
            add(setup, "link.clicked", at + timedelta(milliseconds=300 + k), distributor=f"t{t}m",
                visitor=f"t{t}s{k}", target={"product": "p0"})
            add(setup, "distributor.joined", at + timedelta(milliseconds=400 + k), customer=f"t{t}s{k}")
    for n in range(lives):
        add(setup, "live.scheduled", start - timedelta(days=1), live=f"L{n}", starts_at=(start + timedelta(
            minutes=n)).isoformat(), products=FEATURED, host=f"t{n % teams}")
        add(setup, "live.started", start + timedelta(minutes=n), live=f"L{n}")
    out: list[dict[str, Any]] = []

    def order_event(etype: str, at: datetime, **fields: Any) -> None:
        out.append({"id": f"tw:o{len(out)}:{etype}", "type": etype, "at": at.isoformat(), **fields})

    crossing = set(rng.sample(range(orders), min(cross_clicks, orders)))
    banned = [f"t{rng.randrange(teams)}s{rng.randrange(sellers)}" for _ in range(bans)]
    customers: list[tuple[str, int]] = []
    span = timedelta(minutes=60).total_seconds()
    for n in range(orders):
        at = start + timedelta(minutes=lives, seconds=span * n / orders)
        if n == orders // 3:
            for who in banned:
                order_event("distributor.banned", at, distributor=who, reason="spam")
        if n == 2 * orders // 3:
            for who in banned:
                order_event("distributor.unbanned", at, distributor=who)
        if customers and rng.random() < 0.1:
            customer, team = rng.choice(customers)
        else:
            team = n % teams
            customer = f"c{len(customers)}"
            customers.append((customer, team))
            if n in crossing:
                other = (team + 1 + rng.randrange(teams - 1)) % teams if teams > 1 else team
                order_event("link.clicked", at - timedelta(seconds=3), distributor=f"t{other}s{rng.randrange(sellers)}",
                            visitor=customer, target={"product": "p1"})
            live = f"L{rng.randrange(lives)}" if lives else None
            watching = live is not None and rng.random() < viewers
            target = {"live": live} if live and (watching or rng.random() < 0.6) else {"product": rng.choice(PRODUCTS)}
            order_event("link.clicked", at - timedelta(seconds=400 if watching else 2),
                        distributor=f"t{team}s{rng.randrange(sellers)}", visitor=customer, target=target)
            if watching:  # 6.5 minutes on air: qualifies for the default rules' invite tasks
                order_event("live.joined", at - timedelta(seconds=390), live=live, viewer=customer, signed_in=True)
                for beat in range(330, 0, -30):
                    order_event("live.heartbeat", at - timedelta(seconds=beat), live=live, viewer=customer)
                order_event("live.left", at - timedelta(seconds=1), live=live, viewer=customer)
        lines = []
        for k in range(rng.randint(1, 2)):
            product = rng.choice(FEATURED) if rng.random() < 0.3 else rng.choice(PRODUCTS)
            cents = rng.randrange(990, 49900)
            lines.append({"line": str(k + 1), "product": product, "category": category_of(product),
                          "amount": f"{cents // 100}.{cents % 100:02d}"})
        order_id = f"o{n}"
        order_event("order.created", at, order=order_id, customer=customer, channel="default", currency="CNY",
                    lines=lines)
        order_event("order.paid", at + timedelta(milliseconds=100), order=order_id)
        luck = rng.random()
        if luck < 0.05:
            order_event("order.refunded", at + timedelta(minutes=5), order=order_id,
                        lines=[{"line": "1", "amount": "1.00"}])
        elif luck < 0.07:
            order_event("order.cancelled", at + timedelta(minutes=5), order=order_id)
    if lives:
        end = start + timedelta(minutes=lives + 61)
        for n in range(lives):
            out.append({"id": f"tw:end:L{n}", "type": "live.ended", "at": end.isoformat(), "live": f"L{n}"})
    return setup, out
