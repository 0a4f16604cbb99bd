"""App mode on real PostgreSQL with real HTTP: two Saleor instances stand in (tests/app_saleor.py: their JWKS and
GraphQL API served over HTTP on 127.0.0.1, deliveries signed as Saleor signs them), each with its schema."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection, transaction
from graphql import parse

from saleor_livedist.app_server import jwks, tenants
from saleor_livedist.app_server.models import Tenant
from saleor_livedist.app_server.subscriptions import WEBHOOKS
from saleor_livedist.app_server.tasks import process_schema
from saleor_livedist.db.schemas import use_schema
from saleor_livedist.distribution.links import make_share_token
from saleor_livedist.inbox import processing
from saleor_livedist.models import InboxEvent, LedgerEntry
from tests.app_saleor import InstanceStandIn, Pair, SigningKey, gid, now_iso, two_instances

pytestmark = pytest.mark.django_db
DISTRIBUTOR = "user:7"


@pytest.fixture(scope="session")
def saleors(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Pair]:
    with two_instances((11, 22), django_db_blocker) as pair:
        yield pair


@pytest.fixture
def app_mode(settings: Any, saleors: Pair) -> Iterator[Pair]:
    """The app's URLs, both instances allowlisted and installed (their tenant rows; the register endpoint has its
    own tests), no cached keys."""
    settings.ROOT_URLCONF = "saleor_livedist.app_server.urls"
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": [s.api_url for s in saleors]}
    jwks.forget()
    processing.reset_rules_source()
    for saleor in saleors:
        saleor.jwks_fetches = 0
        Tenant.objects.create(api_url=saleor.api_url, schema=tenants.schema_for(saleor.api_url),
                              sealed_token=tenants.seal_token(saleor.token), app_id=saleor.app_id)
    yield saleors
    jwks.forget()
    processing.reset_rules_source()


def schema(saleor: InstanceStandIn) -> str:
    return tenants.schema_for(saleor.api_url)


def inbox(saleor: InstanceStandIn | None = None) -> list[tuple[str, str]]:
    """(event id, status) of the instance's inbox (None: the public schema's)."""
    if saleor is None:
        return sorted(InboxEvent.objects.values_list("event_id", "status"))
    with use_schema(schema(saleor)):
        return sorted(InboxEvent.objects.values_list("event_id", "status"))


def ledger(saleor: InstanceStandIn) -> list[tuple[str, str, str]]:
    with use_schema(schema(saleor)):
        return sorted((e.order, e.beneficiary, str(e.amount)) for e in LedgerEntry.objects.all())


def join(saleor: InstanceStandIn, customer: str = DISTRIBUTOR) -> None:
    with use_schema(schema(saleor)):
        processing.submit({"id": f"join:{customer}", "type": "distributor.joined", "at": "2026-12-01T00:00:00+00:00",
                           "customer": customer}, process=False)


def order_created(saleor: InstanceStandIn, order_pk: str = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                  issued_at: str | None = None, **changes: Any) -> bytes:
    payload = {
        "__typename": "OrderCreated", "issuedAt": issued_at or now_iso(), "recipient": {"id": saleor.app_id},
        "order": {
            "id": gid("Order", order_pk), "created": "2026-12-04T10:00:00+00:00", "userEmail": "buyer@example.com",
            "voucherCode": None, "user": {"id": gid("User", 42)}, "channel": {"slug": "default-channel"},
            "metadata": [{"key": "livedist_ref", "value": make_share_token(DISTRIBUTOR, "product", "p1")}],
            "privateMetadata": [], "total": {"currency": "CNY"},
            "lines": [{"id": gid("OrderLine", f"{order_pk}-l1"), "productName": "P1", "productSku": "p1",
                       "quantity": 2, "totalPrice": {"net": {"amount": 100.0}, "gross": {"amount": 113.0}},
                       "variant": {"product": {"slug": "p1", "category": {"slug": "c1"}, "collections": []}}}],
        },
        **changes,
    }
    return json.dumps(payload).encode()


def order_paid(saleor: InstanceStandIn, order_pk: str = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
               typename: str = "OrderPaid") -> bytes:
    return json.dumps({"__typename": typename, "issuedAt": now_iso(), "recipient": {"id": saleor.app_id},
                       "order": {"id": gid("Order", order_pk)}}).encode()


def deliver(client: Any, saleor: InstanceStandIn, body: bytes, **headers: Any) -> Any:
    return client.post("/app/webhooks", data=body, content_type="application/json",
                       **{**saleor.headers(body), **headers})


# ---------------------------------------------------------------------- the manifest


def test_the_manifest_asks_for_the_plugins_events_with_their_subscriptions(client: Any, app_mode: Any) -> None:
    manifest = client.get("/app/manifest").json()
    assert manifest["tokenTargetUrl"] == "http://testserver/app/register"
    webhooks = {w["asyncEvents"][0]: w for w in manifest["webhooks"]}
    assert set(webhooks) == {"ORDER_CREATED", "ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_FULFILLED", "ORDER_CANCELLED",
                             "ORDER_REFUNDED", "ORDER_FULLY_REFUNDED", "ORDER_METADATA_UPDATED", "CUSTOMER_CREATED",
                             "CUSTOMER_METADATA_UPDATED"}
    for event, webhook in webhooks.items():
        assert webhook["targetUrl"] == "http://testserver/app/webhooks" and webhook["isActive"]
        parse(webhook["query"])  # valid GraphQL (checked against Saleor 3.23's schema by the contract tests)
        assert "issuedAt" in webhook["query"] and "recipient { id }" in webhook["query"]
        assert f"... on {WEBHOOKS[event][0]} " in webhook["query"]
    created = webhooks["ORDER_CREATED"]["query"]
    for field in ("metadata { key value }", "privateMetadata", "voucherCode", "lines {", "totalPrice { net",
                  "category { slug }", "collections { slug }", "user { id }", "userEmail"):
        assert field in created
    assert "fulfillments" in webhooks["ORDER_REFUNDED"]["query"] and "fulfillments" not in created
    assert "MANAGE_ORDERS" in manifest["permissions"]
    assert {e["identifier"] for e in manifest["extensions"]} == {  # the plugin's (test_app_console.py)
        "livedist-console", "livedist-order", "livedist-customer", "livedist-product"}


def test_the_manifest_names_the_public_url_behind_a_proxy(client: Any, app_mode: Any, settings: Any) -> None:
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_PUBLIC_URL": "https://livedist.example.com"}
    manifest = client.get("/app/manifest").json()
    assert manifest["tokenTargetUrl"] == "https://livedist.example.com/app/register"
    assert {w["targetUrl"] for w in manifest["webhooks"]} == {"https://livedist.example.com/app/webhooks"}


# ---------------------------------------------------------------------- install (tokenTargetUrl)


def register(client: Any, api_url: str, token: str) -> Any:
    return client.post("/app/register", data=json.dumps({"auth_token": token}), content_type="application/json",
                       HTTP_SALEOR_API_URL=api_url)


def test_install_keeps_the_token_encrypted_per_instance(client: Any, app_mode: Any) -> None:
    a, b = app_mode
    Tenant.objects.all().delete()
    response = register(client, a.api_url.replace("http://", "HTTP://").rstrip("/"), a.token)  # one spelling
    assert response.status_code == 200, response.content
    tenant = Tenant.objects.get()
    assert tenant.api_url == a.api_url and tenant.schema == schema(a) and tenant.app_id == a.app_id
    assert a.token not in tenant.sealed_token and tenants.token_of(tenant) == a.token
    assert register(client, b.api_url, b.token).status_code == 200
    assert Tenant.objects.count() == 2 and tenants.token_of(Tenant.objects.get(api_url=b.api_url)) == b.token


def test_install_is_refused_for_an_instance_not_allowlisted(client: Any, app_mode: Any, settings: Any) -> None:
    a, _b = app_mode
    Tenant.objects.all().delete()
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": "https://shop.example.com/graphql/"}
    response = register(client, a.api_url, a.token)
    assert response.status_code == 403
    assert "APP_ALLOWED_SALEORS" in response.json()["error"]["message"]
    assert not Tenant.objects.exists()


def test_install_is_refused_with_a_token_the_instance_does_not_accept(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    Tenant.objects.all().delete()
    assert register(client, a.api_url, "not-" + a.token).status_code == 401
    assert register(client, "", a.token).status_code == 400
    assert client.post("/app/register", data="{}", content_type="application/json",
                       HTTP_SALEOR_API_URL=a.api_url).status_code == 400
    assert not Tenant.objects.exists()


# ---------------------------------------------------------------------- deliveries


def test_a_valid_delivery_is_kept_once_and_left_to_the_worker(client: Any, app_mode: Any,
                                                               django_capture_on_commit_callbacks: Any) -> None:
    a, b = app_mode
    join(a)
    body, paid = order_created(a), order_paid(a)
    with django_capture_on_commit_callbacks() as callbacks:
        first = deliver(client, a, body)
        again = deliver(client, a, body)  # Saleor's retry of the same delivery
        assert deliver(client, a, paid).status_code == deliver(client, a, paid).status_code == 200
    assert first.status_code == 200 and first.json()["new_events"] == 1
    assert again.status_code == 200 and again.json()["new_events"] == 0
    assert len(callbacks) == 2  # one hand-off per delivery with new events, after commit
    order_id = "saleor:order:7c9e6679-7425-40de-944b-e07fc1f90ae7"
    assert inbox(a) == [("join:user:7", "pending"), (f"{order_id}:created", "pending"),
                        (f"{order_id}:paid", "pending")]  # nothing applied in the request
    assert ledger(a) == []
    assert process_schema(schema(a)) == 3
    entries = ledger(a)
    assert entries and {beneficiary for _o, beneficiary, _amount in entries} == {DISTRIBUTOR}
    assert inbox(b) == [] and inbox() == []
    assert deliver(client, a, body).json()["new_events"] == 0  # and once more after processing: nothing new
    assert process_schema(schema(a)) == 0 and ledger(a) == entries
    assert a.jwks_fetches == 1  # the keys were cached


def test_the_paid_and_fully_paid_deliveries_are_one_event(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    for typename in ("OrderPaid", "OrderFullyPaid"):
        assert deliver(client, a, order_paid(a, "o-1", typename)).status_code == 200
    assert inbox(a) == [("saleor:order:o-1:paid", "pending")]


def refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["message"]


def test_unsigned_forged_and_tampered_deliveries_are_refused_and_nothing_is_kept(client: Any, app_mode: Any) -> None:
    a, b = app_mode
    body = order_created(a)
    refused(deliver(client, a, body, HTTP_SALEOR_SIGNATURE=""), 401)
    no_signature = a.headers(body, signature=None)
    refused(client.post("/app/webhooks", data=body, content_type="application/json", **no_signature), 401)
    forger = SigningKey()
    refused(deliver(client, a, body, HTTP_SALEOR_SIGNATURE=forger.sign(body, kid=a.key.kid)), 401)  # forged
    refused(deliver(client, a, body, HTTP_SALEOR_SIGNATURE=forger.sign(body)), 401)  # a key the instance lacks
    refused(deliver(client, a, body, HTTP_SALEOR_SIGNATURE=b.key.sign(body)), 401)  # the other instance's key
    tampered = body.replace(b"buyer@example.com", b"thief@example.com")
    refused(deliver(client, a, tampered, HTTP_SALEOR_SIGNATURE=a.key.sign(body)), 401)
    assert inbox(a) == [] and inbox(b) == [] and inbox() == []


def test_a_delivery_from_an_unknown_instance_is_refused(client: Any, app_mode: Any, settings: Any) -> None:
    a, b = app_mode
    Tenant.objects.filter(api_url=b.api_url).delete()  # b allowlisted, not installed
    body = order_created(b)
    refused(deliver(client, b, body), 403)
    refused(deliver(client, a, body, HTTP_SALEOR_API_URL="https://elsewhere.example.com/graphql/"), 403)
    refused(deliver(client, a, body, HTTP_SALEOR_API_URL=""), 403)
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": [b.api_url]}
    refused(deliver(client, a, order_created(a)), 403)  # installed, then taken off the allowlist
    settings.LIVEDIST = {**settings.LIVEDIST, "APP_ALLOWED_SALEORS": [a.api_url, b.api_url]}
    # a's signature, sent as b's: verified against b's keys (fetched from b), so refused
    Tenant.objects.create(api_url=b.api_url, schema=schema(b), sealed_token=tenants.seal_token(b.token),
                          app_id=b.app_id)
    refused(deliver(client, a, order_created(b), HTTP_SALEOR_API_URL=b.api_url), 401)
    assert inbox(a) == [] and inbox(b) == [] and inbox() == []


def test_replays_and_deliveries_for_another_app_are_refused(client: Any, app_mode: Any) -> None:
    a, b = app_mode
    old = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    refused(deliver(client, a, order_created(a, issued_at=old)), 403)
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    refused(deliver(client, a, order_created(a, issued_at=future)), 403)
    refused(deliver(client, a, order_created(a, recipient={"id": gid("App", 99)})), 403)  # another app's
    refused(deliver(client, a, order_created(a, recipient=None)), 403)
    refused(deliver(client, a, order_created(a, issuedAt=None)), 400)
    assert inbox(a) == [] and inbox() == []


def test_a_rotated_key_is_fetched_once_and_unknown_kids_do_not_hammer_the_instance(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    assert deliver(client, a, order_created(a, order_pk="o-1")).status_code == 200
    assert a.jwks_fetches == 1
    a.rotate()
    assert deliver(client, a, order_created(a, order_pk="o-2")).status_code == 200  # new kid: fetched again
    assert a.jwks_fetches == 2
    for _ in range(3):
        body = order_created(a, order_pk="o-3")
        refused(deliver(client, a, body, HTTP_SALEOR_SIGNATURE=SigningKey().sign(body)), 401)
    assert a.jwks_fetches == 2  # refetched at most every REFETCH_INTERVAL
    assert [event for event, _s in inbox(a)] == ["saleor:order:o-1:created", "saleor:order:o-2:created"]


def test_two_instances_ledgers_are_apart(client: Any, app_mode: Any) -> None:
    a, b = app_mode
    join(a)
    join(b)
    same_order = "0b4e7a0e-5fe9-4a4b-8f6e-3f1d2c3b4a5f"  # the same ids in both instances: two different orders
    for saleor in (a, b):
        assert deliver(client, saleor, order_created(saleor, order_pk=same_order)).json()["new_events"] == 1
        assert deliver(client, saleor, order_paid(saleor, order_pk=same_order)).json()["new_events"] == 1
    process_schema(schema(a))
    only_a = ledger(a)
    assert only_a and ledger(b) == []  # b's events wait for b's worker
    process_schema(schema(b))
    assert ledger(b) == only_a and ledger(a) == only_a  # each booked once, in its own ledger
    with use_schema(schema(a)):
        assert LedgerEntry.objects.count() == len(only_a)
    assert not LedgerEntry.objects.exists()  # nothing in the public schema


def test_a_refund_delivery_maps_like_the_plugins_refunds(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    line1, line2 = gid("OrderLine", "l1"), gid("OrderLine", "l2")
    order = {
        "id": gid("Order", "o-9"), "total": {"currency": "CNY"}, "shippingPrice": {"gross": {"amount": 10.0}},
        "lines": [{"id": line1, "quantity": 2, "totalPrice": {"net": {"amount": 100.0}, "gross": {"amount": 113.0}}},
                  {"id": line2, "quantity": 1, "totalPrice": {"net": {"amount": 50.0}, "gross": {"amount": 56.5}}}],
        "fulfillments": [{"id": gid("Fulfillment", 5), "status": "REFUNDED", "created": "2026-12-04T11:00:00+00:00",
                          "totalRefundedAmount": {"amount": 56.5}, "shippingRefundedAmount": {"amount": 0.0},
                          "lines": [{"quantity": 1, "orderLine": {"id": line1}}]},
                         {"id": gid("Fulfillment", 6), "status": "FULFILLED", "created": "2026-12-04T10:30:00+00:00",
                          "totalRefundedAmount": None, "shippingRefundedAmount": None,
                          "lines": [{"quantity": 1, "orderLine": {"id": line2}}]}],
        "payments": [{"transactions": [
            {"id": gid("Transaction", 8), "kind": "REFUND", "isSuccess": True, "created": "2026-12-04T10:59:59+00:00",
             "amount": {"amount": 56.5}},  # the refund of products' own payment refund: not a second refund
            {"id": gid("Transaction", 9), "kind": "REFUND", "isSuccess": False, "created": "2026-12-04T11:01:00+00:00",
             "amount": {"amount": 20.0}}]}],
        "transactions": [{"events": [
            {"id": gid("TransactionEvent", 31), "type": "REFUND_SUCCESS", "pspReference": "psp-1",
             "createdAt": "2026-12-04T12:00:00+00:00", "amount": {"amount": 30.0}},
            {"id": gid("TransactionEvent", 32), "type": "REFUND_SUCCESS", "pspReference": "psp-1",
             "createdAt": "2026-12-04T12:01:00+00:00", "amount": {"amount": 33.9}},  # the corrected report
            {"id": gid("TransactionEvent", 33), "type": "CHARGE_SUCCESS", "pspReference": "psp-2",
             "createdAt": "2026-12-04T09:00:00+00:00", "amount": {"amount": 179.5}}]}],
        "grantedRefunds": [],
    }
    body = json.dumps({"__typename": "OrderFullyRefunded", "issuedAt": now_iso(), "recipient": {"id": a.app_id},
                       "order": order}).encode()
    assert deliver(client, a, body).json()["new_events"] == 3
    with use_schema(schema(a)):
        events = {row.event_id: row.payload for row in InboxEvent.objects.all()}
    assert events["saleor:refund:5"]["lines"] == [{"line": "l1", "amount": "50.00"}]
    assert events["saleor:transaction-refund:31"]["lines"] == [{"line": "l1", "amount": "20.00"},
                                                                {"line": "l2", "amount": "10.00"}]
    assert "lines" not in events["saleor:order:o-9:fully-refunded"]
    assert {e["order"] for e in events.values()} == {"o-9"} and {e["currency"] for e in events.values()} == {"CNY"}


def test_a_customer_delivery_binds_by_its_metadata(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    body = json.dumps({"__typename": "CustomerCreated", "issuedAt": now_iso(), "recipient": {"id": a.app_id},
                       "user": {"id": gid("User", 42), "email": "new@example.com",
                                "dateJoined": "2026-12-04T10:00:00+00:00", "privateMetadata": [],
                                "metadata": [{"key": "livedist_ref",
                                              "value": make_share_token(DISTRIBUTOR, "live", "live-1")}]}}).encode()
    assert deliver(client, a, body).json()["new_events"] == 2
    assert [e for e, _s in inbox(a)] == ["saleor:customer:42:ref", "saleor:customer:42:registered"]


def test_a_signed_delivery_with_a_body_the_app_cannot_read_is_refused_whole(client: Any, app_mode: Any) -> None:
    a, _b = app_mode
    body = order_created(a, order={"id": "not-a-global-id"})
    refused(deliver(client, a, body), 400)
    refused(deliver(client, a, b"[1, 2]"), 400)
    assert inbox(a) == []


@pytest.mark.django_db(transaction=True)
def test_each_instance_has_its_own_processing_lock(saleors: Pair) -> None:
    """The engine is a single writer per instance's tables: a worker draining one instance's inbox does not
    hold up another's, and still keeps a second worker off its own."""
    import threading

    a, b = saleors
    held, release = threading.Event(), threading.Event()

    def hold_a() -> None:
        with use_schema(schema(a)), transaction.atomic():
            processing._lock()
            held.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_a)
    holder.start()
    try:
        assert held.wait(30)
        with use_schema(schema(b)):
            assert processing.process_pending(wait=False) == 0  # b's lock is free
        with use_schema(schema(a)), pytest.raises(processing.Busy):
            processing.process_pending(wait=False)
        assert processing.lock_key() == processing.LOCK_KEY  # outside any instance: the plugin's own lock
    finally:
        release.set()
        holder.join(30)
