"""The live leaderboard counts what customers kept: a refund takes its amount off a distributor's GMV, a cancel
or a whole refund the order too, whatever order the events arrive in. Both backends."""
from __future__ import annotations

from decimal import Decimal

from tests.builders import Stream, run


def board(engine, live: str = "L1") -> dict[str, tuple[int, Decimal]]:
    return {s.distributor: (s.orders, s.gmv) for s in engine.store.live_stats(live)}


def on_air() -> Stream:
    s = Stream()
    s.distributor("bob")
    s.live("L1", start=0, end=120)
    for n in (1, 2, 3, 4):
        s.click("bob", f"c{n}", minute=n, live="L1")
        s.order(f"o{n}", f"c{n}", minute=10 + n, lines=[("p-feat", "100.00"), ("p-plain", "50.00")])
    return s


def test_refunds_and_cancels_come_off_the_leaderboards_gmv_and_orders(backend: str) -> None:
    s = on_air()
    assert board(run(s, backend)) == {"bob": (4, Decimal("600.00"))}
    s.add("order.refunded", 200, order="o1", lines=[{"line": "1", "amount": "30.00"}])  # partial: 120.00 kept
    s.add("order.refunded", 210, order="o1", lines=[{"line": "1", "amount": "30.00"}])  # again: 90.00 kept
    s.add("order.cancelled", 200, order="o2")
    s.add("order.refunded", 200, order="o3", lines=[{"line": "1", "amount": "100.00"},
                                                    {"line": "2", "amount": "50.00"}])
    s.add("order.refunded", 200, order="o4", lines=[{"line": "2", "amount": "80.00"}])  # more than the line: 50.00
    assert board(run(s, backend)) == {"bob": (2, Decimal("90.00") + Decimal("100.00"))}


def test_a_refund_that_arrives_before_the_payment_is_never_counted(backend: str) -> None:
    s = Stream()
    s.distributor("bob")
    s.live("L1", start=0, end=120)
    s.click("bob", "c1", minute=1, live="L1")
    s.add("order.refunded", 20, order="o1", lines=[{"line": "1", "amount": "40.00"}])  # delivered first
    s.order("o1", "c1", minute=10)
    s.add("order.refunded", 30, order="o1", lines=[{"line": "1", "amount": "10.00"}])
    assert board(run(s, backend)) == {"bob": (1, Decimal("50.00"))}


def test_a_cancel_or_refund_delivered_before_the_order_gives_the_same_leaderboard(backend: str) -> None:
    s = on_air()
    s.add("order.cancelled", 200, order="o2")
    s.add("order.refunded", 200, order="o1", lines=[{"line": "2", "amount": "50.00"}])
    in_order = board(run(s, backend))
    s.raw = s.raw[-2:] + s.raw[:-2]  # the cancel and the refund arrive first
    assert board(run(s, backend)) == in_order == {"bob": (3, Decimal("100.00") + Decimal("150.00") * 2)}
