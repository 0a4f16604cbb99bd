"""The database path against the in-memory engine: the same events give the same ledger, entry by entry."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from saleor_livedist.inbox import processing
from saleor_livedist.cli import default_fixture
from saleor_livedist.core.events import parse_event
from saleor_livedist.db.store import DbStore
from saleor_livedist.models import InboxEvent, LedgerEntry
from saleor_livedist.rules.provider import StaticRules
from tests.builders import T0, default_rules, ledger, run
from tests.strategies import rulesets, streams

pytestmark = pytest.mark.django_db


def fixture_events() -> list[dict[str, Any]]:
    lines = default_fixture().read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def db_outcome() -> tuple[Any, ...]:
    store = DbStore()
    grants = sorted((g.key, g.beneficiary, g.points, g.rules_version) for g in store.points())
    ranks = sorted((d.id, d.rank, d.upline) for d in store.distributors())
    entries = sorted(
        (e.id, e.beneficiary, e.kind, e.level, e.amount, e.currency, e.status, e.percent, e.rule_ids, e.rules_version)
        for e in store.entries()
    )
    stats = sorted((x.live, x.distributor, x.invited, x.qualified, x.orders, x.gmv) for live in ("L0", "L1", "live-1")
                   for x in store.live_stats(live))
    return entries, grants, ranks, stats


def memory_outcome(raw: list[dict[str, Any]], rules: Any, now: Any) -> tuple[Any, ...]:
    engine = run([parse_event(e) for e in raw], "python", rules, now=now)
    grants = sorted((g.key, g.beneficiary, g.points, g.rules_version) for g in engine.store.points())
    ranks = sorted((d.id, d.rank, d.upline) for d in engine.store.distributors())
    stats = sorted((x.live, x.distributor, x.invited, x.qualified, x.orders, x.gmv) for live in ("L0", "L1", "live-1")
                   for x in engine.store.live_stats(live))
    return ledger(engine), grants, ranks, stats


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_fixture_stream_gives_the_same_ledger_through_the_inbox(batch: int) -> None:
    raw = fixture_events()
    for event in raw:
        processing.submit(event, process=False)
    assert processing.process_pending(limit=batch) == len({e["id"] for e in raw})
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    expected = memory_outcome(raw, default_rules(), now)
    assert db_outcome() == expected
    assert len(expected[0]) > 10 and expected[1]  # the stream books entries and points
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rules=rulesets(), raw=streams())
def test_random_streams_and_rules_agree_with_memory(rules: Any, raw: list[dict[str, Any]]) -> None:
    now = T0 + timedelta(days=400)
    with transaction.atomic():
        source = StaticRules(rules, "python")
        events = [parse_event(e) for e in raw]
        for start in range(0, len(events), 5):  # batches of 5 events, each its own unit of work
            processing.apply(events[start:start + 5], source=source)
        processing.apply([], now=now, source=source)
        assert db_outcome() == memory_outcome(raw, rules, now)
        transaction.set_rollback(True)


def test_an_invalid_event_is_refused_before_it_is_stored() -> None:
    with pytest.raises(Exception, match="no UTC offset"):
        processing.submit({"id": "x", "type": "order.paid", "at": "2026-11-20T10:00:00", "order": "o"})
    assert not InboxEvent.objects.exists()


def test_settle_twice_changes_nothing() -> None:
    raw = fixture_events()
    for event in raw:
        processing.submit(event, process=False)
    processing.process_pending()
    later = T0 + timedelta(days=60)
    processing.settle(later)
    first = list(LedgerEntry.objects.order_by("id").values())
    assert processing.settle(later) == 0
    assert list(LedgerEntry.objects.order_by("id").values()) == first
