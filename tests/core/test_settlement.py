"""Settlement: reversal on cancel, per-line recompute on partial refunds, clawback after approval, arrival order."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.builders import T0, Stream, ledger, run


def bought(lines: list[tuple[str, str]] | None = None, currency: str = "CNY") -> Stream:
    s = Stream()
    s.distributor("bob")
    s.click("bob", "cust", minute=0, product="p-plain")
    s.order("o1", "cust", minute=10, lines=lines or [("p-a", "100.00"), ("p-b", "33.33")], currency=currency)
    return s


def entries(engine) -> list[tuple[str, str, Decimal, str]]:
    return [(e.line, e.kind, e.amount, e.status) for e in sorted(engine.store.entries(), key=lambda e: (e.at, e.id))]


def test_cancel_before_approval_reverses_every_entry(backend: str) -> None:
    s = bought()
    s.add("order.cancelled", 30, order="o1")
    engine = run(s, backend)
    assert entries(engine) == [("1", "commission", Decimal("5.00"), "reversed"),
                               ("2", "commission", Decimal("1.67"), "reversed")]


def test_partial_refund_recomputes_only_that_line(backend: str) -> None:
    s = bought()
    s.add("order.refunded", 60, order="o1", lines=[{"line": "2", "amount": "10.00"}])
    engine = run(s, backend)
    # line 2 keeps 23.33: 5% is 1.1665 -> 1.17; 1.67 was booked, so -0.50
    assert entries(engine) == [("1", "commission", Decimal("5.00"), "pending"),
                               ("2", "commission", Decimal("1.67"), "pending"),
                               ("2", "adjustment", Decimal("-0.50"), "pending")]


def test_refunds_that_add_up_to_the_line_reverse_it(backend: str) -> None:
    s = bought()
    s.add("order.refunded", 60, order="o1", lines=[{"line": "1", "amount": "40.00"}])
    s.add("order.refunded", 70, order="o1", lines=[{"line": "1", "amount": "60.00"}])
    engine = run(s, backend)
    line1 = [(kind, amount, status) for line, kind, amount, status in entries(engine) if line == "1"]
    assert line1 == [("commission", Decimal("5.00"), "reversed"), ("adjustment", Decimal("-2.00"), "reversed")]


def test_refund_after_approval_books_a_negative_clawback(backend: str) -> None:
    s = bought()
    s.add("order.fulfilled", 0, day=1, order="o1")
    s.add("order.refunded", 0, day=9, order="o1", lines=[{"line": "1", "amount": "100.00"}])
    engine = run(s, backend)
    assert entries(engine) == [("1", "commission", Decimal("5.00"), "approved"),
                               ("2", "commission", Decimal("1.67"), "approved"),
                               ("1", "clawback", Decimal("-5.00"), "approved")]


def test_full_refund_without_lines_refunds_every_line(backend: str) -> None:
    s = bought()
    s.add("order.refunded", 60, order="o1")
    engine = run(s, backend)
    assert {status for *_, status in entries(engine)} == {"reversed"}


def test_currency_minor_units_are_respected(backend: str) -> None:
    jpy = run(bought([("p-a", "1999")], currency="JPY"), backend)
    assert [e.amount for e in jpy.store.entries()] == [Decimal("100")]  # 99.95 -> 100 yen, no decimals
    kwd = run(bought([("p-a", "10.005")], currency="KWD"), backend)
    assert [e.amount for e in kwd.store.entries()] == [Decimal("0.500")]  # 3 decimals


def test_paid_and_refund_before_created_give_the_same_ledger(backend: str) -> None:
    in_order = bought()
    in_order.add("order.refunded", 60, order="o1", lines=[{"line": "2", "amount": "10.00"}])
    early = Stream()
    early.raw = [e for e in in_order.raw if e["type"] not in ("order.created",)]
    created = next(e for e in in_order.raw if e["type"] == "order.created")
    early.raw.append(created)  # paid and refunded arrive first; created last
    assert ledger(run(early, backend)) == ledger(run(in_order, backend))


def test_approval_is_reached_by_settle_and_by_later_events(backend: str) -> None:
    s = bought()
    s.add("order.fulfilled", 0, day=1, order="o1")
    engine = run(s, backend)
    assert {e.status for e in engine.store.entries()} == {"pending"}
    engine.settle(T0 + timedelta(days=8))
    assert {e.status for e in engine.store.entries()} == {"approved"}


def test_a_refund_dated_in_the_window_arriving_after_the_approval_keeps_the_order_approved(backend: str) -> None:
    """Approved by the settle after the window; then a refund made on day 7 (inside the window) arrives late. The
    line's commission comes down to what the customer kept, approved at once (the approval may have been paid out:
    a balance must not lose it to pending); the same entries as when the refund arrives before the settle."""
    s = bought()
    s.add("order.fulfilled", 0, day=1, order="o1")
    engine = run(s, backend)
    engine.settle(T0 + timedelta(days=8, hours=1))
    assert {e.status for e in engine.store.entries()} == {"approved"}
    s.add("order.refunded", 0, day=7, order="o1", lines=[{"line": "2", "amount": "10.00"}])
    engine.process(s.events()[-1])
    assert entries(engine) == [("1", "commission", Decimal("5.00"), "approved"),
                               ("2", "commission", Decimal("1.67"), "approved"),
                               ("2", "adjustment", Decimal("-0.50"), "approved")]
    in_order = run(s, backend, now=T0 + timedelta(days=8, hours=1))
    assert entries(in_order) == entries(engine)
