"""Partitioned processing (settings.PARTITIONS > 1): the same ledger as one partition, in one process here;
tests/integration/test_partitions_workers.py runs several worker processes."""
from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

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


def test_one_partition_routes_nothing_and_keeps_the_order_received(partitions: Any) -> None:
    partitions(1)
    for event in fixture_events()[:20]:
        processing.submit(event, process=False)
    assert set(InboxEvent.objects.values_list("seq", "partition", "barrier")) == {(None, 0, True)}
    assert not RouteKey.objects.exists() and not RouteComponent.objects.exists()


T = "2026-11-20T20:00:00+08:00"


def click(n: int, distributor: str, visitor: str) -> dict[str, Any]:
    return {"id": f"c{n}", "type": "link.clicked", "at": T, "distributor": distributor, "visitor": visitor,
            "target": {"product": "p1"}}


def test_identities_that_share_an_event_share_a_partition_and_a_merge_is_a_barrier(partitions: Any) -> None:
    partitions(4)
    for n, who in enumerate(["a", "b", "c", "d"]):
        processing.submit({"id": f"j{n}", "type": "distributor.joined", "at": T, "customer": who}, process=False)
    rows = {r.event_id: r for r in InboxEvent.objects.all()}
    assert sorted(rows[f"j{n}"].partition for n in range(4)) == [0, 1, 2, 3]  # four components, spread
    assert not any(r.barrier for r in rows.values())
    processing.submit(click(1, "a", "u1"), process=False)  # u1 joins a's component: no barrier
    processing.submit(click(2, "a", "u2"), process=False)
    processing.submit(click(3, "b", "u1"), process=False)  # u1 (with a, u2) meets b: moved to the larger one
    rows = {r.event_id: r for r in InboxEvent.objects.all()}
    assert not rows["c1"].barrier and rows["c1"].partition == rows["j0"].partition
    assert rows["c3"].barrier and rows["c3"].partition == rows["j0"].partition
    component = dict(RouteKey.objects.values_list("key", "component"))
    assert component["p:a"] == component["p:b"] == component["p:u1"] == component["p:u2"] != component["p:c"]
    assert RouteComponent.objects.get(id=component["p:a"]).size == 4
    order = {"id": "o1:created", "type": "order.created", "at": T, "order": "o1", "customer": "u2",
             "channel": "default", "currency": "CNY", "lines": [{"line": "1", "product": "p1", "amount": "10.00"}]}
    processing.submit({"id": "o1:paid", "type": "order.paid", "at": T, "order": "o1"}, process=False)
    processing.submit(order, process=False)  # the order (its own component until now) joins its customer
    processing.submit({"id": "ban", "type": "distributor.banned", "at": T, "distributor": "c", "reason": "spam"},
                      process=False)
    rows = {r.event_id: r for r in InboxEvent.objects.all()}
    assert rows["o1:created"].partition == rows["j0"].partition
    assert rows["ban"].barrier  # read by every partition
    assert routing.keys(parse_event(order)) == ["o:o1", "p:u2"]
    processing.process_pending()
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}


def test_a_submit_holds_the_router_lock_for_a_few_statements(partitions: Any) -> None:
    """Every submit waits for the router's lock: its lock, one lookup (the id kept already? rows left unrouted?
    the number, the keys' components), at most one statement joining the keys, and the row itself."""
    from django.db import connection

    partitions(4)
    processing.submit({"id": "j", "type": "distributor.joined", "at": T, "customer": "a"}, process=False)
    statements: list[str] = []

    def counting(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # (the test's transaction: BEGIN and COMMIT)
            statements.append(sql)
        return execute(sql, params, many, context)

    order = {"id": "o1:created", "type": "order.created", "at": T, "order": "o1", "customer": "u1",
             "channel": "default", "currency": "CNY", "lines": [{"line": "1", "product": "p1", "amount": "10.00"}]}
    with connection.execute_wrapper(counting):
        processing.submit(click(1, "a", "u1"), process=False)  # a new visitor joins a's component
        new_visitor, statements[:] = len(statements), []
        processing.submit(order, process=False)  # a new order joins its customer's
        new_order, statements[:] = len(statements), []
        processing.submit({"id": "o1:paid", "type": "order.paid", "at": T, "order": "o1"}, process=False)
        known, statements[:] = len(statements), []
        assert not processing.submit(click(1, "a", "u1"), process=False)  # kept already
        again = len(statements)
    assert (new_visitor, new_order, known, again) == (4, 4, 3, 3)
    component = dict(RouteKey.objects.values_list("key", "component"))
    assert component["p:a"] == component["p:u1"] == component["o:o1"]
    assert RouteComponent.objects.get(id=component["p:a"]).size == 3
    rows = {r.event_id: r for r in InboxEvent.objects.all()}
    assert len({r.partition for r in rows.values()}) == 1 and not any(r.barrier for r in rows.values())
    assert [r.seq for r in sorted(rows.values(), key=lambda r: r.id)] == sorted(r.seq for r in rows.values())


def test_events_kept_with_one_partition_are_applied_first_after_the_switch(partitions: Any) -> None:
    raw = fixture_events()
    half = len(raw) // 2
    partitions(1)
    for event in raw[:half]:
        processing.submit(event, process=False)
    partitions(4)
    for event in raw[half:]:
        processing.submit(event, process=False)
    assert processing.process_pending() == len({e["id"] for e in raw})
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    assert db_outcome() == memory_outcome(raw, default_rules(), now)
    assert not InboxEvent.objects.filter(routed=False).exists()


def test_until_the_events_kept_before_are_routed_every_event_is_a_barrier(
        partitions: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = fixture_events()
    partitions(1)
    for event in raw[:30]:
        processing.submit(event, process=False)
    processing.process_pending()
    partitions(4)
    monkeypatch.setattr(routing, "CATCH_UP", 10)
    for event in raw[30:32]:  # each routes ten of the old rows first: not all of them yet
        processing.submit(event, process=False)
    assert [InboxEvent.objects.get(event_id=e["id"]).barrier for e in raw[30:32]] == [True, True]
    assert InboxEvent.objects.filter(routed=False).count() == 10
    out = io.StringIO()
    call_command("livedist_route", stdout=out)
    assert "10 event(s) routed" in out.getvalue()
    assert not InboxEvent.objects.filter(routed=False).exists()
    processing.submit(raw[32], process=False)
    assert not InboxEvent.objects.get(event_id=raw[32]["id"]).barrier or raw[32]["type"] in routing.GLOBAL_TYPES
    for event in raw[33:]:
        processing.submit(event, process=False)
    processing.process_pending()
    now = max(parse_event(e).at for e in raw)
    processing.settle(now)
    assert db_outcome() == memory_outcome(raw, default_rules(), now)


def test_each_partition_gets_a_task_on_its_queue_and_a_barrier_the_sweep(
        partitions: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> None:
    partitions(4)
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(processing.broker, "broker_configured", lambda: True)
    monkeypatch.setattr(processing.broker, "publish",
                        lambda task, args=(), **options: sent.append((task, args, options.get("queue"))) or True)
    with django_capture_on_commit_callbacks(execute=True):
        processing.submit({"id": "j0", "type": "distributor.joined", "at": T, "customer": "a"})
        processing.submit({"id": "j1", "type": "distributor.joined", "at": T, "customer": "b"})
        processing.submit({"id": "go", "type": "live.started", "at": T, "live": "L1"})
    part = dict(InboxEvent.objects.values_list("event_id", "partition"))
    assert sent == [(processing.broker.PROCESS_EVENTS, (part["j0"],), f"livedist.p{part['j0']}"),
                    (processing.broker.PROCESS_EVENTS, (part["j1"],), f"livedist.p{part['j1']}"),
                    (processing.broker.PROCESS_EVENTS, (), None)]


def test_an_event_that_failed_is_retried_as_a_barrier(partitions: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    partitions(4)
    from saleor_livedist.core.engine import Engine

    real = Engine.process
    monkeypatch.setattr(Engine, "process", lambda self, event: (_ for _ in ()).throw(RuntimeError("no")) if
                        event.id == "c1" else real(self, event))
    processing.submit({"id": "j0", "type": "distributor.joined", "at": T, "customer": "a"}, process=False)
    processing.submit(click(1, "a", "u1"), process=False)
    processing.process_pending()
    row = InboxEvent.objects.get(event_id="c1")
    assert (row.status, row.attempts, row.barrier) == ("pending", 1, True)  # wherever u1 is when it is retried
    monkeypatch.setattr(Engine, "process", real)
    InboxEvent.objects.filter(event_id="c1").update(next_attempt_at=None)
    processing.process_pending()
    assert InboxEvent.objects.get(event_id="c1").status == "done"
