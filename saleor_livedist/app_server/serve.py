"""`livedist app serve`: App mode's project on its own PostgreSQL (DATABASE_URL, else the embedded server, in a
database `livedist_app` kept between runs), migrated (the public schema, then every installed instance's),
serving the manifest, the install endpoint and the webhooks."""
from __future__ import annotations

import os
import signal
import sys
from typing import TextIO
from urllib.parse import urlsplit

APP_DB = "livedist_app"
SETTINGS_MODULE = "saleor_livedist.app_server.settings"


def use_app_database() -> None:
    """DATABASE_URL as given; without it, the embedded server's `livedist_app` database (created once)."""
    if os.environ.get("DATABASE_URL"):
        return
    import psycopg

    from ..sandbox.database import embedded_url, parse_database_url
    from ..sandbox.demo import _with_database

    base = embedded_url()
    params = parse_database_url(base)
    with psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"] or None,
                         host=params["HOST"] or None, port=params["PORT"] or None, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [APP_DB]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{APP_DB}"')
    os.environ["DATABASE_URL"] = _with_database(base, APP_DB)


def prepare(public_url: str | None = None) -> None:
    """Django set up on App mode's project, its database migrated."""
    use_app_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    if public_url:
        os.environ["LIVEDIST_APP_PUBLIC_URL"] = public_url
        host = urlsplit(public_url).hostname or ""
        hosts = [h for h in os.environ.get("LIVEDIST_APP_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
        os.environ["LIVEDIST_APP_ALLOWED_HOSTS"] = ",".join(dict.fromkeys([*hosts, host]))
    import django

    django.setup()
    from django.core.management import call_command

    from . import tenants
    from .models import Tenant

    call_command("migrate", interactive=False, verbosity=0)
    for schema in Tenant.objects.values_list("schema", flat=True):
        tenants.provision(schema)


def run(out: TextIO, address: str = "127.0.0.1:8100", public_url: str | None = None) -> int:
    prepare(public_url)
    from django.core.management import call_command

    from ..inbox.broker import broker_configured
    from . import tenants
    from .models import Tenant

    base = (public_url or f"http://{address}/").rstrip("/") + "/"
    allowed = sorted(tenants.allowed_instances())
    out.write(f"Live + distribution runs as a Saleor App on {base}\n"
              f"  manifest URL: {base}app/manifest   (Saleor Dashboard: Extensions, Add Extension, Install from "
              "manifest)\n"
              f"  may install it: {', '.join(allowed) if allowed else 'no Saleor yet: set LIVEDIST_APP_ALLOWED_SALEORS'}\n"
              f"  installed in: {', '.join(Tenant.objects.values_list('api_url', flat=True)) or 'none yet'}\n")
    if broker_configured():
        out.write("  events: to the Celery workers (celery -A saleor_livedist.app_server.celery worker -B)\n")
    else:
        from . import worker

        worker.start()
        out.write("  events: processed on this process's own worker thread (no CELERY_BROKER_URL)\n")
    out.write("Press Ctrl+C to stop.\n")
    out.flush()
    # A stop by SIGTERM (a service manager, `kill`) ends like Ctrl+C: the exit handlers run and the embedded
    # PostgreSQL, if it was started here, is stopped with the process.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    call_command("runserver", address, use_reloader=False, verbosity=0)
    return 0
