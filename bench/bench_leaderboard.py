"""The live leaderboard query under load: p50/p99 of `leaderboard(live)` with 1,000 distributors in the live and
100,000 ledger rows in the database. Prints figures; run `python bench/bench_leaderboard.py`.

Uses DATABASE_URL if set, else the embedded PostgreSQL; creates and drops its own database."""
from __future__ import annotations

import os
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from saleor_livedist.sandbox.demo import setup_django

    setup_django("livedist_bench_board")
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from saleor_livedist.graphql.live import leaderboard
    from saleor_livedist.models import LedgerEntry, LiveStat

    from django.contrib.auth import get_user_model

    get_user_model().objects.bulk_create([
        get_user_model()(id=n, username=f"u{n}", email=f"seller{n}@example.com") for n in range(20_000)
    ], batch_size=5000)
    rng = random.Random(5)
    now = timezone.now()
    LiveStat.objects.bulk_create([
        LiveStat(live=f"L{n % 20}", distributor=f"user:{n}", invited=rng.randrange(500), qualified=rng.randrange(300),
                 orders=rng.randrange(200), gmv=Decimal(rng.randrange(10**7)) / 100, currency="CNY")
        for n in range(20_000)  # 20 lives x 1,000 distributors
    ], batch_size=5000)
    LedgerEntry.objects.bulk_create([
        LedgerEntry(id=f"o{n}:1:1:1", order=f"o{n}", line="1", beneficiary=f"d{n % 20_000}", kind="commission",
                    level=1, amount=Decimal("5.00"), currency="CNY", status="pending", percent=Decimal(5),
                    rule_ids=["direct"], rules_version="v", at=now)
        for n in range(100_000)
    ], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    timings = {}
    for by in ("gmv", "orders", "invited"):
        samples = []
        for n in range(1000):
            start = time.perf_counter()
            rows = leaderboard(f"L{n % 20}", by, 20)
            samples.append(time.perf_counter() - start)
            assert len(rows) == 20
        samples.sort()
        timings[by] = (samples[500] * 1000, samples[989] * 1000)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}")
    print("leaderboard of one live (top 20 of 1,000 distributors; 20 lives; 100,000 ledger rows), "
          "1,000 queries each, the 20 masked names loaded from the accounts table:")
    for by, (p50, p99) in timings.items():
        print(f"  by {by:<8} p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    connection.close()


if __name__ == "__main__":
    main()
