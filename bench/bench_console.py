"""The console's pages at size: 100,000 orders, 10,000 distributors, their ledger (about 230,000 entries) and an
inbox of about 300,000 events (1,000 failed), written straight into the tables with set-based SQL. Prints
p50/p95 of each page, served through the console's router to a superuser, over repeated requests. Prints
figures; it is not a test.

    python bench/bench_console.py [--orders N] [--distributors N] [--repeat N] [--loop]

With --loop it times the data loop's pages instead, on the data of bench/bench_reports.py at the same sizes
(orders with their snapshots, clicks, watches, bindings: what the reports read), after the first report has
computed the report lines of every order.

Uses DATABASE_URL if set, else the embedded PostgreSQL; creates (and drops first) its own database."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATABASE = "livedist_bench_console"
BASE = "TIMESTAMPTZ '2026-10-01 00:00:00+00'"
LIVES = 50

# %(d)s distributors, %(o)s orders; customer c<i % 60000>; order o<i> of live L<i % 50>.
SETUP = """
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                       date_joined)
SELECT n, '', FALSE, 'd' || n, 'Seller', n::text, 'd' || n || '@example.com', FALSE, TRUE, now()
FROM generate_series(1, %(d)s) n;
SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %(d)s);

INSERT INTO livedist_distributor (id, upline, joined_at, rank, ranks, last_sale_at, paying_invitees)
SELECT 'user:' || n, CASE WHEN n > 8 THEN 'user:' || (n / 8) END, {base} + n * INTERVAL '5 minutes',
       CASE WHEN n %% 10 = 0 THEN 'leader' ELSE 'member' END, '[]', NULL, 0
FROM generate_series(1, %(d)s) n;

INSERT INTO livedist_live_session (id, title, host, channel, scheduled_start, actual_start, actual_end, status,
                                   featured_products, stream_url, created_at)
SELECT 'L' || k, 'Live ' || k, 'host', 'default', {base} + k * INTERVAL '1 day', {base} + k * INTERVAL '1 day',
       {base} + k * INTERVAL '1 day' + INTERVAL '2 hours', 'ended', '["p1", "p2"]', '', now()
FROM generate_series(0, {lives} - 1) k;

INSERT INTO livedist_order (id, customer, snapshot, lifecycle, paid_at, approve_at, has_pending, rewards,
                            board_orders, board_gmv)
SELECT 'o' || i, 'c' || (i %% 60000), NULL,
       jsonb_build_array(jsonb_build_array(
           to_char(({base} + i * INTERVAL '1 minute') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 0,
           'p' || i, 'order.paid', '[]'::jsonb))
       || CASE WHEN i %% 25 = 1 THEN jsonb_build_array(jsonb_build_array(
              to_char(({base} + i * INTERVAL '1 minute' + INTERVAL '2 days') AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 2, 'r' || i, 'order.refunded', '[]'::jsonb)) ELSE '[]' END,
       {base} + i * INTERVAL '1 minute', NULL, FALSE, '[]', 1, 100
FROM generate_series(1, %(o)s) i;

INSERT INTO livedist_ledger_entry (id, "order", line, beneficiary, kind, level, amount, currency, status, percent,
                                   rule_ids, rules_version, at, seq)
SELECT 'o' || i || ':' || n || ':1', 'o' || i, n::text, 'user:' || (1 + (i * 7919) %% %(d)s), 'commission', 1,
       round((50 + (i * 31 + n * 7) %% 450) * 0.10, 2), 'CNY',
       CASE WHEN i %% 3 = 0 THEN 'approved' WHEN i %% 25 = 1 THEN 'reversed' ELSE 'pending' END, 10,
       '["live-featured"]', 'v' || (i %% 20), {base} + i * INTERVAL '1 minute', n
FROM generate_series(1, %(o)s) i, generate_series(1, 1 + i %% 3) n;
INSERT INTO livedist_ledger_entry (id, "order", line, beneficiary, kind, level, amount, currency, status, percent,
                                   rule_ids, rules_version, at, seq)
SELECT e.id || ':2', e."order", e.line, d.upline, 'team', 2, round(e.amount / 5, 2), 'CNY', e.status, 2,
       '["leader-level-2"]', e.rules_version, e.at, e.seq + 10
FROM livedist_ledger_entry e JOIN livedist_distributor d ON d.id = e.beneficiary
WHERE d.upline IS NOT NULL AND substr(e."order", 2)::int %% 3 = 0;

INSERT INTO livedist_inbox (event_id, type, at, payload, received_at, status, attempts, next_attempt_at, error,
                            processed_at)
SELECT kind || i, 'order.' || kind, {base} + i * INTERVAL '1 minute',
       jsonb_build_object('id', kind || i, 'type', 'order.' || kind, 'order', 'o' || i),
       {base} + i * INTERVAL '1 minute', CASE WHEN kind = 'paid' AND i %% 100 = 7 THEN 'failed' ELSE 'done' END,
       CASE WHEN kind = 'paid' AND i %% 100 = 7 THEN 3 ELSE 1 END, NULL,
       CASE WHEN kind = 'paid' AND i %% 100 = 7 THEN 'RuntimeError: database was away' ELSE '' END, now()
FROM generate_series(1, %(o)s) i, (VALUES ('created'), ('paid'), ('fulfilled')) k(kind);

INSERT INTO livedist_rule_version (version, files, first_seen, active, problems)
SELECT 'v' || n, jsonb_build_object('commission.yaml', 'rules:' || chr(10) || '  - id: live-featured' || chr(10)
                                    || '    rate: ' || (5 + n %% 7)),
       {base} + n * INTERVAL '1 day', n = 19, '[]'
FROM generate_series(0, 19) n;

INSERT INTO livedist_live_stat (live, distributor, invited, qualified, orders, gmv, currency)
SELECT 'L' || (n %% {lives}), 'user:' || n, n %% 40, n %% 20, n %% 9, (n %% 9) * 199, 'CNY'
FROM generate_series(1, %(d)s) n;
"""

PAGES = [
    "distributors/", "distributors/?q=d1234", "distributors/?rank=leader&page=20",
    "ledger/", "ledger/?q=d77", "ledger/?order=o5000", "ledger/?status=approved&page=100",
    "events/", "events/?status=all&q=o5000", "rules/", "rules/v19/", "rules/diff?a=v3&b=v19",
    "lives/", "lives/L7/", "tasks/", "coupons/", "reminders/", "questions/",
]

LOOP_PAGES = [
    "loop/", "loop/lives/L7/", "loop/lives/L7/?since=2026-10-08&until=2026-10-08", "loop/lives/L7/?csv=funnel",
    "loop/matrix/", "loop/matrix/?live=L7", "loop/matrix/?csv=matrix", "loop/attribution/",
    "loop/attribution/?live=L7", "loop/products/", "loop/products/?live=L7", "customers/c35/", "orders/o5000/",
    "products/p7/",
]


def setup(orders: int, distributors: int) -> float:
    from django.db import connection

    sql = SETUP.format(base=BASE, lives=LIVES) % {"d": distributors, "o": orders}
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in [s for s in sql.split(";\n") if s.strip()]:
            cursor.execute(statement)
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def loop_setup(orders: int, distributors: int) -> float:
    """bench_reports.py's data (60,000 customers), and the first report's computing of every order's report
    lines, so that the pages are timed as they run afterwards (that one-off cost is in docs/performance.md)."""
    from bench_reports import setup as reports_setup  # bench/ is on the path when this script runs
    from django.db import connection

    from saleor_livedist.reports.facts import refresh

    start = time.perf_counter()
    built = reports_setup(orders, distributors, 60_000)
    refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), (SELECT max(id) FROM auth_user))")
        cursor.execute("VACUUM ANALYZE")
    print(f"data loop: written in {built:.1f} s, with every order's report lines in "
          f"{time.perf_counter() - start:.1f} s")
    return time.perf_counter() - start


def timed(path: str, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 in ms over `repeat` requests after one warm-up; and the answer's size in bytes."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from saleor_livedist.console.access import sandbox_staff
    from saleor_livedist.console.views import handle

    boss = get_user_model().objects.get(username="bench-boss")
    subpath, _, query = path.partition("?")

    def call() -> int:
        request = RequestFactory().get("/console/" + subpath, dict(p.split("=") for p in query.split("&") if p))
        request.user = boss
        response = handle(request, subpath, sandbox_staff)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.content)

    size = call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.95))], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--distributors", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--loop", action="store_true", help="the data loop's pages, on bench_reports.py's data")
    args = parser.parse_args()
    from saleor_livedist.sandbox.demo import setup_django

    setup_django(DATABASE + ("_loop" if args.loop else ""))
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from saleor_livedist.models import InboxEvent, LedgerEntry

    call_command("migrate", verbosity=0)
    built = loop_setup(args.orders, args.distributors) if args.loop else setup(args.orders, args.distributors)
    get_user_model().objects.create_superuser("bench-boss", "boss@example.com", "x")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}")
    print(f"data: {args.orders:,} orders, {args.distributors:,} distributors, {LedgerEntry.objects.count():,} "
          f"ledger entries, {InboxEvent.objects.count():,} inbox events; written in {built:.1f} s")
    print(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
    for path in LOOP_PAGES if args.loop else PAGES:
        p50, p95, size = timed(path, args.repeat)
        print(f"{path:45} {p50:8.1f} {p95:8.1f} {size:8,}", flush=True)


if __name__ == "__main__":
    main()
