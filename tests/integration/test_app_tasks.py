"""App mode's tasks keep to their tenant through a real broker: a message published while a block works in one
instance's schema names it, and a real Celery worker (in this process, on CELERY_TEST_BROKER) runs the task in
that schema; a message published outside any schema runs as it is; the beat's fan-out sends one message per
tenant. Skipped where no broker is reachable."""
from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from saleor_livedist.app_server import tenants
from saleor_livedist.app_server.celery import TenantTask
from saleor_livedist.app_server.models import Tenant
from saleor_livedist.app_server.tasks import SCHEMA_HEADER, each_tenant
from saleor_livedist.db import schemas
from saleor_livedist.sandbox.celery import create_app
from tests.integration.test_celery_worker import _broker_reachable

BROKER = os.environ.get("CELERY_TEST_BROKER", "redis://127.0.0.1:6379/15")
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not _broker_reachable(BROKER), reason=f"no broker at {BROKER}")]
URLS = ("http://tasks.example.com/graphql/", "http://other.example.com/graphql/")
SCHEMA, OTHER = (tenants.schema_for(url) for url in URLS)


@pytest.fixture(autouse=True)
def _process_celery_app_kept() -> Iterator[None]:
    """start_worker makes its app the process's current and default Celery app: the process's own is put back,
    so the tests after these do not publish to this module's broker (broker_configured reads current_app)."""
    from celery import _state

    current, default = _state._tls.current_app, _state.default_app
    yield
    _state._set_current_app(current)
    _state.default_app = default


@pytest.fixture
def tenant_schema() -> Iterator[str]:
    with connection.cursor() as cursor:
        for schema in (SCHEMA, OTHER):
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    yield SCHEMA
    with connection.cursor() as cursor:
        for schema in (SCHEMA, OTHER):
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_task_runs_in_the_schema_it_was_published_from(tenant_schema: str) -> None:
    seen: queue.Queue[tuple[str, str, str | None]] = queue.Queue()
    name = f"livedist-test-{uuid.uuid4().hex[:8]}"
    app = create_app("livedist_app_test", task_cls=TenantTask, broker_url=BROKER, task_default_queue=name,
                     result_backend=None)

    @app.task(name=f"{name}.probe", bind=True)
    def probe(self: Any, label: str = "each") -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW search_path")
            seen.put((label, cursor.fetchone()[0], getattr(self.request, SCHEMA_HEADER, None)))
        connection.close()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with schemas.use_schema(tenant_schema):
            probe.delay("in the tenant")
        probe.delay("outside")
        results = {label: (path, header) for label, path, header in (seen.get(timeout=30), seen.get(timeout=30))}
        for url, schema in zip(URLS, (SCHEMA, OTHER)):  # the beat's fan-out: one message per tenant
            Tenant.objects.create(api_url=url, schema=schema, sealed_token="-", app_id="-")
        assert each_tenant.run(probe.name) == 2
        fanned = sorted(seen.get(timeout=30)[1:] for _ in range(2))
    assert fanned == sorted([(SCHEMA, SCHEMA), (OTHER, OTHER)])
    assert results["in the tenant"] == (tenant_schema, tenant_schema)
    assert results["outside"][1] is None and tenant_schema not in results["outside"][0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert tenant_schema not in cursor.fetchone()[0]
