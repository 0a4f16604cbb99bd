"""App mode end to end, over real HTTP, with the plugin switched off: Saleor (its live server) installs the app
that `livedist app serve` runs in another process, from its manifest URL; a shopper checks out with a share link
in the checkout's metadata and pays; staff refund part of the order; Saleor delivers its signed webhooks to the
app, which books the commissions the plugin books for the same flow (tests/saleor/test_contract.py). A delivery
signed with another key is refused and records nothing.

The app keeps its state in a database of its own on Saleor's PostgreSQL server. Its distributor and share link
are made inside the app's process (App mode's own pages for them are not part of this test)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from .test_contract import REFUND_PRODUCTS, commission, gid, graphql_data, place_order

APP_DB = "livedist_app_contract"
APP_SECRET = "app-contract-secret-key-0123456789"
DISTRIBUTOR = "user:app-distributor"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_url(database: str) -> str:
    from django.db import connection

    p = connection.settings_dict
    return f"postgres://{p['USER']}:{p['PASSWORD'] or ''}@{p['HOST'] or '127.0.0.1'}:{p['PORT'] or 5432}/{database}"


def fresh_database(name: str) -> None:
    import psycopg
    from django.db import connection

    p = connection.settings_dict
    with psycopg.connect(dbname="postgres", user=p["USER"], password=p["PASSWORD"] or None,
                         host=p["HOST"] or "127.0.0.1", port=p["PORT"] or 5432, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


PRELUDE = """
import json, sys
from saleor_livedist.app_server import serve
serve.prepare()
from saleor_livedist.app_server import tenants
tenant = tenants.tenant_for(sys.argv[1])
assert tenant is not None, "the app is not installed in " + sys.argv[1]
"""


class AppProcess:
    """`livedist app serve` in its own process, and Python run in its environment (its settings, its database)."""

    def __init__(self, saleor_api: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.saleor_api = saleor_api
        self.log = tempfile.TemporaryFile()
        self.env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL")}
        self.env.update(DATABASE_URL=server_url(APP_DB), LIVEDIST_APP_ALLOWED_SALEORS=saleor_api,
                        LIVEDIST_APP_SECRET_KEY=APP_SECRET, LIVEDIST_APP_ALLOWED_HOSTS="127.0.0.1",
                        LIVEDIST_PAYOUT_KEY="", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen([sys.executable, "-m", "saleor_livedist", "app", "serve", "--address",
                                         f"127.0.0.1:{self.port}"], env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "app/manifest", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"livedist app serve did not start:\n{self.output}")
            time.sleep(0.2)

    def python(self, code: str) -> Any:
        """Run code in the app's environment (Django set up, the tenant's schema in use); its JSON result."""
        script = (PRELUDE + textwrap.dedent(code)
                  + '\nprint("RESULT " + json.dumps(result, default=str))\n')
        done = subprocess.run([sys.executable, "-c", script, self.saleor_api], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        [line] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        return json.loads(line[len("RESULT "):])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.seek(0)
        self.output = self.log.read().decode("utf-8", "replace")
        self.log.close()

    output = ""


@pytest.fixture
def app_process(live_saleor: Any, settings: Any) -> Iterator[AppProcess]:
    # What a real Saleor runs (saleor/settings.py BUILTIN_PLUGINS): its webhook plugin sends the apps' webhooks.
    # Saleor's test settings only have the dummy gateways; ours stays off: App mode alone.
    settings.PLUGINS = [*settings.PLUGINS, "saleor.plugins.webhook.plugin.WebhookPlugin"]
    fresh_database(APP_DB)
    app = AppProcess(live_saleor.url + "/graphql/")
    yield app
    app.stop()


def installed(app_process: AppProcess, permission_manage_orders: Any, permission_manage_users: Any) -> Any:
    """Installed the way the Dashboard does it: an AppInstallation of the manifest URL, Saleor's installer."""
    from saleor.app.installation_utils import install_app
    from saleor.app.models import AppInstallation

    installation = AppInstallation.objects.create(app_name="Live + distribution",
                                                  manifest_url=app_process.url + "app/manifest")
    installation.permissions.set([permission_manage_orders, permission_manage_users])
    app, token = install_app(installation, activate=True)
    assert token is not None  # the manifest has a tokenTargetUrl and the app answered it
    return app


def ledger(app_process: AppProcess, order: str, wait_for: int) -> list[tuple[str, str, int, Decimal, str]]:
    """The app's ledger for an order, once it has at least `wait_for` entries (its worker is asynchronous)."""
    deadline = time.monotonic() + 60
    while True:
        rows = app_process.python(f"""
            from saleor_livedist.models import LedgerEntry
            with tenants.in_tenant(tenant):
                result = [[e.beneficiary, e.kind, e.level, str(e.amount), e.status]
                          for e in LedgerEntry.objects.filter(order={order!r}).order_by("at", "seq")]
        """)
        if len(rows) >= wait_for:
            return [(b, k, lv, Decimal(a), s) for b, k, lv, a, s in rows]
        if time.monotonic() > deadline:
            raise AssertionError(f"the app booked {rows} for order {order}, not {wait_for} entries\n"
                                 + diagnosis(app_process))
        time.sleep(0.5)


def diagnosis(app_process: AppProcess) -> str:
    """Saleor's deliveries to the app and the app's inbox and log, for a failure's message."""
    from saleor.core.models import EventDelivery

    deliveries = [(d.event_type, d.status, [a.response_status_code for a in d.attempts.all()])
                  for d in EventDelivery.objects.order_by("created_at")]
    inbox = app_process.python("""
        from saleor_livedist.models import InboxEvent
        with tenants.in_tenant(tenant):
            result = [[r.event_id, r.status, r.error[:300]] for r in InboxEvent.objects.order_by("id")]
    """)
    app_process.log.seek(0)
    log = app_process.log.read().decode("utf-8", "replace")[-4000:]
    return f"Saleor's deliveries: {deliveries}\nthe app's inbox: {inbox}\nthe app's log:\n{log}"


def kept(entries: list[tuple[str, str, int, Decimal, str]]) -> Decimal:
    return sum((amount for *_, amount, status in entries if status != "reversed"), Decimal(0))


@pytest.mark.django_db(transaction=True)
def test_installed_from_its_manifest_url_the_app_books_the_plugins_commissions_from_saleors_signed_webhooks(
        app_process: AppProcess, api_client: Any, staff_api_client: Any, permission_manage_orders: Any,
        permission_manage_users: Any, permission_group_manage_orders: Any, checkout_ready_to_complete: Any,
        product: Any) -> None:
    from saleor.order.models import Fulfillment
    from saleor.webhook.models import Webhook

    app = installed(app_process, permission_manage_orders, permission_manage_users)
    assert app.is_active
    assert Webhook.objects.filter(app=app).count() >= 10  # the manifest's webhooks, with their queries
    token = app_process.python(f"""
        from django.utils import timezone
        from saleor_livedist.distribution.links import make_share_token
        from saleor_livedist.inbox.processing import process_pending, submit
        with tenants.in_tenant(tenant):
            submit({{"id": "contract-distributor", "type": "distributor.joined", "at": timezone.now().isoformat(),
                     "customer": {DISTRIBUTOR!r}}}, process=False)
            process_pending()
            result = make_share_token({DISTRIBUTOR!r}, "product", {product.slug!r})
    """)

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": token})
    line = order.lines.get()
    paid = ledger(app_process, str(order.pk), wait_for=1)

    assert [(b, k, lv, s) for b, k, lv, _, s in paid] == [(DISTRIBUTOR, "commission", 1, "pending")]
    assert paid[0][3] == commission(line.total_price_net_amount) > 0  # what the plugin books for this flow

    permission_group_manage_orders.user_set.add(staff_api_client.user)
    graphql_data(staff_api_client.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}]},
    }), "orderFulfillmentRefundProducts")
    assert Fulfillment.objects.filter(order=order, status="refunded").exists()
    refunded = (line.total_price_net_amount / line.quantity).quantize(Decimal("0.01"))
    entries = ledger(app_process, str(order.pk), wait_for=2)

    assert {k for _, k, *_ in entries} == {"commission", "adjustment"}
    assert kept(entries) == commission(line.total_price_net_amount.quantize(Decimal("0.01")) - refunded)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_signed_with_another_key_is_refused_and_nothing_is_recorded(
        app_process: AppProcess, permission_manage_orders: Any, permission_manage_users: Any) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    app = installed(app_process, permission_manage_orders, permission_manage_users)
    from saleor.core.jwt_manager import get_jwt_manager

    kid = get_jwt_manager().get_key_id()
    body = json.dumps({"__typename": "OrderFullyPaid", "issuedAt": "2026-01-01T00:00:00+00:00",
                       "recipient": {"id": gid("App", app.pk)}, "order": {"id": gid("Order", 1)}}).encode()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.api_jws.encode(body, key=other, algorithm="RS256", headers={"kid": kid, "crit": ["b64"]},
                                is_payload_detached=True)  # Saleor's key id, another key
    request = urllib.request.Request(app_process.url + "app/webhooks", data=body, method="POST", headers={
        "Content-Type": "application/json", "Saleor-Api-Url": app_process.saleor_api,
        "Saleor-Event": "order_fully_paid", "Saleor-Signature": forged})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 401
    assert app_process.python("""
        from saleor_livedist.models import InboxEvent
        with tenants.in_tenant(tenant):
            result = InboxEvent.objects.count()
    """) == 0
