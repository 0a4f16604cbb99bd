"""The Store protocol's conformance tests, run against MemoryStore and DbStore on real PostgreSQL.

For the database store every check is made twice: through the unit of work that wrote it, and through a
fresh store after a flush (so what is read back from PostgreSQL equals what was written)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from saleor_livedist.core.events import Line
from saleor_livedist.core.records import (
    Attribution, BanMark, BindingRecord, Click, DistributorRecord, LedgerEntry, LiveRecord, OrderRecord, OrderSnapshot,
    PaidOrder, PointsGrant, PricedLine, ReplayRecord, Share, TaskCash, TaskProgress, WatchRecord,
)
from saleor_livedist.core.store import MemoryStore
from saleor_livedist.db.store import DbStore
from tests.builders import T0

Reopen = Callable[[], object]
pytestmark = pytest.mark.django_db


@pytest.fixture(params=["memory", "postgres"])
def stores(request: pytest.FixtureRequest) -> Iterator[tuple[object, Reopen]]:
    """(store, reopen): reopen() returns a store that sees what was written (a fresh one, for PostgreSQL)."""
    if request.param == "memory":
        store = MemoryStore()
        yield store, lambda: store
        return
    store = DbStore()

    def reopen() -> DbStore:
        store.flush()
        return DbStore()

    yield store, reopen


def both(store: object, reopen: Reopen) -> list[object]:
    return [store, reopen()]


def test_processed_ids(stores) -> None:
    store, reopen = stores
    assert store.mark_processed("e1") is True
    assert store.mark_processed("e1") is False
    assert reopen().mark_processed("e1") is False


def test_identities_and_clicks(stores) -> None:
    store, reopen = stores
    store.add_click("vis", Click(T0 + timedelta(minutes=5), "d2", "live", "L1"))
    store.add_click("cust", Click(T0, "d1", "product", "p1"))
    store.link_identity("vis", "cust")
    for s in both(store, reopen):
        assert s.resolve("vis") == "cust" and s.resolve("cust") == "cust" and s.resolve("other") == "other"
        assert [c.distributor for c in s.clicks("cust")] == ["d1", "d2"]  # the visitor's clicks follow, by time
        assert s.clicks("nobody") == []


def test_bindings(stores) -> None:
    store, reopen = stores
    binding = BindingRecord("cust", "d1", T0, T0 + timedelta(days=30), "click")
    store.put_binding(binding)
    store.put_binding(BindingRecord("gone", "d1", T0, None, "click"))
    store.drop_binding("gone")
    for s in both(store, reopen):
        assert s.get_binding("cust") == binding
        assert s.get_binding("gone") is None and s.get_binding("never") is None


def test_distributors_are_copies(stores) -> None:
    store, reopen = stores
    record = DistributorRecord("d1", "d0", T0, [(T0, "distributor")], last_sale_at=T0, paying_invitees=1)
    store.put_distributor(record)
    got = store.get_distributor("d1")
    got.ranks.append((T0, "leader"))  # changing what was read changes nothing until it is written
    got.paying_invitees = 9
    for s in both(store, reopen):
        assert s.get_distributor("d1") == record
        assert [d.id for d in s.distributors()] == ["d1"]
        assert s.get_distributor("zz") is None


def test_lives_replays_and_watches(stores) -> None:
    store, reopen = stores
    live = LiveRecord("L1", starts_at=T0, products=frozenset({"p1", "p2"}), host="h", started_at=T0)
    store.put_live(live)
    replay = ReplayRecord("R1", "L1", T0 + timedelta(hours=2), None)
    store.put_replay(replay)
    open_watch = WatchRecord("L1", "v1", open_count=2, active_since=T0, seconds=12.5, last_seen=T0 + timedelta(seconds=30),
                             until=T0 + timedelta(seconds=20), spans=(T0.timestamp(), T0.timestamp() + 12.5))
    store.put_watch(open_watch)
    store.put_watch(WatchRecord("L1", "v2", open_count=0, seconds=60.0))
    store.put_watch(WatchRecord("L2", "v1", open_count=0, seconds=1.0))
    for s in both(store, reopen):
        assert s.get_live("L1") == live and s.get_live("nope") is None
        assert s.get_replay("R1") == replay
        assert s.get_watch("L1", "v1") == open_watch
        assert s.open_watches("L1") == [open_watch]
        assert s.lives_watched("v1") == ["L1", "L2"]


def test_tasks_and_sets(stores) -> None:
    store, reopen = stores
    progress = TaskProgress("t", "d1", "L1", qualified=3)
    store.put_task_progress(progress)
    assert store.completed_tasks("d1") == []
    done = TaskProgress("t", "d1", "L1", qualified=10, completed_at=T0)
    store.put_task_progress(done)
    assert store.add_qualified("t", "L1", "v1") is True
    assert store.add_qualified("t", "L1", "v1") is False
    assert store.paying_order("c1") is None
    store.put_paying_order("c1", PaidOrder("o1", T0, None))
    store.put_paying_order("c1", PaidOrder("o2", T0 + timedelta(hours=1), "L1"))
    for s in both(store, reopen):
        assert s.get_task_progress("t", "d1", "L1") == done
        assert s.completed_tasks("d1") == [done]
        assert s.add_qualified("t", "L1", "v1") is False
        assert s.qualifications("v1") == [("t", "L1")] and s.qualifications("v2") == []
        assert s.paying_order("c1") == PaidOrder("o2", T0 + timedelta(hours=1), "L1") and s.paying_order("c2") is None


def _snapshot() -> OrderSnapshot:
    line = Line("1", "p1", "cat", ("s1",), 2, Decimal("10.50"))
    share = Share(1, "d1", Decimal("12.5"), ("direct", "bonus"), (("act", (("per", Decimal("1")), ("n", 2))),))
    attribution = Attribution("d1", "d1", ("d0",), ("L1",), "live", "L1", "bound")
    return OrderSnapshot("o1", "c1", "default", "CNY", T0, (PricedLine(line, (share,)),), attribution, "v1")


def test_orders_and_entries(stores) -> None:
    store, reopen = stores
    lifecycle = [(T0, 1, "e2", "order.paid", ()), (T0, 3, "e3", "order.refunded", (("1", Decimal("1.00")),))]
    rewards = [TaskCash("task:buyers::c1", "d1", "buyers", Decimal("5.00"), "v1", T0 + timedelta(minutes=1))]
    order = OrderRecord("o1", snapshot=_snapshot(), lifecycle=lifecycle, paid_at=T0,
                        approve_at=T0 + timedelta(days=7), has_pending=True, rewards=rewards, board_orders=1,
                        board_gmv=Decimal("11.5"))
    store.put_order(order)
    store.put_order(OrderRecord("o2", lifecycle=[(T0, 1, "e9", "order.paid", ())]))
    entry = LedgerEntry("o1:1:1:1", "o1", "1", "d1", "commission", 1, Decimal("1.31"), "CNY", "pending",
                        Decimal("12.5"), ("direct",), "v1", T0)
    store.replace_entries("o1", [entry])
    for s in both(store, reopen):
        assert s.get_order("o1") == order
        assert s.get_order("o2").snapshot is None
        assert s.entries("o1") == [entry] and s.entries() == [entry] and s.entries("o2") == []
        assert s.orders_due(T0 + timedelta(days=7)) == ["o1"] and s.orders_due(T0) == []
        assert sorted(s.order_ids()) == ["o1", "o2"]
    writer = reopen()
    writer.replace_entries("o1", [])
    if isinstance(writer, DbStore):
        writer.flush()
    assert reopen().entries() == []


def test_ban_marks(stores) -> None:
    store, reopen = stores
    assert store.ban_marks() == {}
    later = BanMark("d1", T0 + timedelta(hours=2), "ban:2", True, "again")
    store.add_ban_mark(later)
    store.add_ban_mark(BanMark("d1", T0, "ban:1", True, "spam"))  # older, arriving later: kept by time
    store.add_ban_mark(BanMark("d1", T0 + timedelta(hours=1), "unban:1", False))
    store.add_ban_mark(BanMark("d1", T0, "ban:1", True, "spam"))  # the same event again: kept once
    store.add_ban_mark(BanMark("d2", T0, "ban:3", True, "fake"))
    for s in both(store, reopen):
        assert s.ban_marks() == {
            "d1": (BanMark("d1", T0, "ban:1", True, "spam"), BanMark("d1", T0 + timedelta(hours=1), "unban:1", False),
                   later),
            "d2": (BanMark("d2", T0, "ban:3", True, "fake"),),
        }
    again = reopen()
    again.add_ban_mark(later)  # known from the database: not written twice
    if isinstance(again, DbStore):
        again.flush()
    assert [m.event for m in reopen().ban_marks()["d1"]] == ["ban:1", "unban:1", "ban:2"]


def test_orders_paying_a_distributor(stores) -> None:
    store, reopen = stores
    paid = [(T0, 1, "e2", "order.paid", ())]
    store.put_order(OrderRecord("o1", snapshot=_snapshot(), lifecycle=paid, paid_at=T0))  # d1 has a share
    store.put_order(OrderRecord("o2", snapshot=_snapshot(), lifecycle=[], paid_at=None))  # not paid
    rewarded = OrderRecord("o3", snapshot=OrderSnapshot("o3", "c2", "default", "CNY", T0, (), _snapshot().attribution,
                                                        "v1"), lifecycle=paid, paid_at=T0 - timedelta(days=1),
                           rewards=[TaskCash("task:buyers::c2", "d9", "buyers", Decimal("5.00"), "v1", T0)])
    store.put_order(rewarded)  # no share of d9's, but their task cash
    for s in both(store, reopen):
        assert s.orders_paying("d1", T0) == ["o1"]
        assert s.orders_paying("d1", T0 + timedelta(seconds=1)) == []  # paid before
        assert s.orders_paying("d0", T0) == []  # an assist, not a share
        assert s.orders_paying("c1", T0) == []  # the customer
        assert s.orders_paying("d9", T0 + timedelta(days=9)) == ["o3"]


def test_points(stores) -> None:
    store, reopen = stores
    grant = PointsGrant("k1", "d1", 5, "task t", ("t",), "v1", T0, live="L1", invitee="v9")
    assert store.add_points(grant) is True
    assert store.add_points(grant) is False
    for s in both(store, reopen):
        assert s.points() == [grant]
        assert s.add_points(grant) is False
        assert s.get_points("k1") == grant and s.get_points("k2") is None


def test_live_leaderboard_counters(stores) -> None:
    store, reopen = stores
    assert store.add_live_invitation("L1", "d1", "v1") is True
    assert store.add_live_invitation("L1", "d1", "v1") is False
    assert store.add_live_invitation("L1", "d2", "v1") is True  # another distributor's invitation
    assert store.add_live_qualified("L1", "v1") is True and store.add_live_qualified("L1", "v1") is False
    store.bump_live_stat("L1", "d1", invited=2)
    store.bump_live_stat("L1", "d1", qualified=1, orders=1, gmv=Decimal("10.50"), currency="CNY")
    store.bump_live_stat("L2", "d1", invited=1)
    for s in both(store, reopen):
        [stat] = s.live_stats("L1")
        assert (stat.distributor, stat.invited, stat.qualified, stat.orders, stat.gmv, stat.currency) == (
            "d1", 2, 1, 1, Decimal("10.50"), "CNY")
        assert s.add_live_invitation("L1", "d1", "v1") is False
        assert s.invitations("v1") == [("L1", "d1"), ("L1", "d2")] and s.invitations("v2") == []
        assert s.is_live_qualified("L1", "v1") and not s.is_live_qualified("L1", "v2")
    writer = reopen()
    writer.bump_live_stat("L1", "d1", orders=1, gmv=Decimal("1.00"), currency="CNY")
    if isinstance(writer, DbStore):
        writer.flush()
    assert reopen().live_stats("L1")[0].gmv == Decimal("11.50")  # increments, not overwrites
    writer = reopen()
    writer.bump_live_stat("L1", "d1", invited=-1, qualified=-1)  # the same person counted twice, taken back
    if isinstance(writer, DbStore):
        writer.flush()
    [stat] = reopen().live_stats("L1")
    assert (stat.invited, stat.qualified) == (1, 0)


def test_a_task_completed_before_its_distributor_is_loaded_is_seen_when_it_is(stores) -> None:
    """The order of a busy live: the tenth invitee qualifies (the distributor's record not read yet), then an
    order in the same unit of work loads the distributor and asks for their completed tasks."""
    store, reopen = stores
    store.put_distributor(DistributorRecord(id="d9", upline=None, joined_at=T0, ranks=[(T0, "distributor")]))
    later = reopen()  # the next unit of work
    done = TaskProgress("t", "d9", "L1", qualified=10, completed_at=T0)
    later.put_task_progress(done)
    assert later.get_distributor("d9") is not None
    assert later.completed_tasks("d9") == [done]
