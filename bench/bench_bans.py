"""What a ban costs the database path: the inbox transaction of a distributor.banned event processed in order
(no payment dated after it yet), of one processed late (dated before every order of the stream, so every order
that pays the distributor is recomputed), and the read of the ban marks every batch makes.

    python bench/bench_bans.py [--orders N] [--database NAME]

Uses DATABASE_URL's server if set, else the embedded PostgreSQL (pgserver), with its own database (dropped and
made again). The stream is bench_db.py's: alice <- bob <- carol (a leader) <- 50 sellers, so carol is paid level 2
on every order.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--database", default="livedist_bench_bans")
    args = parser.parse_args()

    from saleor_livedist.sandbox.demo import setup_django

    setup_django(args.database)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection, transaction

    from bench.bench_db import stream
    from saleor_livedist.db.store import DbStore
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import BanMark, LedgerEntry
    from tests.builders import at

    setup, orders = stream(args.orders)
    for event in setup + orders:
        processing.submit(event, process=False)
    processing.process_pending()
    carol_before = LedgerEntry.objects.filter(beneficiary="carol", order__startswith="o").count()

    def timed(event: dict) -> float:
        processing.submit(event, process=False)
        start = time.perf_counter()
        processing.process_pending()
        return time.perf_counter() - start

    base = {"distributor": "carol", "reason": "bench"}
    in_order = timed({"id": "ban-now", "type": "distributor.banned", "at": at(args.orders), **base})
    unban = timed({"id": "unban-now", "type": "distributor.unbanned", "at": at(args.orders + 1), "distributor": "carol"})
    late = timed({"id": "ban-late", "type": "distributor.banned", "at": at(-1), **base})
    carol_after = LedgerEntry.objects.filter(beneficiary="carol", order__startswith="o").count()
    assert carol_before >= 2 * args.orders and carol_after == 0, (carol_before, carol_after)
    late_unban = timed({"id": "unban-late", "type": "distributor.unbanned", "at": at(-0.5), "distributor": "carol"})
    assert LedgerEntry.objects.filter(beneficiary="carol", order__startswith="o").count() == carol_before

    reads = 200
    with transaction.atomic():
        start = time.perf_counter()
        for _ in range(reads):
            DbStore().ban_marks()
        read_ms = (time.perf_counter() - start) / reads * 1000

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}; load average {os.getloadavg()[0]:.2f}")
    print(f"stream: {args.orders:,} paid orders, carol paid level 2 on each ({carol_before:,} entries of hers)")
    print(f"ban processed in order (nothing paid after it): {in_order * 1000:,.0f} ms; its unban {unban * 1000:,.0f} ms")
    print(f"ban processed late, dated before every order: {late * 1000:,.0f} ms ({args.orders:,} orders recomputed, "
          f"{args.orders / late:,.0f} orders/s); the unban after it, late too: {late_unban * 1000:,.0f} ms")
    print(f"reading the ban marks ({BanMark.objects.count()} rows), once per batch: {read_ms:.2f} ms")
    connection.close()


if __name__ == "__main__":
    main()
