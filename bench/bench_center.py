"""The distributor's center at size, on the data of bench/bench_reports.py (100,000 orders, 10,000 distributors,
60,000 customers, 50 lives, 180,000 clicks), its customers made accounts (user:<id>, visitor:<id> for the stitched
visitors, as in a store), with every distributor's share links and the live invitations of their live links.
Prints p50/p95 of each page of the center, served through the plugin's endpoint with a session cookie, for the
distributor with the most orders and for a typical one. Prints figures; it is not a test.

    python bench/bench_center.py [--orders N] [--distributors N] [--customers N] [--repeat N] [--reuse]

Uses DATABASE_URL if set, else the embedded PostgreSQL; creates (and drops first) its own database."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATABASE = "livedist_bench_center"
CUSTOMER_IDS = 100_000  # customer c is the account user:<100000 + c>

# What the center adds to the reports' data: the customers' accounts, the share links behind the clicks, and the
# live invitations the engine records for clicks on live links.
EXTRA = """
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                       date_joined)
SELECT {ids} + c, '', FALSE, 'c' || c, 'Buyer', c::text, 'c' || c || '@example.com', FALSE, TRUE, now()
FROM generate_series(1, %(c)s) c;
SELECT setval(pg_get_serial_sequence('auth_user', 'id'), {ids} + %(c)s);
INSERT INTO livedist_share_link (token, distributor, kind, target, created_at, clicks)
SELECT 'bench:' || distributor || ':' || kind || ':' || target, distributor, kind, target, min(at), count(*)
FROM livedist_click GROUP BY distributor, kind, target;
INSERT INTO livedist_live_invitation (live, distributor, viewer)
SELECT DISTINCT target, distributor, identity FROM livedist_click WHERE kind = 'live'
"""


def customers_as_accounts(sql: str) -> str:
    """bench_reports' customers c<n> and visitors v<n> named as a store names them."""
    return (sql.replace("'c' || c", f"'user:' || ({CUSTOMER_IDS} + c)").replace("'v' || c", "'visitor:' || c")
            .replace("SELECT live, 'v' || substr(viewer, 2), 0,",
                     f"SELECT live, 'visitor:' || (substr(viewer, 6)::int - {CUSTOMER_IDS}), 0,")
            .replace("WHERE viewer LIKE 'c%%' AND substr(viewer, 2)::int %% 5 = 0",
                     f"WHERE viewer LIKE 'user:%%' AND substr(viewer, 6)::int > {CUSTOMER_IDS} "
                     f"AND (substr(viewer, 6)::int - {CUSTOMER_IDS}) %% 5 = 0"))


def setup(orders: int, distributors: int, customers: int) -> float:
    import bench_reports
    from django.db import connection

    sql = customers_as_accounts(bench_reports.SETUP).format(
        base=bench_reports.BASE, lives=bench_reports.LIVES, products=bench_reports.PRODUCTS)
    sql = sql % {"d": distributors, "c": customers, "o": orders} + ";\n" + EXTRA.format(ids=CUSTOMER_IDS) % {
        "c": customers}
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in [s for s in sql.split(";\n") if s.strip()]:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--distributors", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="time the pages on the database a former run left")
    args = parser.parse_args()
    from saleor_livedist.sandbox.demo import setup_django, use_demo_database

    (use_demo_database if args.reuse else setup_django)(DATABASE)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench_reports import timed
    from saleor_livedist.models import Click, Order, ReportOrder, ShareLink
    from saleor_livedist.reports.facts import refresh
    from saleor_livedist.web.endpoints import sandbox_token

    call_command("migrate", verbosity=0)
    built = setup(args.orders, args.distributors, args.customers) if not args.reuse else 0.0
    refresh()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SELECT paid_to, count(*) FROM livedist_report_order WHERE paid_to IS NOT NULL "
                       "GROUP BY paid_to ORDER BY 2 DESC, 1 LIMIT 1")
        busiest, busiest_orders = cursor.fetchone()
        cursor.execute("SELECT paid_to FROM livedist_report_order WHERE paid_to IS NOT NULL GROUP BY paid_to "
                       "ORDER BY count(*), paid_to OFFSET (SELECT count(DISTINCT paid_to) / 2 FROM "
                       "livedist_report_order) LIMIT 1")
        typical = cursor.fetchone()[0]  # the median distributor by orders
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}; load average {os.getloadavg()[0]:.2f}")
    print(f"data: {Order.objects.count():,} orders, {args.distributors:,} distributors, {args.customers:,} "
          f"customers, {Click.objects.count():,} clicks, {ShareLink.objects.count():,} share links; written in "
          f"{built:.1f} s")
    pages = ["links/", "people/", "earnings/", "tasks/?live=L7", "leaderboard/L7", "clip/"]
    print(f"{'page':<22} {'distributor':<34} {'p50 ms':>8} {'p95 ms':>8}   ({args.repeat} requests each)")
    for who, label in ((busiest, f"{busiest} ({busiest_orders} orders)"),
                       (typical, f"{typical} ({ReportOrder.objects.filter(paid_to=typical).count()} orders)")):
        user = get_user_model().objects.get(pk=who.split(":")[1])
        client = Client()
        client.post("/center/session", {"token": sandbox_token(user)})
        for page in pages:
            def get(page: str = page) -> list[int]:
                response = client.get("/center/" + page)
                assert response.status_code == 200, (page, response.status_code)
                return [response.status_code]

            p50, p95, _rows = timed(get, args.repeat)
            print(f"{page:<22} {label:<34} {p50:8.1f} {p95:8.1f}")
    connection.close()


if __name__ == "__main__":
    main()
