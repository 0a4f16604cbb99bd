"""App mode against the real Saleor: what Saleor itself signs, validates and sends, read by App mode's own code.

- Saleor signs a webhook body (`signature_for_payload`, its JWKS served at /.well-known/jwks.json) and App mode's
  verifier accepts it; the same signature on a changed body, or checked against another key set, is refused.
- Saleor's installer accepts App mode's manifest, and every subscription query in it is valid for Saleor's schema
  and subscribes to exactly its event.
- For an order placed through Saleor's storefront API with a share link in the checkout's metadata, paid, and
  partly refunded, the deliveries Saleor builds from App mode's queries map to the same events, with the same ids,
  as the plugin's hooks hand off for the same order; and those events book the same commissions as the plugin did.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory, override_settings

from saleor_livedist.models import InboxEvent, LedgerEntry

from .test_contract import REFUND_PRODUCTS, gid, graphql_data, place_order

APP_BASE = "https://livedist-app.example.com/"


def saleor_jwks() -> dict[str, Any]:
    """The key set Saleor serves to apps (as App mode fetches it)."""
    from django.test import Client

    response = Client().get("/.well-known/jwks.json", HTTP_HOST="example.com", secure=True)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_saleors_signature_on_a_delivery_is_verified_and_a_changed_body_is_refused(db: None) -> None:
    from saleor.webhook.transport import signature_for_payload

    from saleor_livedist.app_server.signature import BadSignature, UnknownKey, verify_delivery

    body = json.dumps({"__typename": "OrderPaid", "order": {"id": gid("Order", 7)}}).encode()
    signature = signature_for_payload(body, None)  # what Saleor puts in Saleor-Signature
    jwks = saleor_jwks()

    header = verify_delivery(body, signature, jwks)

    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    with pytest.raises(BadSignature):
        verify_delivery(body.replace(b"OrderPaid", b"OrderCancelled"), signature, jwks)
    with pytest.raises(UnknownKey):
        verify_delivery(body, signature, {"keys": [{**key, "kid": "another"} for key in jwks["keys"]]})
    with pytest.raises(BadSignature):
        verify_delivery(body, None, jwks)


def app_manifest() -> dict[str, Any]:
    from saleor_livedist.app_server.subscriptions import manifest_webhooks
    from saleor_livedist.app_server.views import manifest

    with override_settings(ALLOWED_HOSTS=["livedist-app.example.com"]):
        return json.loads(manifest(RequestFactory().get("/app/manifest", HTTP_HOST="livedist-app.example.com",
                                                        secure=True)).content)


def test_saleor_accepts_the_manifest_and_every_subscription_query_subscribes_to_its_event(db: None) -> None:
    from saleor.app.manifest_validations import clean_manifest_data
    from saleor.graphql.webhook.subscription_query import SubscriptionQuery

    from saleor_livedist.app_server.subscriptions import WEBHOOKS

    manifest = app_manifest()
    clean_manifest_data(manifest)  # raises ValidationError on anything Saleor's installer refuses

    assert {hook["asyncEvents"][0] for hook in manifest["webhooks"]} == set(WEBHOOKS)
    for hook in manifest["webhooks"]:
        query = SubscriptionQuery(hook["query"])
        assert query.is_valid, (hook["asyncEvents"], query.error_msg)
        assert [event.upper() for event in query.events] == hook["asyncEvents"]


@pytest.fixture
def app(db: None, permission_manage_orders: Any, permission_manage_users: Any) -> Any:
    """The App as Saleor keeps it after installing App mode's manifest: its permissions and its webhooks."""
    from saleor.app.models import App
    from saleor.webhook.models import Webhook

    manifest = app_manifest()
    app = App.objects.create(name=manifest["name"], identifier=manifest["id"], is_active=True)
    app.permissions.add(permission_manage_orders, permission_manage_users)
    for hook in manifest["webhooks"]:
        webhook = Webhook.objects.create(app=app, name=hook["name"], target_url=hook["targetUrl"],
                                         subscription_query=hook["query"], is_active=True)
        webhook.events.create(event_type=hook["asyncEvents"][0].lower())
    return app


def delivered(app: Any, event: str, subject: Any) -> list[dict[str, Any]]:
    """The events App mode reads from the signed delivery Saleor builds for `event` on `subject`."""
    from saleor.webhook.transport import signature_for_payload
    from saleor.webhook.transport.asynchronous.transport import create_deliveries_for_subscriptions

    from saleor_livedist.app_server.payloads import events_of, read_body
    from saleor_livedist.app_server.signature import verify_delivery

    [webhook] = app.webhooks.filter(events__event_type=event.lower())
    [delivery] = create_deliveries_for_subscriptions(event.lower(), subject, [webhook])
    body = delivery.payload.get_payload().encode()
    verify_delivery(body, signature_for_payload(body, None), saleor_jwks())
    payload = read_body(body)
    assert payload["recipient"]["id"] == gid("App", app.pk)  # App mode refuses a delivery made for another app
    return events_of(payload)


def same_but_time(app_event: dict[str, Any], plugin_event: dict[str, Any]) -> None:
    """An App mode event is the plugin's: every field but `at` equal (the plugin stamps a lifecycle event when
    its hook runs, App mode when Saleor issued the delivery), `at` within a minute."""
    from saleor_livedist.core.events import parse_event

    ours, theirs = parse_event(app_event), parse_event(plugin_event)
    assert abs((ours.at - theirs.at).total_seconds()) < 60, (app_event["at"], plugin_event["at"])
    assert {k: v for k, v in json.loads(json.dumps(app_event, default=str)).items() if k != "at"} == \
        {k: v for k, v in json.loads(json.dumps(plugin_event, default=str)).items() if k != "at"}


def test_deliveries_for_a_placed_paid_and_partly_refunded_order_are_the_plugins_events_and_book_its_commissions(
        livedist: Any, app: Any, api_client: Any, staff_api_client: Any, permission_group_manage_orders: Any,
        checkout_ready_to_complete: Any, distributor: str, share_token: str) -> None:
    from saleor.order.models import Fulfillment

    from saleor_livedist.core.engine import Engine
    from saleor_livedist.core.events import parse_event
    from saleor_livedist.core.store import MemoryStore
    from saleor_livedist.inbox import processing

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    # Saleor issues each delivery when its event happens: created and paid now, refunded after the refund.
    app_events = [*delivered(app, "ORDER_CREATED", order), *delivered(app, "ORDER_FULLY_PAID", order)]
    line = order.lines.get()
    permission_group_manage_orders.user_set.add(staff_api_client.user)
    graphql_data(staff_api_client.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}]},
    }), "orderFulfillmentRefundProducts")
    order.refresh_from_db()
    refund = Fulfillment.objects.get(order=order, status="refunded")

    app_events += delivered(app, "ORDER_REFUNDED", order)

    assert [e["id"] for e in app_events] == [f"saleor:order:{order.pk}:created", f"saleor:order:{order.pk}:paid",
                                             f"saleor:refund:{refund.pk}"]
    plugin_rows = {row.event_id: row for row in InboxEvent.objects.all()}
    for event in app_events:
        assert event["id"] in plugin_rows, f"the plugin handed off no {event['id']}"
        same_but_time(event, plugin_rows[event["id"]].payload)
    assert app_events[0]["ref"]["distributor"] == distributor

    # The same commissions: the plugin's other events (the distributor joining) and App mode's order events,
    # through the engine, book what the plugin booked on PostgreSQL for this order.
    ours = {e["id"] for e in app_events}
    stream = [row.payload for row in sorted(plugin_rows.values(), key=lambda r: (r.received_at, r.id))
              if row.event_id not in ours] + app_events
    store = MemoryStore()
    engine = Engine(store, processing.rules_source())
    for raw in stream:
        engine.process(parse_event(raw))
    booked = sorted((e.beneficiary, e.kind, e.level, e.amount.quantize(Decimal("0.01")), e.status)
                    for e in store.entries(str(order.pk)))
    plugin = sorted((e.beneficiary, e.kind, e.level, e.amount.quantize(Decimal("0.01")), e.status)
                    for e in LedgerEntry.objects.filter(order=str(order.pk)))
    assert plugin and any(kind == "adjustment" for _, kind, *_ in plugin)  # the refund took some back
    assert booked == plugin
