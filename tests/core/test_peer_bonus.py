"""Peer bonuses (平级奖): an upline of the seller's rank earns a percent of the line on top of its team rule, booked
as its own ledger entries with the rule that paid it, and reversed or clawed back with the order.

Each test runs on both backends (the `backend` fixture)."""
from __future__ import annotations

from decimal import Decimal

from saleor_livedist.rules.loader import load_rules_from_texts
from tests.builders import Stream, run


def leaders() -> Stream:
    """alice <- bob; both become leaders (two paying invitees each) before minute 0."""
    s = Stream()
    s.distributor("alice")
    s.distributor("bob", upline="alice")
    for n, who in enumerate(("alice", "alice", "bob", "bob")):
        s.click(who, f"first{n}", minute=-300 + n, product="p-plain")
        s.order(f"first{n}", f"first{n}", minute=-290 + n, lines=[("p-plain", "10.00")])
    return s


def entries_of(engine, order: str) -> list[tuple[str, str, str, Decimal, str, tuple[str, ...]]]:
    return sorted((e.beneficiary, e.kind, e.id, e.amount, e.status, e.rule_ids)
                  for e in engine.store.entries(order))


def test_a_leaders_leader_upline_earns_the_peer_bonus_on_top_of_the_team_rule(backend: str) -> None:
    s = leaders()
    s.click("bob", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "123.45")])
    engine = run(s, backend)
    assert entries_of(engine, "o1") == [
        ("alice", "peer_bonus", "o1:1:2peer:1", Decimal("1.23"), "pending", ("leader-peer",)),  # 1% of 123.45
        ("alice", "team", "o1:1:2:1", Decimal("2.47"), "pending", ("leader-level-2",)),
        ("bob", "commission", "o1:1:1:1", Decimal("6.17"), "pending", ("direct",)),
    ]


def test_no_peer_bonus_when_the_ranks_differ(backend: str) -> None:
    s = Stream()
    s.distributor("alice")
    s.distributor("bob", upline="alice")
    for n in range(2):  # alice is a leader, bob is not
        s.click("alice", f"first{n}", minute=-300 + n, product="p-plain")
        s.order(f"first{n}", f"first{n}", minute=-290 + n, lines=[("p-plain", "10.00")])
    s.click("bob", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "100.00")])
    engine = run(s, backend)
    assert [e.kind for e in engine.store.entries("o1") if e.beneficiary == "alice"] == ["team"]


def test_the_peer_bonus_uses_the_ranks_at_the_time_of_the_order(backend: str) -> None:
    s = leaders()
    s.click("bob", "early", minute=-400, product="p-plain")
    s.order("o0", "early", minute=-399, lines=[("p-plain", "100.00")])  # before either was promoted
    engine = run(s, backend)
    assert {e.kind for e in engine.store.entries("o0")} == {"commission"}


def test_a_refund_adjusts_and_a_cancel_reverses_the_peer_bonus(backend: str) -> None:
    s = leaders()
    s.click("bob", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "200.00")])
    s.add("order.refunded", 5, order="o1", lines=[{"line": "1", "amount": "50.00"}])
    s.order("o2", "cust", minute=10, lines=[("p-plain", "80.00")])
    s.add("order.cancelled", 12, order="o2")
    engine = run(s, backend)
    peer = [(e.kind, e.amount, e.status) for e in engine.store.entries("o1") if e.id.startswith("o1:1:2peer")]
    assert peer == [("peer_bonus", Decimal("2.00"), "pending"), ("adjustment", Decimal("-0.50"), "pending")]
    assert [(e.kind, e.status) for e in engine.store.entries("o2") if "peer" in e.id] == [("peer_bonus", "reversed")]


def test_after_approval_a_refund_claws_the_peer_bonus_back(backend: str) -> None:
    s = leaders()
    s.click("bob", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "100.00")])
    s.add("order.fulfilled", 2, order="o1")
    s.add("order.refunded", 0, day=9, order="o1")
    engine = run(s, backend)
    peer = [(e.kind, e.amount, e.status) for e in engine.store.entries("o1") if "peer" in e.id]
    assert peer == [("peer_bonus", Decimal("1.00"), "approved"), ("clawback", Decimal("-1.00"), "approved")]


THREE_LEVELS = """
schema: livedist/v1
commission:
  rates: [{id: direct, rate: 5}]
  team:
    - {id: upline, level: 2, rate: 2}
    - {id: second-upline, level: 3, rate: 1}
  peer:
    - {id: peer-2, level: 2, rate: 1}
    - {id: peer-3, level: 3, rate: "0.5"}
compliance: {max_levels: 3}
promotions:
  - {id: leader, rank: leader, paying_invitees: 1}
"""


def test_one_peer_bonus_per_line_to_the_nearest_upline_of_the_sellers_rank(backend: str) -> None:
    rules = load_rules_from_texts({"rules.yaml": THREE_LEVELS})
    s = Stream()
    s.distributor("ann")
    s.distributor("ben", upline="ann")
    s.distributor("cat", upline="ben")
    for n, who in enumerate(("ann", "cat")):  # ann and cat become leaders; ben stays a distributor
        s.click(who, f"first{n}", minute=-300 + n, product="p-plain")
        s.order(f"first{n}", f"first{n}", minute=-290 + n, lines=[("p-plain", "10.00")])
    s.click("cat", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "100.00")])
    engine = run(s, backend, rules=rules)
    got = sorted((e.beneficiary, e.kind, e.amount, e.rule_ids) for e in engine.store.entries("o1"))
    assert got == [
        ("ann", "peer_bonus", Decimal("0.50"), ("peer-3",)),  # ben is no peer of cat: the next upline is
        ("ann", "team", Decimal("1.00"), ("second-upline",)),
        ("ben", "team", Decimal("2.00"), ("upline",)),
        ("cat", "commission", Decimal("5.00"), ("direct",)),
    ]


def test_the_nearest_peer_wins_when_two_uplines_share_the_sellers_rank(backend: str) -> None:
    rules = load_rules_from_texts({"rules.yaml": THREE_LEVELS})
    s = Stream()
    s.distributor("ann")
    s.distributor("ben", upline="ann")
    s.distributor("cat", upline="ben")
    s.click("cat", "cust", minute=-10, product="p-plain")  # all three are plain distributors: the same rank
    s.order("o1", "cust", minute=0, lines=[("p-plain", "100.00")])
    engine = run(s, backend, rules=rules)
    peers = [(e.beneficiary, e.amount, e.rule_ids) for e in engine.store.entries("o1") if e.kind == "peer_bonus"]
    assert peers == [("ben", Decimal("1.00"), ("peer-2",))]


def test_the_line_cap_trims_the_peer_bonus_before_anything_below_it(backend: str) -> None:
    capped = THREE_LEVELS.replace("compliance: {max_levels: 3}", "compliance: {max_levels: 3, max_line_percent: 7.5}")
    rules = load_rules_from_texts({"rules.yaml": capped})
    s = Stream()
    s.distributor("ann")
    s.distributor("ben", upline="ann")
    s.distributor("cat", upline="ben")
    s.click("cat", "cust", minute=-10, product="p-plain")
    s.order("o1", "cust", minute=0, lines=[("p-plain", "100.00")])
    engine = run(s, backend, rules=rules)
    got = sorted((e.beneficiary, e.kind, e.amount, e.rule_ids) for e in engine.store.entries("o1"))
    assert got == [  # 5 + 2 + peer 1 (cut to 0.5): level 3's team rule gets nothing
        ("ben", "peer_bonus", Decimal("0.50"), ("peer-2", "compliance:cap")),
        ("ben", "team", Decimal("2.00"), ("upline",)),
        ("cat", "commission", Decimal("5.00"), ("direct",)),
    ]
