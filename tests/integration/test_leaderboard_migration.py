"""Migration 0014 on real PostgreSQL: leaderboard rows counted before it (every paid order's full amount, for
good) are corrected for the refunds and cancellations already processed, and each order remembers what it
counts for, so the engine's later refunds subtract from the right standing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from saleor_livedist.inbox import processing
from saleor_livedist.core.events import parse_event
from saleor_livedist.db.store import DbStore
from saleor_livedist.rules.provider import StaticRules
from tests.builders import T0, default_rules

APP = "saleor_livedist"
BEFORE, AFTER = [(APP, "0013_task_cash")], [(APP, "0014_leaderboard_kept_amounts")]


def snapshot(order: str, live: str | None, context: str, seller: str | None) -> dict:
    return {
        "id": order, "customer": "c", "channel": "default", "currency": "CNY", "at": T0.isoformat(),
        "rules_version": "v", "attribution": {"paid_to": seller, "last_click": seller, "assists": [],
                                              "lives_watched": [], "context": context, "live": live, "reason": ""},
        "lines": [{"line": "1", "product": "p", "category": "c", "collections": [], "quantity": 1, "amount": "100.00",
                   "shares": []},
                  {"line": "2", "product": "q", "category": "c", "collections": [], "quantity": 1, "amount": "50.00",
                   "shares": []}],
    }


def event(etype: str, minute: int, refunds: list | None = None) -> list:
    return [(T0 + timedelta(minutes=minute)).isoformat(), 1, f"{etype}{minute}", etype, refunds or []]


@pytest.mark.django_db(transaction=True)
def test_the_migration_corrects_counted_gmv_and_later_refunds_subtract_from_it() -> None:
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes(APP)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        order, stat = old.get_model(APP, "Order"), old.get_model(APP, "LiveStat")
        paid = event("order.paid", 1)
        for order_id, lifecycle in (
            ("kept", [paid]),
            ("partly", [paid, event("order.refunded", 5, [["1", "30.00"]]),
                        event("order.refunded", 6, [["1", "30.00"]])]),
            ("cancelled", [paid, event("order.cancelled", 5)]),
            ("all-refunded", [paid, event("order.refunded", 5)]),  # no lines: all of it
        ):
            order.objects.create(id=order_id, customer="c", snapshot=snapshot(order_id, "L1", "live", "bob"),
                                 lifecycle=lifecycle, paid_at=T0)
        order.objects.create(id="replay", customer="c", snapshot=snapshot("replay", "L1", "replay", "bob"),
                             lifecycle=[paid, event("order.cancelled", 5)], paid_at=T0)  # never counted
        stat.objects.create(live="L1", distributor="bob", invited=7, orders=4, gmv=Decimal("600.00"), currency="CNY")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        row = new.get_model(APP, "LiveStat").objects.get(live="L1", distributor="bob")
        assert (row.invited, row.orders, row.gmv) == (7, 2, Decimal("150.00") + Decimal("90.00"))
        standing = {o.id: (o.board_orders, o.board_gmv) for o in new.get_model(APP, "Order").objects.all()}
        assert standing == {"kept": (1, Decimal("150")), "partly": (1, Decimal("90")), "cancelled": (0, 0),
                            "all-refunded": (0, 0), "replay": (0, 0)}

        executor = MigrationExecutor(connection)
        executor.migrate(leaf)
        refund = parse_event({"id": "r-late", "type": "order.refunded", "at": (T0 + timedelta(days=1)).isoformat(),
                              "order": "kept", "lines": [{"line": "2", "amount": "50.00"}]})
        with transaction.atomic():
            processing.apply([refund], source=StaticRules(default_rules(), "python"))
        [after] = DbStore().live_stats("L1")
        assert (after.orders, after.gmv) == (2, Decimal("100.00") + Decimal("90.00"))  # 50.00 off "kept" only
    finally:
        MigrationExecutor(connection).migrate(leaf)
