"""Partitioned processing (settings.PARTITIONS > 1): the same ledger as one partition, in one process here;
tests/integration/test_partitions_workers.py runs several worker processes."""
from __future__ import annotations

from typing import Any

import pytest

from saleor_livedist.core.events import parse_event
from saleor_livedist.inbox import processing, routing
from saleor_livedist.models import InboxEvent, RouteComponent, RouteKey
from tests.builders import default_rules
from tests.integration.test_db_engine import db_outcome, fixture_events, memory_outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def partitions(settings: Any) -> Any:
    def use(count: int) -> None:
        settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "PARTITIONS": count}
    return use


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("batch", [1, 500])
def test_the_fixture_stream_gives_the_same_ledger_on_several_partitions(partitions: Any, count: int,
                                                                        batch: int) -> None:
    partitions(count)
    raw = fixture_events()
    for event in raw:
        processing.submit(event, process=False)
    assert processing.process_pending(limit=batch) == len({e["id"] for e in raw})
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    assert db_outcome() == memory_outcome(raw, default_rules(), now)
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
    seqs = list(InboxEvent.objects.order_by("id").values_list("seq", flat=True))
    assert None not in seqs and seqs == sorted(seqs)  # numbered in submit order
