"""Paid orders per second through the database path (inbox -> processing on PostgreSQL), one process,
default rules, a 3-level network; and the ratio to the in-memory engine on the same stream.

    python bench/bench_db.py [--orders N] [--batch N]

Uses DATABASE_URL if set, else the embedded PostgreSQL (pgserver). Creates and drops its own database.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def stream(orders: int) -> list[dict]:
    """alice <- bob <- carol <- 50 distributors (3 levels with a leader upline), customers bound by clicks,
    each order created and paid."""
    from tests.builders import at

    events: list[dict] = []

    def add(etype: str, minute: float, **fields: object) -> None:
        events.append({"id": f"b{len(events)}", "type": etype, "at": at(minute), **fields})

    add("distributor.joined", -1000, customer="alice")
    for n, (who, up) in enumerate([("bob", "alice"), ("carol", "bob")]):
        add("link.clicked", -990 + n, distributor=up, visitor=who, target={"product": "p"})
        add("distributor.joined", -980 + n, customer=who)
    sellers = [f"s{n}" for n in range(50)]
    for n, who in enumerate(sellers):
        add("link.clicked", -900 + n / 10, distributor="carol", visitor=who, target={"product": "p"})
        add("distributor.joined", -899 + n / 10, customer=who)
    for n in range(2):  # carol's two paying invitees make her a leader: team commission is paid
        add("link.clicked", -800, distributor="bob", visitor=f"lead{n}", target={"product": "p"})
        add("order.created", -799, order=f"lead{n}", customer=f"lead{n}", channel="default", currency="CNY",
            lines=[{"line": "1", "product": "p", "amount": "10.00"}])
        add("order.paid", -798, order=f"lead{n}")
        add("link.clicked", -700, distributor="carol", visitor=f"lc{n}", target={"product": "p"})
        add("order.created", -699, order=f"lc{n}", customer=f"lc{n}", channel="default", currency="CNY",
            lines=[{"line": "1", "product": "p", "amount": "10.00"}])
        add("order.paid", -698, order=f"lc{n}")
    setup = len(events)
    for n in range(orders):
        customer = f"c{n}"
        minute = n / 100
        add("link.clicked", minute, distributor=sellers[n % len(sellers)], visitor=customer, target={"product": "p"})
        add("order.created", minute, order=f"o{n}", customer=customer, channel="default", currency="CNY",
            lines=[{"line": "1", "product": f"p{n % 7}", "amount": "120.00"},
                   {"line": "2", "product": "p-x", "amount": "35.50"}])
        add("order.paid", minute + 0.001, order=f"o{n}")
    return events[:setup], events[setup:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    from saleor_livedist.sandbox.demo import setup_django

    setup_django("livedist_bench")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from saleor_livedist.inbox import processing
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.models import LedgerEntry
    from saleor_livedist.rules.provider import StaticRules
    from tests.builders import default_rules, run

    setup, orders = stream(args.orders)
    for event in setup:
        processing.submit(event, process=False)
    processing.process_pending()
    for event in orders:
        processing.submit(event, process=False)
    start = time.perf_counter()
    processing.process_pending(limit=args.batch)
    db_seconds = time.perf_counter() - start
    levels = sorted(set(LedgerEntry.objects.filter(order__startswith="o").values_list("level", flat=True)))
    entries = LedgerEntry.objects.filter(order__startswith="o").count()

    parsed = [parse_event(e) for e in setup + orders]
    engine = run(parsed[: len(setup)], "python", default_rules())
    start = time.perf_counter()
    for event in parsed[len(setup):]:
        engine.process(event)
    memory_seconds = time.perf_counter() - start
    memory_entries = len([e for e in engine.store.entries() if e.order.startswith("o")])
    assert entries == memory_entries, (entries, memory_entries)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server} ({'DATABASE_URL' if os.environ.get('DATABASE_URL', '').find('livedist_bench') < 0 else 'embedded/URL'})")
    print(f"stream: {args.orders} paid orders (order.created + order.paid + a click each), 2 lines, "
          f"levels paid {levels}, {entries} ledger entries")
    print(f"database path (inbox -> processing, batches of {args.batch}, rule backend "
          f"{processing.rules_source().current().matcher.name}): {args.orders / db_seconds:,.0f} paid orders/s "
          f"({db_seconds:.2f} s)")
    print(f"in-memory engine, same stream: {args.orders / memory_seconds:,.0f} paid orders/s "
          f"({memory_seconds:.2f} s); database/memory = {memory_seconds / db_seconds:.2f}")
    connection.close()
    del StaticRules


if __name__ == "__main__":
    main()
