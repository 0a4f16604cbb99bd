"""Task rewards that need a purchase: cash booked on the invitee's paid order and settled with it, and who
counts as an invitee for `ordered` tasks (docs/rules.md, "Who is an invitee"). Both backends."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from saleor_livedist.rules.backends import durable_available
from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts
from saleor_livedist.rules.model import RuleSet
from tests.builders import T0, Stream, ledger, points, run

BUYERS = """schema: livedist/v1
tasks:
  - id: buyers
    scope: all
    qualify: {ordered: true}
    each: {cash: "5.00", points: 1}
  - id: live-buyers
    qualify: {ordered: true}
    each: {points: 10}
  - id: three-buyers
    scope: all
    qualify: {ordered: true}
    target: 3
    reward: {cash: "20.00"}
"""


def rules(tasks: str = BUYERS) -> RuleSet:
    files = {p.name: p.read_text() for p in default_rules_dir().iterdir() if p.name != "tasks.yaml"}
    files["tasks.yaml"] = tasks
    return load_rules_from_texts(files)


def cash(engine, status: str | None = None) -> list[tuple[str, str, Decimal, str]]:
    """(order, beneficiary, amount, status) of task rewards and their clawbacks."""
    return sorted((e.order, e.beneficiary, e.amount, e.status) for e in engine.store.entries()
                  if not e.line and (status is None or e.status == status))


def network() -> Stream:
    s = Stream()
    s.distributor("bob")
    s.distributor("carol")
    s.live("L1", start=0, end=120)
    return s


def test_task_cash_is_booked_pending_on_the_qualifying_order_and_approved_with_it(backend: str) -> None:
    s = network()
    s.click("bob", "c1", minute=-30, live="L1")
    s.order("o1", "c1", minute=10)
    s.add("order.fulfilled", 0, day=1, order="o1")
    engine = run(s, backend, rules())
    entries = [e for e in engine.store.entries() if e.kind == "task_cash"]
    assert [(e.order, e.beneficiary, e.amount, e.currency, e.status, e.rule_ids) for e in entries] == [
        ("o1", "bob", Decimal("5.00"), "CNY", "pending", ("buyers",))]
    assert entries[0].rules_version == engine.rules.current().version
    assert engine.store.orders_due(T0 + timedelta(days=8)) == ["o1"]  # pending: due with the order
    engine.settle(T0 + timedelta(days=8))
    assert cash(engine) == [("o1", "bob", Decimal("5.00"), "approved")]
    assert points(engine, "bob") == 1 + 10  # the points of the same tasks, as before


def test_task_cash_is_reversed_if_the_order_is_cancelled_or_wholly_refunded_before_approval(backend: str) -> None:
    s = network()
    for n in (1, 2, 3):
        s.click("bob", f"c{n}", minute=-30, live="L1")
        s.order(f"o{n}", f"c{n}", minute=10 * n)
    s.add("order.cancelled", 0, day=1, order="o1")
    s.add("order.refunded", 0, day=1, order="o2", lines=[{"line": "1", "amount": "100.00"}])
    s.add("order.refunded", 0, day=1, order="o3", lines=[{"line": "1", "amount": "40.00"}])  # partial: kept
    engine = run(s, backend, rules())
    assert cash(engine) == [
        ("o1", "bob", Decimal("5.00"), "reversed"), ("o2", "bob", Decimal("5.00"), "reversed"),
        ("o3", "bob", Decimal("5.00"), "pending"), ("o3", "bob", Decimal("20.00"), "pending"),  # the third buyer
    ]


def test_task_cash_is_clawed_back_if_the_order_is_refunded_after_approval(backend: str) -> None:
    s = network()
    s.click("bob", "c1", minute=-30, live="L1")
    s.order("o1", "c1", minute=10)
    s.add("order.fulfilled", 0, day=1, order="o1")
    s.add("order.refunded", 0, day=9, order="o1", lines=[{"line": "1", "amount": "100.00"}])
    engine = run(s, backend, rules())
    assert [(e.kind, e.amount, e.status) for e in engine.store.entries() if not e.line] == [
        ("task_cash", Decimal("5.00"), "approved"), ("clawback", Decimal("-5.00"), "approved")]


def test_a_target_cash_reward_is_booked_once_on_the_order_that_reached_the_target(backend: str) -> None:
    s = network()
    for n in range(1, 6):
        s.click("bob", f"c{n}", minute=-30, product="p-plain")
        s.order(f"o{n}", f"c{n}", minute=10 * n)
    s.order("again", "c1", minute=100)  # a buyer counts once
    engine = run(s, backend, rules())
    assert [a for a in cash(engine) if a[2] == Decimal("20.00")] == [("o3", "bob", Decimal("20.00"), "pending")]
    assert sum(a[2] for a in cash(engine)) == 5 * Decimal("5.00") + Decimal("20.00")


def test_cash_is_in_the_orders_currency_rounded_to_its_minor_unit(backend: str) -> None:
    s = network()
    s.click("bob", "c1", minute=-30, product="p-plain")
    s.order("o1", "c1", minute=10, currency="JPY", lines=[("p-plain", "1000")])
    engine = run(s, backend, rules(BUYERS.replace('"5.00"', '"5.50"')))
    assert [(e.amount, e.currency) for e in engine.store.entries() if e.kind == "task_cash"] == [(Decimal("6"), "JPY")]


def test_a_product_link_replay_clip_or_coupon_brings_an_invitee_who_counts_when_they_order(backend: str) -> None:
    s = network()
    s.add("replay.published", 130, live="L1", replay="R1", until=(T0 + timedelta(days=7)).isoformat())
    s.add("clip.published", 130, live="L1", clip="C1")
    s.click("bob", "by-product", minute=-30, product="p-plain")  # never watched anything
    s.order("o-product", "by-product", minute=10)
    s.click("bob", "by-replay", minute=140, replay="R1")
    s.order("o-replay", "by-replay", minute=150)
    s.click("carol", "by-clip", minute=140, clip="C1")
    s.order("o-clip", "by-clip", minute=150)
    s.order("o-coupon", "by-coupon", minute=20, coupon={"code": "BOB-L1", "live": "L1", "distributor": "bob"})
    engine = run(s, backend, rules())
    by_order = {e.order: e.beneficiary for e in engine.store.entries() if e.kind == "task_cash"}
    assert by_order == {"o-product": "bob", "o-replay": "bob", "o-clip": "carol", "o-coupon": "bob"}
    grants = {(g.rule_ids[0], g.invitee, g.beneficiary, g.live) for g in engine.store.points()}
    # the live-scoped task counts the orders that came from L1: its replay, its clip and its coupon code (on air);
    # the product link's order came from no live
    assert {g for g in grants if g[0] == "live-buyers"} == {
        ("live-buyers", "by-replay", "bob", "L1"), ("live-buyers", "by-clip", "carol", "L1"),
        ("live-buyers", "by-coupon", "bob", "L1")}


def test_a_product_link_counts_for_a_live_task_if_the_order_came_from_that_live(backend: str) -> None:
    s = network()
    s.add("live.joined", 5, live="L1", viewer="c1", signed_in=True)  # joined by no link: the order is placed on air
    s.click("bob", "c1", minute=6, product="p-feat")
    s.order("o1", "c1", minute=8, lines=[("p-feat", "100.00")])
    engine = run(s, backend, rules())
    assert engine.store.get_order("o1").snapshot.attribution.live == "L1"
    assert {(g.rule_ids[0], g.beneficiary, g.live) for g in engine.store.points()} == {
        ("buyers", "bob", "L1"), ("live-buyers", "bob", "L1")}


def test_an_order_placed_before_the_invitation_does_not_count(backend: str) -> None:
    s = network()
    s.order("early", "c1", minute=-60)  # bought first, unbound
    s.click("bob", "c1", minute=-30, live="L1")
    s.watch("L1", "c1", 0, 10)
    engine = run(s, backend, rules())
    assert cash(engine) == [] and points(engine, "bob") == 0
    s.order("later", "c1", minute=30)  # bought after bob's link: counts, cash on that order
    engine = run(s, backend, rules())
    assert cash(engine) == [("later", "bob", Decimal("5.00"), "pending")] and points(engine, "bob") == 11


def test_the_first_distributor_whose_link_was_clicked_is_the_inviter(backend: str) -> None:
    s = network()
    s.click("carol", "c1", minute=-40, product="p-plain")
    s.click("bob", "c1", minute=-30, live="L1")
    s.order("o1", "c1", minute=10)
    engine = run(s, backend, rules())
    assert cash(engine) == [("o1", "carol", Decimal("5.00"), "pending")]


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python (3.13)")
def test_both_backends_book_the_same_task_cash() -> None:
    s = network()
    for n in range(1, 5):
        s.click("bob", f"c{n}", minute=-30, live="L1")
        s.order(f"o{n}", f"c{n}", minute=10 * n)
    s.add("order.fulfilled", 0, day=1, order="o2")
    s.add("order.cancelled", 0, day=1, order="o3")
    now = T0 + timedelta(days=10)
    assert ledger(run(s, "durable", rules(), now=now)) == ledger(run(s, "python", rules(), now=now))
