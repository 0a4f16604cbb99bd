"""Property tests of the engine's guarantees: backends agree, duplicates are ignored, lifecycle order does
not matter, compliance limits hold, no loops, and money reconciles to the cent."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_livedist.core.events import parse_event
from saleor_livedist.core.money import percent_of
from saleor_livedist.core.report import balances
from saleor_livedist.rules.backends import durable_available
from saleor_livedist.rules.model import RuleSet
from tests.builders import T0, default_rules, ledger, run
from tests.strategies import rulesets, streams

NOW = T0 + timedelta(days=400)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(raw: list[dict[str, Any]], rules: RuleSet, backend: str = "python") -> tuple[Any, ...]:
    engine = run([parse_event(e) for e in raw], backend, rules, now=NOW)
    grants = sorted((g.key, g.beneficiary, g.points, g.rules_version) for g in engine.store.points())
    ranks = sorted((d.id, d.rank, d.upline) for d in engine.store.distributors())
    return ledger(engine), grants, ranks


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python (3.13)")
@SETTINGS
@given(rules=rulesets(), raw=streams())
def test_backends_give_identical_ledgers(rules: RuleSet, raw: list[dict[str, Any]]) -> None:
    assert outcome(raw, rules, "durable") == outcome(raw, rules, "python")


@SETTINGS
@given(raw=streams(), data=st.data())
def test_an_event_delivered_twice_changes_nothing(raw: list[dict[str, Any]], data: st.DataObject) -> None:
    again = data.draw(st.lists(st.sampled_from(raw), max_size=10))
    positions = data.draw(st.lists(st.integers(0, len(raw)), min_size=len(again), max_size=len(again)))
    # Each copy goes somewhere after its original; insert from the back so positions stay meaningful.
    placed = [(max(position, raw.index(event) + 1), event) for event, position in zip(again, positions)]
    noisy = list(raw)
    for position, event in sorted(placed, key=lambda p: -p[0]):
        noisy.insert(position, dict(event))
    assert outcome(noisy, default_rules()) == outcome(raw, default_rules())


def _blocks(raw: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split into blocks: each order's created + lifecycle events together, every other event alone."""
    blocks: list[list[dict[str, Any]]] = []
    for event in raw:
        order = event.get("order")
        if order is not None and event["type"] != "order.created" and blocks and blocks[-1][0].get("order") == order:
            blocks[-1].append(event)
        else:
            blocks.append([event])
    return blocks


@SETTINGS
@given(rules=rulesets(), raw=streams(), data=st.data())
def test_lifecycle_events_out_of_order_give_the_same_ledger(
    rules: RuleSet, raw: list[dict[str, Any]], data: st.DataObject
) -> None:
    shuffled = [e for block in _blocks(raw) for e in data.draw(st.permutations(block))]
    assert outcome(shuffled, rules) == outcome(raw, rules)


@SETTINGS
@given(rules=rulesets(), raw=streams())
def test_no_level_beyond_the_compliance_limit_and_no_loops(rules: RuleSet, raw: list[dict[str, Any]]) -> None:
    engine = run([parse_event(e) for e in raw], "python", rules, now=NOW)
    assert all(e.level <= rules.compliance.max_levels <= 3 for e in engine.store.entries())
    for d in engine.store.distributors():
        seen = {d.id}
        up = d.upline
        while up is not None:
            assert up not in seen, f"loop through {up}"
            seen.add(up)
            up = engine.store.get_distributor(up).upline
    for e in engine.store.entries():  # never paid on one's own purchase unless the rules say so
        order = engine.store.get_order(e.order)
        if not rules.binding.self_purchase:
            assert order.snapshot.customer != e.beneficiary


@SETTINGS
@given(rules=rulesets(), raw=streams())
def test_money_reconciles_to_the_cent(rules: RuleSet, raw: list[dict[str, Any]]) -> None:
    engine = run([parse_event(e) for e in raw], "python", rules, now=NOW)
    booked: dict[tuple[str, str, int, str], Decimal] = defaultdict(Decimal)
    task_cash: dict[str, Decimal] = defaultdict(Decimal)
    for e in engine.store.entries():
        if e.status != "reversed":
            if e.line:  # a level's team rule and its peer bonus apart: ids end in :<level>:<n> and :<level>peer:<n>
                kind = "peer" if e.id.rsplit(":", 2)[1].endswith("peer") else ""
                booked[(e.order, e.line, e.level, kind)] += e.amount
            else:
                task_cash[e.id.rsplit(":", 1)[0]] += e.amount  # a task reward and its clawback
    refunds: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for event in raw:
        if event["type"] == "order.refunded":
            for line in event["lines"]:
                refunds[(event["order"], line["line"])] += Decimal(line["amount"])
    for (order_id, line_id, level, kind), amount in booked.items():
        snapshot = engine.store.get_order(order_id).snapshot
        priced = next(p for p in snapshot.lines if p.line.line == line_id)
        share = next(s for s in priced.shares if s.level == level and s.kind == kind)
        cancelled = any(e["type"] == "order.cancelled" and e["order"] == order_id for e in raw)
        kept = Decimal(0) if cancelled else max(priced.line.amount - refunds[(order_id, line_id)], Decimal(0))
        assert amount == percent_of(kept, share.percent, snapshot.currency)
        assert amount.as_tuple().exponent >= -2  # never finer than the minor unit
    for order_id in engine.store.order_ids():
        record = engine.store.get_order(order_id)
        voided = any(e["type"] == "order.cancelled" and e["order"] == order_id for e in raw) or (
            record.snapshot is not None and all(
                refunds[(order_id, p.line.line)] >= p.line.amount for p in record.snapshot.lines))
        for n, reward in enumerate(record.rewards, 1):  # task cash: all of it, or nothing once the order is void
            assert task_cash[f"{order_id}:task:{n}"] == (Decimal(0) if voided else reward.amount)
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for e in engine.store.entries():
        totals[(e.beneficiary, e.currency, e.status)] += e.amount
    for who, b in balances(engine.store).items():
        for currency, by_status in b["money"].items():
            for status, amount in by_status.items():
                assert Decimal(amount) == totals[(who, currency, status)]
