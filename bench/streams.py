"""Generated event streams for the benchmarks: a distributor network, clicks, a live, and orders."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from saleor_livedist.core.events import Event, Line

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
PRODUCTS = [f"p{i}" for i in range(200)]
CATEGORIES = [f"c{i}" for i in range(20)]


def network(distributors: int, seed: int = 7) -> list[Event]:
    """Distributors joined in a tree (each one's upline is an earlier one), 3+ levels deep."""
    rng = random.Random(seed)
    events = []
    for n in range(distributors):
        at = T0 + timedelta(microseconds=n)
        d = f"d{n}"
        if n:
            up = f"d{rng.randrange(max(1, n // 2), n) if n > 2 else 0}"
            events.append(Event(f"c-{d}", "link.clicked", at, {
                "distributor": up, "visitor": d, "target": {"kind": "product", "id": "p0"}}))
        events.append(Event(f"j-{d}", "distributor.joined", at, {"customer": d}))
    return events


def live(products: int = 20) -> list[Event]:
    return [
        Event("ls", "live.scheduled", T0 + timedelta(hours=1), {
            "live": "L1", "starts_at": T0 + timedelta(hours=2), "products": tuple(PRODUCTS[:products]), "host": "h"}),
        Event("lst", "live.started", T0 + timedelta(hours=2), {"live": "L1"}),
    ]


def orders(count: int, distributors: int, seed: int = 11, lines: int = 2) -> list[Event]:
    """Each order: a click on a distributor's live link by a new customer, then created and paid."""
    rng = random.Random(seed)
    start = T0 + timedelta(hours=2, minutes=1)
    events = []
    for n in range(count):
        at = start + timedelta(milliseconds=n * 20)
        customer = f"u{n}"
        events.append(Event(f"k{n}", "link.clicked", at, {
            "distributor": f"d{rng.randrange(distributors)}", "visitor": customer,
            "target": {"kind": "live", "id": "L1"}}))
        order_lines = [
            Line(line=str(i), product=rng.choice(PRODUCTS), category=rng.choice(CATEGORIES), collections=(),
                 quantity=1, amount=Decimal(rng.randrange(100, 100000)) / 100)
            for i in range(lines)
        ]
        events.append(Event(f"o{n}", "order.created", at, {
            "order": f"o{n}", "customer": customer, "visitor": None, "channel": "default", "currency": "CNY",
            "lines": order_lines, "ref": None}))
        events.append(Event(f"p{n}", "order.paid", at, {"order": f"o{n}"}))
    return events
