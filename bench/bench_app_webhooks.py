"""App mode's webhook endpoint: milliseconds per signed delivery (verify the JWS against the cached JWKS, map,
keep in the tenant's inbox, answer), and how fast the tenant's worker then applies them.

    python bench/bench_app_webhooks.py [--deliveries N] [--database NAME]

Uses DATABASE_URL's server if set, else the embedded PostgreSQL (pgserver). Creates (dropping it first) its own
database, `livedist_bench_app` unless --database names another, with App mode's project and one tenant schema.
A stand-in Saleor (tests/app_saleor.py) serves its JWKS over HTTP on 127.0.0.1 and signs each delivery as Saleor
does; deliveries go through Django's test client (the handler's own cost, no HTTP server in front), each a
ORDER_CREATED with a share token and two lines, then its ORDER_PAID. Timings are wall-clock per request after a warm-up.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--database", default="livedist_bench_app")
    args = parser.parse_args()
    load_before = os.getloadavg()

    import psycopg

    from saleor_livedist.sandbox.database import embedded_url, parse_database_url
    from saleor_livedist.sandbox.demo import _with_database

    base = os.environ.get("DATABASE_URL") or embedded_url()
    params = parse_database_url(base)
    with psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"] or None,
                         host=params["HOST"] or None, port=params["PORT"] or None, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    os.environ["DATABASE_URL"] = _with_database(base, args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor_livedist.app_server.settings"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["LIVEDIST_APP_ALLOWED_HOSTS"] = "testserver"  # Django's test client
    import django

    from tests.app_saleor import InstanceStandIn, gid, now_iso

    saleor = InstanceStandIn(gid("App", 1), "bench-token")
    os.environ["LIVEDIST_APP_ALLOWED_SALEORS"] = saleor.api_url
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from saleor_livedist.app_server import tenants
    from saleor_livedist.app_server.tasks import process_schema
    from saleor_livedist.db.schemas import use_schema
    from saleor_livedist.distribution.links import make_share_token
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import LedgerEntry

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    tenant = tenants.register(saleor.api_url, saleor.token, saleor.app_id)
    provision_seconds = time.perf_counter() - start
    with use_schema(tenant.schema):
        processing.submit({"id": "join", "type": "distributor.joined", "at": "2026-12-01T00:00:00+00:00",
                           "customer": "user:7"}, process=False)
    token = make_share_token("user:7", "product", "p1")

    def delivery(n: int) -> bytes:
        return json.dumps({
            "__typename": "OrderCreated", "issuedAt": now_iso(), "recipient": {"id": saleor.app_id},
            "order": {"id": gid("Order", f"bench-{n}"), "created": "2026-12-04T10:00:00+00:00",
                      "userEmail": f"buyer{n}@example.com", "voucherCode": None, "user": None,
                      "channel": {"slug": "default"}, "metadata": [{"key": "livedist_ref", "value": token}],
                      "privateMetadata": [], "total": {"currency": "CNY"},
                      "lines": [{"id": gid("OrderLine", f"bench-{n}-{k}"), "productName": "P", "productSku": "p",
                                 "quantity": 1, "totalPrice": {"net": {"amount": 120.0}, "gross": {"amount": 135.6}},
                                 "variant": {"product": {"slug": f"p{k}", "category": {"slug": "c"},
                                                         "collections": []}}} for k in (1, 2)]},
        }).encode()

    def paid(n: int) -> bytes:
        return json.dumps({"__typename": "OrderPaid", "issuedAt": now_iso(), "recipient": {"id": saleor.app_id},
                           "order": {"id": gid("Order", f"bench-{n}")}}).encode()

    orders = (args.deliveries + 50) // 2
    bodies = [body for n in range(orders) for body in (delivery(n), paid(n))]
    signed = [(body, saleor.headers(body)) for body in bodies]
    client = Client()
    for body, headers in signed[:50]:  # warm-up (and the one JWKS fetch)
        client.post("/app/webhooks", data=body, content_type="application/json", **headers)
    timings = []
    for body, headers in signed[50:]:
        start = time.perf_counter_ns()
        response = client.post("/app/webhooks", data=body, content_type="application/json", **headers)
        timings.append((time.perf_counter_ns() - start) / 1e6)
        assert response.status_code == 200, response.content
    start = time.perf_counter()
    applied = process_schema(tenant.schema)
    drain_seconds = time.perf_counter() - start
    with use_schema(tenant.schema):
        entries = LedgerEntry.objects.count()

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {server}")
    print(f"tenant schema created and migrated at install: {provision_seconds:.1f} s; JWKS fetched "
          f"{saleor.jwks_fetches} time(s)")
    print(f"webhook request, {len(timings)} signed deliveries (ORDER_CREATED with 2 lines, ORDER_PAID): p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, "
          f"p99 {q[98]:.2f} ms, max {timings[-1]:.2f} ms ({1000 * len(timings) / sum(timings):,.0f} deliveries/s "
          "one after another)")
    print(f"the worker afterwards: {applied} events applied in {drain_seconds:.2f} s "
          f"({applied / drain_seconds:,.0f} events/s), {entries} ledger entries")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    connection.close()
    saleor.close()


if __name__ == "__main__":
    main()
