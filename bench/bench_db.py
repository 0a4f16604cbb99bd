"""Paid orders per second through the database path (inbox -> processing on PostgreSQL), one process,
default rules, a 3-level network; and the ratio to the in-memory engine on the same stream.

    python bench/bench_db.py [--orders N] [--batch N] [--database NAME]

Uses DATABASE_URL's server if set, else the embedded PostgreSQL (pgserver). Creates (dropping it first) its
own database, `livedist_bench` unless --database names another. Besides the rate it prints what does not
depend on the machine's load: statement executions per paid order (a statement sent with executemany counts
once per row) and rows written per paid order (rowcount of INSERT, UPDATE and DELETE), while the orders are
processed.
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
    parser.add_argument("--database", default="livedist_bench")
    args = parser.parse_args()
    load_before = os.getloadavg()

    from saleor_livedist.sandbox.demo import setup_django

    setup_django(args.database)
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
    counts = Counts()
    from saleor_livedist.db import rows as db_rows

    copy = getattr(db_rows, "_copy", None)
    if copy is not None:  # COPY does not pass Django's execute wrappers: counted here, one statement each
        def counted_copy(stage, columns, rows):  # noqa: ANN001, ANN202
            counts.executions += 1
            counts.statements += 1
            counts.by_kind["COPY (staging)"] = counts.by_kind.get("COPY (staging)", 0) + 1
            return copy(stage, columns, rows)

        db_rows._copy = counted_copy
    with connection.execute_wrapper(counts):
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
    print(f"per paid order: {counts.executions / args.orders:.2f} statement executions "
          f"({counts.statements / args.orders:.3f} statements sent), {counts.rows / args.orders:.2f} rows written")
    print("statements by kind and table: " + ", ".join(
        f"{kind} {count}" for kind, count in sorted(counts.by_kind.items(), key=lambda kv: -kv[1])))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    connection.close()
    del StaticRules


class Counts:
    """A Django execute wrapper counting executions, statements and rows written."""

    def __init__(self) -> None:
        self.executions = self.statements = self.rows = 0
        self.by_kind: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        result = execute(sql, params, many, context)
        runs = len(params) if many else 1
        self.executions += runs
        self.statements += 1
        words = sql.split()
        verb = words[0].upper()
        if verb == "WITH":  # the set-based upsert: WITH staged AS (DELETE ...) INSERT INTO ...
            verb = "INSERT"
            words = words[words.index("INSERT"):]
        if verb == "SELECT" and "FROM" in words:
            words = words[words.index("FROM"):]
        table = next((w.strip('"').split('"')[0] for w in words[1:4] if w.strip('"').startswith("livedist_")), "")
        key = f"{verb} {table}".strip()
        self.by_kind[key] = self.by_kind.get(key, 0) + runs
        if verb in ("INSERT", "UPDATE", "DELETE"):
            self.rows += max(0, context["cursor"].rowcount)
        return result


if __name__ == "__main__":
    main()
