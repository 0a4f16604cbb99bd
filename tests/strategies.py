"""Hypothesis strategies: random valid rule sets and random event streams over a small world, so that
collisions (same customer, same live, same product) happen often."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from saleor_livedist.rules.model import (
    Binding, Compliance, Promotion, Qualify, RateRule, Reward, RuleSet, Settlement, Source, Task, When,
)
from tests.builders import T0

DISTRIBUTORS = ["d0", "d1", "d2", "d3"]
CUSTOMERS = ["c0", "c1", "c2", "c3", "c4"]
PRODUCTS = ["p0", "p1", "p2", "p3"]
CATEGORIES = ["k0", "k1"]
COLLECTIONS = ["s0", "s1"]
LIVES = ["L0", "L1"]
SRC = Source("random.yaml", 1, 1)

percents = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("20"), places=1)


def subset(values: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=2)


def rarely(strategy: st.SearchStrategy[Any], empty: Any) -> st.SearchStrategy[Any]:
    """Mostly `empty`: a rule with every condition set would never match anything."""
    return st.one_of(st.just(empty), st.just(empty), st.just(empty), st.just(empty), strategy)


@st.composite
def whens(draw: st.DrawFn, tasks: list[str]) -> When:
    minutes = draw(rarely(st.tuples(st.integers(0, 90), st.integers(1, 120)).filter(lambda t: t[0] < t[1]), None))
    between = draw(rarely(st.tuples(st.integers(-600, 600), st.integers(1, 900)).map(
        lambda t: (T0 + timedelta(minutes=t[0]), T0 + timedelta(minutes=t[0] + t[1]))), None))
    return When(
        products=draw(rarely(subset(PRODUCTS), frozenset())),
        collections=draw(rarely(subset(COLLECTIONS), frozenset())),
        categories=draw(rarely(subset(CATEGORIES), frozenset())),
        channels=draw(rarely(subset(["default", "b2b"]), frozenset())),
        currencies=draw(rarely(subset(["CNY", "USD"]), frozenset())),
        lives=draw(rarely(subset(LIVES), frozenset())),
        context=draw(rarely(st.sampled_from(["live", "replay", "none"]), None)),
        featured=draw(rarely(st.booleans(), None)), live_minutes=minutes, between=between,
        ranks=draw(rarely(subset(["distributor", "leader"]), frozenset())),
        seller_ranks=draw(rarely(subset(["distributor", "leader"]), frozenset())),
        sold_within_days=draw(rarely(st.integers(1, 60), None)),
        task_completed=draw(rarely(st.sampled_from(tasks), None)) if tasks else None,
    )


@st.composite
def rulesets(draw: st.DrawFn) -> RuleSet:
    order = iter(range(1000))
    tasks = draw(st.lists(st.builds(
        lambda tid, scope, minutes, ordered, each, target, pts, bonus, cash: Task(
            id=tid, scope=scope, source=SRC,
            qualify=Qualify(watched_minutes=minutes, ordered=ordered) if minutes or ordered else Qualify(entered=True),
            each=Reward(points=each, cash=cash if ordered else Decimal(0)) if each or (ordered and cash) else None,
            target=target, reward=Reward(points=pts, bonus_percent=bonus, cash=cash if ordered else Decimal(0))
            if target else None,
        ),
        st.sampled_from(["t0", "t1"]), st.sampled_from(["live", "all"]), st.none() | st.integers(1, 6), st.booleans(),
        st.integers(0, 5), st.none() | st.integers(1, 3), st.integers(0, 50), st.sampled_from([Decimal(0), Decimal(2)]),
        st.sampled_from([Decimal(0), Decimal("5.00"), Decimal("0.5")]),
    ), max_size=2, unique_by=lambda t: t.id))
    task_ids = [t.id for t in tasks]
    max_levels = draw(st.integers(1, 3))

    def rules(kind: str, count: int, level: st.SearchStrategy[int]) -> list[RateRule]:
        return draw(st.lists(st.builds(
            lambda n, pct, when, prio, lvl, same: RateRule(
                id=f"{kind}{n}", kind=kind, percent=pct, when=when, source=SRC, level=lvl, priority=prio,
                order=next(order), same_rank=kind == "peer" and same),
            st.integers(0, 10**6), percents, st.one_of(st.just(When()), whens(task_ids)), st.integers(0, 2), level,
            st.booleans(),
        ), min_size=1 if kind == "rate" else 0, max_size=count, unique_by=lambda r: r.id))

    return RuleSet(
        version=f"random-{draw(st.integers(0, 10**9))}",
        rates=tuple(rules("rate", 4, st.just(1))),
        bonuses=tuple(rules("bonus", 3, st.just(1))),
        team=tuple(rules("team", 3, st.integers(2, max_levels) if max_levels >= 2 else st.just(2))),
        peer=tuple(rules("peer", 2, st.integers(2, max_levels) if max_levels >= 2 else st.just(2))),
        tasks=tuple(tasks),
        promotions=(Promotion("leader", "leader", draw(st.integers(1, 3)), SRC),),
        binding=Binding(
            bind_on=draw(st.sampled_from(["click", "registration", "first_order"])),
            valid_days=draw(st.none() | st.integers(1, 40)), overwrite=draw(st.sampled_from(["first", "latest"])),
            self_purchase=draw(st.booleans()),
        ),
        settlement=Settlement(approve_after_days=draw(st.integers(0, 10))),
        compliance=Compliance(
            max_levels=max_levels,
            max_line_percent=draw(st.none() | st.decimals(min_value=1, max_value=30, places=0)),
        ),
    )


def _minute(n: float) -> str:
    return (T0 + timedelta(minutes=n)).isoformat()


@st.composite
def streams(draw: st.DrawFn, orders: int = 6) -> list[dict[str, Any]]:
    """Raw events in arrival order (each with a unique id); `at` increases by a few minutes per step.

    Each order's events (created, then lifecycle) are a contiguous block, so tests can shuffle within it."""
    events: list[dict[str, Any]] = []
    clock = [-300.0]

    def add(etype: str, **fields: Any) -> None:
        clock[0] += draw(st.sampled_from([0, 0.5, 1, 3, 7, 60, 2000]))
        events.append({"id": f"e{len(events)}", "type": etype, "at": _minute(clock[0]), **fields})

    for n, d in enumerate(DISTRIBUTORS):
        if n and draw(st.booleans()):
            add("link.clicked", distributor=draw(st.sampled_from(DISTRIBUTORS[:n])), visitor=d,
                target={"product": "p0"})
            add("customer.registered", customer=d)  # binds under every bind_on but first_order
        add("distributor.joined", customer=d)
    for live in LIVES:
        add("live.scheduled", live=live, starts_at=_minute(clock[0] + 30), products=draw(
            st.lists(st.sampled_from(PRODUCTS), max_size=3)), host="h")
    steps = draw(st.lists(st.sampled_from(
        ["click", "click", "click", "join", "leave", "heartbeat", "start", "end", "replay", "register", "order",
         "order", "order", "ban", "unban"]), min_size=5, max_size=30))
    replays: list[str] = []
    made = 0
    for step in steps:
        who = draw(st.sampled_from(CUSTOMERS + ["vis0", "vis1"]))
        live = draw(st.sampled_from(LIVES))
        if step == "click":
            kind = draw(st.sampled_from(["live", "replay", "product", "clip"]))
            target = {kind: live if kind == "live" else (draw(st.sampled_from(replays)) if kind == "replay" and replays
                                                       else "p1")}
            if kind == "replay" and not replays:
                target = {"product": "p1"}
            add("link.clicked", distributor=draw(st.sampled_from(DISTRIBUTORS)), visitor=who, target=target)
        elif step in ("join", "leave", "heartbeat"):
            add(f"live.{'joined' if step == 'join' else 'left' if step == 'leave' else 'heartbeat'}", live=live,
                viewer=who)
        elif step in ("start", "end"):
            add(f"live.{'started' if step == 'start' else 'ended'}", live=live)
        elif step == "replay":
            replays.append(f"R{len(replays)}")
            add("replay.published", live=live, replay=replays[-1])
        elif step == "register":
            add("customer.registered", customer=draw(st.sampled_from(CUSTOMERS)),
                visitor=draw(st.sampled_from(["vis0", "vis1"])))
        elif step in ("ban", "unban"):
            add(f"distributor.{step}ned", distributor=draw(st.sampled_from(DISTRIBUTORS)),
                **({"reason": "fake orders"} if step == "ban" else {}))
        elif step == "order" and made < orders:
            made += 1
            _order(draw, add, f"o{made}", draw(st.sampled_from(CUSTOMERS + DISTRIBUTORS)))
    return events


def _order(draw: st.DrawFn, add: Any, order: str, customer: str) -> None:
    currency = draw(st.sampled_from(["CNY", "USD", "JPY"]))
    unit = "1" if currency == "JPY" else "0.01"
    lines = [
        {"line": str(n), "product": draw(st.sampled_from(PRODUCTS)), "category": draw(st.sampled_from(CATEGORIES)),
         "collections": draw(st.lists(st.sampled_from(COLLECTIONS), max_size=2, unique=True)), "quantity": 1,
         "amount": str(Decimal(draw(st.integers(1, 99999))) * Decimal(unit))}
        for n in range(1, draw(st.integers(1, 3)) + 1)
    ]
    ref = draw(st.one_of(st.none(), st.sampled_from(DISTRIBUTORS)))
    add("order.created", order=order, customer=customer, channel=draw(st.sampled_from(["default", "b2b"])),
        currency=currency, lines=lines, **({"ref": ref} if ref else {}))
    steps = draw(st.lists(st.sampled_from(["fulfilled", "refund", "cancelled"]), max_size=4))
    if draw(st.integers(0, 4)):  # most orders are paid; as in Saleor, never after a cancellation
        cancels = [n for n, step in enumerate(steps) if step == "cancelled"]
        steps.insert(draw(st.integers(0, cancels[0] if cancels else len(steps))), "paid")
    for step in steps:
        if step == "refund":
            line = draw(st.sampled_from(lines))
            part = Decimal(line["amount"]) * Decimal(draw(st.sampled_from(["0.25", "0.5", "1"])))
            amount = part.quantize(Decimal(unit))
            add("order.refunded", order=order, lines=[{"line": line["line"], "amount": str(amount)}])
        else:
            add(f"order.{step}", order=order)
