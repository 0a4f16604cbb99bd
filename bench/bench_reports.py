"""The reports (saleor_livedist/reports) at size: 100,000 orders, 10,000 distributors, 60,000 customers, 50 lives,
180,000 clicks, about 60,000 watch rows, written straight into the tables with set-based SQL (seconds, not the
engine's path). Prints how long the first report takes to compute the report lines of every order, then p50/p95
of each report over repeated runs. Prints figures; it is not a test.

    python bench/bench_reports.py [--orders N] [--distributors N] [--repeat N]

Uses DATABASE_URL if set, else the embedded PostgreSQL; creates (and drops first) its own database."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATABASE = "livedist_bench_reports"
BASE = "TIMESTAMPTZ '2026-10-01 00:00:00+00'"
LIVES = 50
PRODUCTS = 200

# %(d)s distributors, %(c)s customers, %(o)s orders. Live k starts on day k at 12:00 UTC and lasts 2 hours,
# featuring 20 of the first half of the products (the other half is never featured).
SETUP = """
SELECT setseed(0.42);
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                       date_joined)
SELECT n, '', FALSE, 'd' || n, 'Seller', n::text, 'd' || n || '@example.com', FALSE, TRUE, now()
FROM generate_series(1, %(d)s) n;

INSERT INTO livedist_distributor (id, upline, joined_at, rank, ranks, last_sale_at, paying_invitees)
SELECT 'user:' || n, CASE WHEN n > 8 THEN 'user:' || (n / 8) END, {base} + n * INTERVAL '5 minutes', 'member',
       '[]', NULL, 0
FROM generate_series(1, %(d)s) n;

INSERT INTO livedist_live (id, starts_at, products, host, started_at, ended_at)
SELECT 'L' || k, {base} + k * INTERVAL '1 day' + INTERVAL '12 hours',
       (SELECT jsonb_agg('p' || ((k * 7 + j) %% ({products} / 2))) FROM generate_series(0, 19) j), 'host',
       {base} + k * INTERVAL '1 day' + INTERVAL '12 hours', {base} + k * INTERVAL '1 day' + INTERVAL '14 hours'
FROM generate_series(0, {lives} - 1) k;

INSERT INTO livedist_live_session (id, title, host, channel, scheduled_start, actual_start, actual_end, status,
                                   featured_products, stream_url, created_at)
SELECT id, id, 'host', 'default', starts_at, started_at, ended_at, 'ended', products, '', now() FROM livedist_live;

INSERT INTO livedist_replay (id, live, available_from, until)
SELECT 'R' || substr(id, 2), id, ended_at, NULL FROM livedist_live;

-- Each customer c has a home live (c mod 50) and clicks three distributors' links two hours before it: a live
-- link (6 in 10), a replay link (1 in 10) or a product link; one customer in five clicks first as a visitor
-- stitched to them.
CREATE TEMP TABLE bench_click AS
SELECT c, j, 'user:' || (1 + ((c * 7919 + j * 104729) %% %(d)s)) AS distributor,
       CASE WHEN (c * 7 + j * 3) %% 10 < 6 THEN 'live' WHEN (c * 7 + j * 3) %% 10 = 6 THEN 'replay'
            ELSE 'product' END AS kind,
       {base} + (c %% {lives}) * INTERVAL '1 day' + INTERVAL '10 hours' + j * INTERVAL '10 minutes' AS at
FROM generate_series(1, %(c)s) c, generate_series(0, 2) j;

INSERT INTO livedist_click (identity, at, distributor, kind, target)
SELECT CASE WHEN c %% 5 = 0 AND j = 0 THEN 'v' || c ELSE 'c' || c END, at, distributor, kind,
       CASE kind WHEN 'live' THEN 'L' || (c %% {lives}) WHEN 'replay' THEN 'R' || (c %% {lives})
                 ELSE 'p' || (c %% {products}) END
FROM bench_click;

INSERT INTO livedist_alias (visitor, customer, position) SELECT 'v' || c, 'c' || c, 0
FROM generate_series(1, %(c)s) c WHERE c %% 5 = 0;

INSERT INTO livedist_binding (identity, distributor, at, expires_at, via)
SELECT 'c' || c, distributor, at, at + INTERVAL '30 days', 'click' FROM bench_click WHERE j = 0;

-- Seven customers in ten watch their home live (a visitor's watch is kept under the visitor and the customer);
-- distributors who joined after a live watched the one before they joined.
INSERT INTO livedist_watch (live, viewer, open_count, active_since, seconds, last_seen, until, spans)
SELECT 'L' || (c %% {lives}), 'c' || c, 0, NULL, (c * 37) %% 3600, l.started_at + INTERVAL '1 hour',
       l.started_at + INTERVAL '1 hour', jsonb_build_array(EXTRACT(EPOCH FROM l.started_at),
                                                           EXTRACT(EPOCH FROM l.started_at) + (c * 37) %% 3600)
FROM generate_series(1, %(c)s) c JOIN livedist_live l ON l.id = 'L' || (c %% {lives}) WHERE c %% 10 < 7;
INSERT INTO livedist_watch (live, viewer, open_count, active_since, seconds, last_seen, until, spans)
SELECT live, 'v' || substr(viewer, 2), 0, NULL, seconds, last_seen, until, spans FROM livedist_watch
WHERE viewer LIKE 'c%%' AND substr(viewer, 2)::int %% 5 = 0;
INSERT INTO livedist_watch (live, viewer, open_count, active_since, seconds, last_seen, until, spans)
SELECT 'L' || (n / 288 - 1), 'user:' || n, 0, NULL, 900, NULL, NULL, '[]'
FROM generate_series(576, %(d)s) n WHERE n / 288 - 1 < {lives};

-- Orders: customers of each live in turn; six in ten on air during the customer's home live, one from its replay
-- the next day, three with no live; nine in ten pay the customer's bound distributor; 1-3 lines; 95%% paid, 1 in
-- 25 partly refunded, 1 in 50 cancelled.
CREATE TEMP TABLE bench_order AS
SELECT i, c, c %% {lives} AS k,
       CASE WHEN i %% 10 < 6 THEN 'live' WHEN i %% 10 = 6 THEN 'replay' ELSE 'none' END AS context,
       CASE WHEN i %% 10 = 9 THEN NULL ELSE 'user:' || (1 + ((c * 7919) %% %(d)s)) END AS paid_to,
       CASE WHEN i %% 4 = 0 THEN 'user:' || (1 + ((c * 7919 + 2 * 104729) %% %(d)s))
            ELSE 'user:' || (1 + ((c * 7919) %% %(d)s)) END AS last_click,
       CASE WHEN i %% 5 = 0 THEN jsonb_build_array('user:' || (1 + ((c * 7919 + 104729) %% %(d)s)))
            ELSE '[]'::jsonb END AS assists,
       CASE WHEN i %% 10 < 6 THEN l.started_at + (i %% 120) * INTERVAL '1 minute'
            WHEN i %% 10 = 6 THEN l.ended_at + INTERVAL '1 day' + (i %% 600) * INTERVAL '1 minute'
            ELSE {base} + (i %% 50) * INTERVAL '1 day' + (i %% 1440) * INTERVAL '1 minute' END AS at
FROM (SELECT i, CASE WHEN m = 0 THEN %(c)s - {lives} + k ELSE m END AS c
      FROM (SELECT i, (i / 10) %% {lives} AS k, {lives} * ((i * 7919) %% (%(c)s / {lives})) + (i / 10) %% {lives} AS m
            FROM generate_series(1, %(o)s) i) picked) s
JOIN livedist_live l ON l.id = 'L' || (s.c %% {lives});

INSERT INTO livedist_order (id, customer, snapshot, lifecycle, paid_at, approve_at, has_pending, rewards,
                            board_orders, board_gmv)
SELECT 'o' || i, 'c' || c,
       jsonb_build_object(
           'id', 'o' || i, 'customer', 'c' || c, 'channel', 'default', 'currency', 'CNY',
           'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'rules_version', 'v',
           'attribution', jsonb_build_object(
               'paid_to', paid_to, 'last_click', last_click, 'assists', assists, 'lives_watched', '[]'::jsonb,
               'context', context, 'live', CASE WHEN context = 'none' THEN NULL ELSE 'L' || k END, 'reason', ''),
           'lines', (SELECT jsonb_agg(jsonb_build_object(
                         'line', n::text, 'product', 'p' || ((i * 13 + n * 17) %% {products}), 'category', 'cat',
                         'collections', '[]'::jsonb, 'quantity', 1,
                         'amount', (50 + (i * 31 + n * 7) %% 450) || '.00', 'shares', '[]'::jsonb))
                     FROM generate_series(1, 1 + i %% 3) n)),
       CASE WHEN i %% 20 = 0 THEN '[]'::jsonb ELSE
           jsonb_build_array(jsonb_build_array(to_char((at + INTERVAL '1 minute') AT TIME ZONE 'UTC',
                                                       'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 0, 'p' || i,
                                               'order.paid', '[]'::jsonb))
           || CASE WHEN i %% 25 = 1 THEN jsonb_build_array(jsonb_build_array(
                  to_char((at + INTERVAL '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 2,
                  'r' || i, 'order.refunded', jsonb_build_array(jsonb_build_array('1', '10.00')))) ELSE '[]' END
           || CASE WHEN i %% 50 = 2 THEN jsonb_build_array(jsonb_build_array(
                  to_char((at + INTERVAL '3 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 3,
                  'x' || i, 'order.cancelled', '[]'::jsonb)) ELSE '[]' END END,
       CASE WHEN i %% 20 = 0 THEN NULL ELSE at + INTERVAL '1 minute' END, NULL, i %% 20 <> 0, '[]', 0, 0
FROM bench_order;

-- 10%% to the seller on every paid line, 2%% to the seller's upline on a third of the orders.
INSERT INTO livedist_ledger_entry (id, "order", line, beneficiary, kind, level, amount, currency, status, percent,
                                   rule_ids, rules_version, at, seq)
SELECT o.id || ':' || (l->>'line') || ':1', o.id, l->>'line', o.snapshot->'attribution'->>'paid_to', 'commission',
       1, round((l->>'amount')::numeric * 0.10, 2), 'CNY', 'pending', 10, '["direct"]', 'v', o.paid_at, 0
FROM livedist_order o, jsonb_array_elements(o.snapshot->'lines') l
WHERE o.paid_at IS NOT NULL AND o.snapshot->'attribution'->>'paid_to' IS NOT NULL;
INSERT INTO livedist_ledger_entry (id, "order", line, beneficiary, kind, level, amount, currency, status, percent,
                                   rule_ids, rules_version, at, seq)
SELECT e.id || ':2', e."order", e.line, d.upline, 'team', 2, round(e.amount / 5, 2), 'CNY', 'pending', 2,
       '["leader-level-2"]', 'v', e.at, 1
FROM livedist_ledger_entry e JOIN livedist_distributor d ON d.id = e.beneficiary
WHERE d.upline IS NOT NULL AND substr(e."order", 2)::int %% 3 = 0;

-- The leaderboard's counters: viewers through a live link, paid on-air orders paying the distributor.
INSERT INTO livedist_live_stat (live, distributor, invited, qualified, orders, gmv, currency)
SELECT 'L' || (c %% {lives}), distributor, count(DISTINCT c), count(DISTINCT c) / 2, 0, 0, 'CNY'
FROM bench_click WHERE kind = 'live' GROUP BY 1, 2;
"""


def setup(orders: int, distributors: int, customers: int) -> float:
    from django.db import connection

    sql = SETUP.format(base=BASE, lives=LIVES, products=PRODUCTS) % {"d": distributors, "c": customers, "o": orders}
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in [s for s in sql.split(";\n") if s.strip()]:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    return time.perf_counter() - start


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """p50 and p95 in ms over `repeat` runs after one warm-up run; and how many rows the report gave."""
    found = call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.95))], len(found)


def reports() -> dict[str, Callable[[], Any]]:
    from saleor_livedist.reports import attribution, funnel, journey, matrix, products
    from saleor_livedist.reports.export import to_csv
    from saleor_livedist.reports.filters import ReportFilter

    live = ReportFilter(live="L7")
    return {
        "live_funnel (L7)": lambda: funnel.live_funnel(live),
        "live_minutes (L7)": lambda: funnel.live_minutes(live),
        "live_leaderboard (L7)": lambda: funnel.live_leaderboard(live),
        "distributor_live_matrix (top 500)": lambda: matrix.distributor_live_matrix(),
        "distributor_live_matrix (L7)": lambda: matrix.distributor_live_matrix(live),
        "converted_viewers (top 500)": lambda: matrix.converted_viewers(),
        "attribution_by_distributor (top 500)": lambda: attribution.attribution_by_distributor(),
        "gmv_shares": lambda: attribution.gmv_shares(),
        "journey (c35, masked)": lambda: journey.journey("c35"),
        "product_fit": lambda: products.product_fit(),
        "recommendations": lambda: products.recommendations(),
        "to_csv(distributor_live_matrix top 500)": lambda: to_csv(matrix.distributor_live_matrix()).splitlines(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--distributors", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="time the reports on the database a former run left")
    args = parser.parse_args()
    from saleor_livedist.sandbox.demo import setup_django, use_demo_database

    (use_demo_database if args.reuse else setup_django)(DATABASE)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    built = first = 0.0
    if not args.reuse:
        built = setup(args.orders, args.distributors, args.customers)
    from saleor_livedist.models import Click, Order, ReportLine, Watch
    from saleor_livedist.reports.facts import refresh

    start = time.perf_counter()
    lines = refresh()
    first = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a refresh this size
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}")
    print(f"data: {Order.objects.count():,} orders ({lines:,} lines), {args.distributors:,} distributors, "
          f"{args.customers:,} customers, {LIVES} lives, {Click.objects.count():,} clicks, "
          f"{Watch.objects.count():,} watch rows; written in {built:.1f} s")
    print(f"first report: the report lines of every order computed in {first:.2f} s "
          f"({ReportLine.objects.count():,} lines)")
    print(f"{'report':<42} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}   ({args.repeat} runs each)")
    for name, call in reports().items():
        p50, p95, count = timed(call, args.repeat)
        print(f"{name:<42} {p50:8.1f} {p95:8.1f} {count:6}")
    connection.close()


if __name__ == "__main__":
    main()
