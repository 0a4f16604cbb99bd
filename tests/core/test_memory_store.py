"""MemoryStore keeps rows, not objects: every record comes back equal to what was written, as a new object,
whatever its fields hold (nested records, several ranks, refunds, actions); only an unpaid order's snapshot,
never mutated, comes back as the object written."""
from __future__ import annotations

import gc
from dataclasses import fields
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from saleor_livedist.core.events import Line
from saleor_livedist.core.records import (
    Attribution, BindingRecord, Click, DistributorRecord, LedgerEntry, LiveRecord, OrderRecord, OrderSnapshot,
    PricedLine, TaskCash, Share, TaskProgress, WatchRecord,
)
from saleor_livedist.core.store import MemoryStore
from tests.builders import T0

ACTIONS = (("double_points", (("factor", 2),)),)


def snapshot(order: str = "o1") -> OrderSnapshot:
    return OrderSnapshot(
        id=order, customer="c1", channel="default", currency="CNY", at=T0,
        lines=(
            PricedLine(Line("1", "p1", "shoes", ("summer", "sale"), 2, Decimal("99.90")), (
                Share(1, "d1", Decimal("7.5"), ("direct", "first-live-hour"), ACTIONS),
                Share(2, "d0", Decimal("2"), ("leader-level-2",)),
                Share(2, "d0", Decimal("1"), ("leader-peer",), (), "peer"),
            )),
            PricedLine(Line("2", "p2", None, (), 1, Decimal("0.01")), ()),
            PricedLine(Line("3", "p3", "bags", (), 1, Decimal("10")), (Share(1, "d1", Decimal("5"), ("direct",)),)),
        ),
        attribution=Attribution(paid_to="d1", last_click="d2", assists=("d3", "d4"), lives_watched=("L1",),
                                context="live", live="L1", reason="bound to d1 by click"),
        rules_version="v1",
    )


def test_every_record_comes_back_equal_and_new() -> None:
    store = MemoryStore()
    distributor = DistributorRecord("d1", "d0", T0, [(T0, "distributor"), (T0 + timedelta(1), "leader"),
                                                     (T0 + timedelta(2), "director")], T0 + timedelta(3), 7)
    live = LiveRecord("L1", T0, frozenset({"p1", "p2"}), "host", T0, T0 + timedelta(hours=1))
    watch = WatchRecord("L1", "c1", 2, T0, 30.5, T0 + timedelta(seconds=40), T0 + timedelta(seconds=20),
                         (T0.timestamp(), T0.timestamp() + 30.5))
    progress = TaskProgress("t1", "d1", "L1", 10, T0)
    binding = BindingRecord("c1", "d1", T0, T0 + timedelta(30), "click")
    order = OrderRecord("o1", snapshot(), [(T0, 1, "e2", "order.paid", ()),
                                           (T0 + timedelta(1), 3, "e3", "order.refunded", (("1", Decimal("5")),))],
                        T0, T0 + timedelta(7), True,
                        [TaskCash("task:t::c1", "d1", "t", Decimal("5.00"), "v1", T0 + timedelta(1))], 1, Decimal("95"))
    entries = [LedgerEntry(f"o1:1:{n}:1", "o1", "1", "d1", "commission", n, Decimal("7.49"), "CNY", "pending",
                           Decimal("7.5"), ("direct",), "v1", T0) for n in (1, 2)]
    store.put_distributor(distributor)
    store.put_live(live)
    store.put_watch(watch)
    store.put_task_progress(progress)
    store.put_binding(binding)
    store.put_order(order)
    store.replace_entries("o1", entries)
    gc.collect()  # rows are untracked by the collector: nothing may depend on the objects written
    for written, read in [
        (distributor, store.get_distributor("d1")), (live, store.get_live("L1")), (watch, store.get_watch("L1", "c1")),
        (progress, store.get_task_progress("t1", "d1", "L1")), (binding, store.get_binding("c1")),
        (order, store.get_order("o1")), (entries, store.entries("o1")), (entries, store.entries()),
        ([progress], store.completed_tasks("d1")), ([watch], store.open_watches("L1")),
        ([distributor], list(store.distributors())),
    ]:
        assert read == written
        assert read is not written
    read = store.get_order("o1")
    assert read is not None and read.snapshot == order.snapshot and read.lifecycle == order.lifecycle
    assert store.orders_due(T0 + timedelta(7)) == ["o1"] and store.orders_due(T0 + timedelta(6)) == []


def test_records_read_are_copies() -> None:
    store = MemoryStore()
    store.put_distributor(DistributorRecord("d1", None, T0, [(T0, "distributor")]))
    store.put_order(OrderRecord("o1", snapshot()))
    distributor = store.get_distributor("d1")
    order = store.get_order("o1")
    assert distributor is not None and order is not None
    distributor.ranks.append((T0, "leader"))
    distributor.paying_invitees = 5
    order.lifecycle.append((T0, 1, "e1", "order.paid", ()))
    assert store.get_distributor("d1") == DistributorRecord("d1", None, T0, [(T0, "distributor")])
    assert store.get_order("o1") == OrderRecord("o1", snapshot())


def test_a_snapshot_read_then_written_back_is_kept_and_a_new_one_replaces_it() -> None:
    store = MemoryStore()
    store.put_order(OrderRecord("o1", snapshot("o1")))
    store.put_order(OrderRecord("o2", snapshot("o2")))
    record = store.get_order("o1")
    assert record is not None
    store.put_order(OrderRecord("o2", record.snapshot))  # the snapshot just read, written under another order
    read = store.get_order("o2")
    assert read is not None and read.snapshot == snapshot("o1")
    store.put_order(OrderRecord("o2"))
    assert store.get_order("o2") == OrderRecord("o2")
    record = store.get_order("o1")
    assert record is not None and record.snapshot is not None
    store.put_order(OrderRecord("o1"))
    store.put_order(record)  # the snapshot read before the order was written without one
    assert store.get_order("o1") == OrderRecord("o1", snapshot("o1"))


def test_clicks_come_back_by_time_ties_in_arrival_order_own_clicks_first() -> None:
    store = MemoryStore()
    store.add_click("c1", Click(T0 + timedelta(minutes=2), "d1", "live", "L1"))
    store.add_click("c1", Click(T0, "d2", "product", "p1"))
    store.add_click("v1", Click(T0, "d3", "product", "p1"))
    store.add_click("c1", Click(T0, "d4", "clip", "k1"))
    store.link_identity("v1", "c1")
    assert [c.distributor for c in store.clicks("c1")] == ["d2", "d4", "d3", "d1"]
    assert [c.distributor for c in store.clicks("v1")] == ["d3"]


def test_rows_follow_the_records_fields() -> None:
    """MemoryStore writes some records' rows by hand (store._Rows). When this fails, a record gained or lost a
    field: update its row there, populate the field in the tests above, then the counts here."""
    assert [len(fields(cls)) for cls in (Click, BindingRecord, DistributorRecord, LiveRecord, WatchRecord,
                                         TaskProgress, OrderRecord, OrderSnapshot, PricedLine, Share, Line,
                                         Attribution, LedgerEntry, TaskCash)] == [
        4, 5, 6, 6, 8, 5, 9, 8, 2, 6, 6, 7, 13, 6]


def test_a_stitched_watch_is_the_union_of_both_never_the_sum() -> None:
    """Two ids of one person: what both counted counts once; a silence on one is not filled by the other's
    clock; both clocks running become one."""
    def at(s: float) -> datetime:
        return T0 + timedelta(seconds=s)

    closed = WatchRecord("L1", "c1")  # watched 0-100 and left
    closed.open_count, closed.active_since, closed.last_seen = 1, at(0), at(0)
    closed.seen(at(50), 60)
    closed.close(at(100), 60)
    running = WatchRecord("L1", "v1")  # on since 40, last heartbeat at 150
    running.open_count, running.active_since, running.last_seen = 1, at(40), at(40)
    running.seen(at(90), 60)
    running.seen(at(150), 60)
    closed.absorb(running, at(160), 60)
    assert closed.open_count == 1 and running.seconds == 0
    assert closed.watched_seconds(at(160), 60) == 160  # 0-160: the union, not 100 + 120
    assert closed.watched_seconds(at(400), 60) == 210  # the clock stops 60 s after the last heartbeat

    silent = WatchRecord("L1", "v2")  # on since 0, silent after 10: counted up to 70
    silent.open_count, silent.active_since, silent.last_seen = 1, at(0), at(10)
    fresh = WatchRecord("L1", "c2")  # on since 500
    fresh.open_count, fresh.active_since, fresh.last_seen = 1, at(500), at(500)
    fresh.absorb(silent, at(510), 60)
    assert fresh.watched_seconds(at(510), 60) == 70 + 10  # not 0-510
    assert fresh.open_count == 2 and fresh.watched_seconds(at(600), 60) == 70 + 60


def test_unpaid_snapshots_kept_as_objects_leave_as_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unpaid order's snapshot comes back as the object written; past the limit the oldest is written as its
    row, and a paid order's as well: every one reads back equal, and a distributor's shares are still found."""
    import saleor_livedist.core.store as store_module

    monkeypatch.setattr(store_module, "FRESH_SNAPSHOTS", 2)
    store = MemoryStore()
    written = {f"o{n}": snapshot(f"o{n}") for n in range(5)}
    for order_id, snap in written.items():
        store.put_order(OrderRecord(order_id, snap))
    assert len(store._fresh) == 2 and set(store._snapshots) == {"o0", "o1", "o2"}
    latest = store.get_order("o4")
    assert latest is not None and latest.snapshot is written["o4"]  # handed back, not decoded
    for order_id, snap in written.items():
        read = store.get_order(order_id)
        assert read is not None and read.snapshot == snap
    paid = OrderRecord("o4", written["o4"], [(T0, 1, "e4", "order.paid", ())], T0)
    store.put_order(paid)
    assert "o4" not in store._fresh and "o4" in store._snapshots
    store.put_order(OrderRecord("o3", written["o3"], [(T0, 1, "e3", "order.paid", ())], T0))
    assert store.orders_paying("d0", T0) == ["o3", "o4"]
    gc.collect()
    assert all(store.get_order(o).snapshot == s for o, s in written.items())  # type: ignore[union-attr]
