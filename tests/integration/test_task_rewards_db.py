"""Task cash and `ordered` invitees through the database path (real PostgreSQL): the same ledger as in memory,
settled from the database, and the migration that keeps each paying customer's latest paid order."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from saleor_livedist.inbox import processing
from saleor_livedist.db.store import DbStore
from saleor_livedist.rules.provider import StaticRules
from tests.builders import T0, ledger, run
from tests.core.test_task_rewards import network, rules

pytestmark = pytest.mark.django_db


def stream():
    s = network()
    s.add("replay.published", 130, live="L1", replay="R1", until=(T0 + timedelta(days=7)).isoformat())
    for n in range(1, 5):
        s.click("bob", f"c{n}", minute=-30, **({"replay": "R1"} if n == 4 else {"product": "p-plain"}))
        s.order(f"o{n}", f"c{n}", minute=10 * n + (130 if n == 4 else 0))
        s.add("order.fulfilled", 0, day=1, order=f"o{n}")
    s.add("order.cancelled", 0, day=2, order="o2")
    s.add("order.refunded", 0, day=10, order="o3", lines=[{"line": "1", "amount": "100.00"}])
    return s


def test_task_cash_through_the_database_equals_memory_and_settles() -> None:
    s = stream()
    events = s.events()
    source = StaticRules(rules(), "python")
    with transaction.atomic():
        for start in range(0, len(events), 3):  # units of work of 3 events: rewards written back and read again
            processing.apply(events[start:start + 3], source=source)
    store = DbStore()
    assert [(e.order, e.kind, e.amount, e.status) for e in store.entries() if not e.line] == [
        ("o1", "task_cash", Decimal("5.00"), "pending"), ("o2", "task_cash", Decimal("5.00"), "reversed"),
        ("o3", "task_cash", Decimal("5.00"), "approved"), ("o3", "clawback", Decimal("-5.00"), "approved"),
        ("o3", "task_cash", Decimal("20.00"), "approved"), ("o3", "clawback", Decimal("-20.00"), "approved"),
        ("o4", "task_cash", Decimal("5.00"), "pending")]  # o3 was approved on day 8, refunded on day 10
    now = T0 + timedelta(days=9)
    with transaction.atomic():
        processing.apply([], now=now, source=source)
    memory = run(s, "python", rules(), now=now)
    db = sorted((e.id, e.beneficiary, e.kind, e.level, e.amount, e.currency, e.status, e.percent, e.rule_ids,
                 e.rules_version) for e in DbStore().entries())
    assert db == ledger(memory)
    assert ("o1:task:1:1", "approved") in {(e[0], e[6]) for e in db}  # settled from the database


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_paying_customers_latest_paid_order() -> None:
    app = "saleor_livedist"
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes(app)
    before = [(app, "0012_watch_spans")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        order_model, paying_model = old.get_model(app, "Order"), old.get_model(app, "PayingCustomer")
        for order_id, minute, paid, live in (("a", 0, True, "L1"), ("b", 30, True, None), ("c", 60, False, None)):
            at = (T0 + timedelta(minutes=minute)).isoformat()
            order_model.objects.create(id=order_id, customer="c1", paid_at=T0 if paid else None,
                                       snapshot={"at": at, "attribution": {"live": live}}, lifecycle=[])
        paying_model.objects.create(customer="c1")
        executor = MigrationExecutor(connection)
        executor.migrate([(app, "0013_task_cash")])
        new = executor.loader.project_state([(app, "0013_task_cash")]).apps
        row = new.get_model(app, "PayingCustomer").objects.get(customer="c1")
        assert (row.order, row.order_at, row.live) == ("b", T0 + timedelta(minutes=30), None)  # c is not paid
        assert new.get_model(app, "Order").objects.get(id="a").rewards == []
    finally:
        MigrationExecutor(connection).migrate(leaf)
