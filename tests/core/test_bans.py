"""Banned distributors in the engine (docs/rules.md, "Banned distributors"): orders paid while a distributor is
banned pay their level nothing and the uplines their own levels; what was booked before stays and settles;
unbanning restores earning for later payments; no task rewards or points meanwhile; any arrival order of the
ban events gives the same ledger. Both backends."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from saleor_livedist.cli import main
from saleor_livedist.core.events import parse_event
from saleor_livedist.exceptions import EventError
from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts
from saleor_livedist.rules.model import RuleSet
from tests.builders import T0, Stream, ledger, paid, points, run

# Every level earns whatever its rank: 5% to the seller, 2% to their upline, 1% to the upline's upline.
TEAM = """schema: livedist/v1
commission:
  rates:
    - id: direct
      rate: 5
  team:
    - id: level-2
      level: 2
      rate: 2
    - id: level-3
      level: 3
      rate: 1
"""


def rules() -> RuleSet:
    files = {p.name: p.read_text() for p in default_rules_dir().iterdir()}
    files["commission.yaml"] = TEAM
    files["policy.yaml"] = files["policy.yaml"].replace("max_levels: 2", "max_levels: 3")
    return load_rules_from_texts(files)


def network() -> Stream:
    """ann <- bob <- carol, and carol's customer cust, bound to her by a click."""
    s = Stream()
    s.distributor("ann", minute=-900)
    s.distributor("bob", upline="ann", minute=-800)
    s.distributor("carol", upline="bob", minute=-700)
    s.click("carol", "cust", minute=-600, product="p-plain")
    return s


def ban(s: Stream, who: str, minute: float, reason: str = "fake orders", ident: str | None = None) -> dict[str, Any]:
    event = s.add("distributor.banned", minute, distributor=who, reason=reason)
    if ident:
        event["id"] = ident
    return event


def unban(s: Stream, who: str, minute: float, ident: str | None = None) -> dict[str, Any]:
    event = s.add("distributor.unbanned", minute, distributor=who)
    if ident:
        event["id"] = ident
    return event


def shares(engine, order: str) -> list[tuple[str, int, str, Decimal, str]]:
    return sorted((e.beneficiary, e.level, e.kind, e.amount, e.status) for e in engine.store.entries(order))


def test_an_order_paid_while_banned_pays_the_uplines_their_own_levels_only(backend: str) -> None:
    s = network()
    ban(s, "carol", 0)
    s.order("o1", "cust", minute=10, lines=[("p-plain", "200.00")])
    engine = run(s, backend, rules())
    assert shares(engine, "o1") == [("ann", 3, "team", Decimal("2.00"), "pending"),
                                    ("bob", 2, "team", Decimal("4.00"), "pending")]
    assert paid(engine, "carol") == 0
    snapshot = engine.store.get_order("o1").snapshot
    assert snapshot.attribution.paid_to == "carol"  # still her customer: the ban withholds, it does not re-attribute


def test_a_banned_upline_loses_their_level_and_the_levels_around_it_keep_theirs(backend: str) -> None:
    s = network()
    ban(s, "bob", 0)
    s.order("o1", "cust", minute=10, lines=[("p-plain", "200.00")])
    engine = run(s, backend, rules())
    assert shares(engine, "o1") == [("ann", 3, "team", Decimal("2.00"), "pending"),
                                    ("carol", 1, "commission", Decimal("10.00"), "pending")]


def test_paying_invitees_of_a_banned_seller_do_not_promote_them(backend: str) -> None:
    s = Stream()
    s.distributor("bob")
    for n in range(3):
        s.click("bob", f"c{n}", minute=-30, product="p-plain")
    s.order("o0", "c0", minute=-20)  # before the ban: one paying invitee
    ban(s, "bob", 0)
    s.order("o1", "c1", minute=10)  # the second, while banned: not counted (default promotion: 2 make a leader)
    unban(s, "bob", 20)
    engine = run(s, backend)
    assert engine.store.get_distributor("bob").rank == "distributor"
    s.order("o2", "c2", minute=30)
    assert run(s, backend).store.get_distributor("bob").rank == "leader"


def test_booked_before_the_ban_stays_and_settles(backend: str) -> None:
    s = network()
    s.order("o0", "cust", minute=-60, lines=[("p-plain", "100.00")])
    s.add("order.fulfilled", -50, order="o0")
    ban(s, "carol", 0)
    engine = run(s, backend, rules(), now=T0 + timedelta(days=8))
    assert shares(engine, "o0") == [("ann", 3, "team", Decimal("1.00"), "approved"),
                                    ("bob", 2, "team", Decimal("2.00"), "approved"),
                                    ("carol", 1, "commission", Decimal("5.00"), "approved")]


def test_the_payment_time_decides_not_the_creation(backend: str) -> None:
    s = network()
    s.order("before", "cust", minute=-30, paid=False)  # created before the ban, paid during it
    s.add("order.paid", 5, order="before")
    ban(s, "carol", 0)
    s.order("during", "cust", minute=30, paid=False)  # created during the ban, paid after it
    unban(s, "carol", 60)
    s.add("order.paid", 70, order="during")
    engine = run(s, backend, rules())
    assert [b for b, *_ in shares(engine, "before")] == ["ann", "bob"]
    assert [b for b, *_ in shares(engine, "during")] == ["ann", "bob", "carol"]


def test_unbanning_restores_earning_for_later_orders_and_a_second_ban_withholds_again(backend: str) -> None:
    s = network()
    ban(s, "carol", 0)
    s.order("o1", "cust", minute=10)
    unban(s, "carol", 20)
    s.order("o2", "cust", minute=30)
    ban(s, "carol", 40, reason="again")
    s.order("o3", "cust", minute=50)
    engine = run(s, backend, rules())
    assert [(e.order, e.amount) for e in engine.store.entries() if e.beneficiary == "carol"] == [
        ("o2", Decimal("5.00"))]
    assert [e.order for e in engine.store.entries() if e.beneficiary == "bob"] == ["o1", "o2", "o3"]


def test_a_refund_of_an_order_paid_while_banned_books_nothing_for_the_withheld_level(backend: str) -> None:
    s = network()
    ban(s, "carol", 0)
    s.order("o1", "cust", minute=10, lines=[("p-plain", "100.00")])
    s.add("order.refunded", 30, order="o1", lines=[{"line": "1", "amount": "50.00"}])
    unban(s, "carol", 40)
    s.add("order.refunded", 50, order="o1", lines=[{"line": "1", "amount": "50.00"}])
    engine = run(s, backend, rules())
    assert shares(engine, "o1") == [("ann", 3, "adjustment", Decimal("-0.50"), "reversed"),
                                    ("ann", 3, "team", Decimal("1.00"), "reversed"),
                                    ("bob", 2, "adjustment", Decimal("-1.00"), "reversed"),
                                    ("bob", 2, "team", Decimal("2.00"), "reversed")]


def test_a_banned_distributors_links_and_checkout_refs_bind_nobody(backend: str) -> None:
    s = network()
    ban(s, "bob", 0)
    s.click("bob", "newbie", minute=5, product="p-plain")
    s.order("o1", "other", minute=10, ref="bob")
    engine = run(s, backend, rules())
    assert engine.store.get_binding("newbie") is None and engine.store.get_binding("other") is None
    assert engine.store.get_order("o1").snapshot.attribution.paid_to is None
    assert any("bob is banned" in n for n in engine.notices)


def test_no_task_points_while_banned_and_again_after_the_unban(backend: str) -> None:
    s = network()
    s.live("L1", start=0, end=300)
    s.click("bob", "v1", minute=-10, live="L1")
    s.click("bob", "v2", minute=-10, live="L1")
    ban(s, "bob", -5)
    s.watch("L1", "v1", start=0, minutes=6)  # qualifies at minute 5, while bob is banned
    unban(s, "bob", 20)
    s.watch("L1", "v2", start=30, minutes=6)  # qualifies at minute 35
    engine = run(s, backend, rules())
    assert points(engine, "bob") == 5  # invite-watcher: 5 points for v2 only
    assert [g.invitee for g in engine.store.points() if g.beneficiary == "bob"] == ["v2"]
    assert {st.distributor: st.qualified for st in engine.store.live_stats("L1")}.get("bob") == 1


TASK_CASH = """schema: livedist/v1
tasks:
  - id: buyers
    scope: all
    qualify: {ordered: true}
    each: {cash: "5.00", points: 1}
"""


def test_no_task_cash_while_banned(backend: str) -> None:
    files = {p.name: p.read_text() for p in default_rules_dir().iterdir()}
    files["tasks.yaml"] = TASK_CASH
    s = Stream()
    s.distributor("bob")
    s.click("bob", "c1", minute=-30, product="p-plain")
    s.click("bob", "c2", minute=-30, product="p-plain")
    ban(s, "bob", 0)
    s.order("o1", "c1", minute=10)
    unban(s, "bob", 20)
    s.order("o2", "c2", minute=30)
    engine = run(s, backend, load_rules_from_texts(files))
    assert sorted((e.order, e.kind, e.amount) for e in engine.store.entries() if e.beneficiary == "bob") == [
        ("o2", "commission", Decimal("5.00")), ("o2", "task_cash", Decimal("5.00"))]
    assert points(engine, "bob") == 1


def in_order_stream() -> Stream:
    s = network()
    s.order("o0", "cust", minute=-20)
    ban(s, "carol", 0, ident="ban-1")
    s.order("o1", "cust", minute=10, lines=[("p-plain", "80.00")])
    s.add("order.refunded", 15, order="o1", lines=[{"line": "1", "amount": "30.00"}])
    unban(s, "carol", 20, ident="unban-1")
    s.order("o2", "cust", minute=30)
    ban(s, "carol", 40, ident="ban-2")
    s.order("o3", "cust", minute=50)
    s.add("order.fulfilled", 60, order="o3")
    return s


def reordered(s: Stream, order: list[str]) -> Stream:
    """The same events, the ban events delivered at the end in the given order."""
    moved = Stream()
    by_id = {e["id"]: e for e in s.raw}
    moved.raw = [e for e in s.raw if e["id"] not in order] + [by_id[i] for i in order]
    return moved


@pytest.mark.parametrize("late", [["ban-1", "unban-1", "ban-2"], ["ban-2", "unban-1", "ban-1"], ["unban-1"],
                                  ["ban-2", "ban-1"]])
def test_ban_events_arriving_late_give_the_ledger_of_the_events_in_order(backend: str, late: list[str]) -> None:
    now = T0 + timedelta(days=10)
    expected = ledger(run(in_order_stream(), backend, rules(), now=now))
    assert [e for e in expected if e[1] == "carol"]  # she earned something (o0, o2) and not everything
    assert ledger(run(reordered(in_order_stream(), late), backend, rules(), now=now)) == expected


def test_a_ban_before_the_distributor_joined_still_counts(backend: str) -> None:
    s = network()
    ban(s, "carol", 0, ident="ban-1")
    s.order("o1", "cust", minute=10)
    first = Stream()
    first.raw = [next(e for e in s.raw if e["id"] == "ban-1")] + [e for e in s.raw if e["id"] != "ban-1"]
    assert ledger(run(first, backend, rules())) == ledger(run(s, backend, rules()))


def test_a_redelivered_ban_changes_nothing() -> None:
    s = network()
    event = ban(s, "carol", 0, ident="ban-1")
    s.order("o1", "cust", minute=10)
    unban(s, "carol", 20)
    s.order("o2", "cust", minute=30)
    engine = run(s, "python", rules())
    before = ledger(engine)
    assert engine.process(parse_event(event)) is False
    assert ledger(engine) == before and [e.order for e in engine.store.entries() if e.beneficiary == "carol"] == ["o2"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"distributor": "d1"}, "'reason' must be a string of 1 to 500 characters"),
    ({"distributor": "d1", "reason": ""}, "'reason' must be a string of 1 to 500 characters"),
    ({"distributor": "d1", "reason": "x" * 501}, "'reason' must be a string of 1 to 500 characters"),
    ({"reason": "spam"}, "'distributor' must be a non-empty string"),
])
def test_a_ban_event_is_checked_like_every_event(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event({"id": "b1", "type": "distributor.banned", "at": T0.isoformat(), **raw})
    event = parse_event({"id": "u1", "type": "distributor.unbanned", "at": T0.isoformat(), "distributor": "d1"})
    assert event.data == {"distributor": "d1", "reason": "", "by": None}


def test_simulate_takes_the_ban_events(tmp_path: Path) -> None:
    s = network()
    ban(s, "carol", 0)
    s.order("o1", "cust", minute=10)
    unban(s, "carol", 20)
    s.order("o2", "cust", minute=30)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in s.raw), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert main(["simulate", "--events", str(path), "--engine", "python", "--format", "json"], out=out, err=err) == 0, \
        err.getvalue()
    entries = json.loads(out.getvalue())["entries"]
    assert [(e["order"], e["beneficiary"], e["amount"]) for e in entries] == [("o2", "carol", "5.00")]
