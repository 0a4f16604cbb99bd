"""App mode against the real Saleor: the manifest's subscription queries are valid for their events in Saleor's
own schema, and a payload Saleor generates from them for a real order (or customer), signed by Saleor's own key
as it signs webhook deliveries, is verified by App mode's verifier against Saleor's JWKS and maps to exactly the
events the plugin's hooks hand off for the same order."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from .test_contract import gid, graphql_data, place_order
from .test_refunds_contract import app_answers_refunds, refunding_app, staff, taxes  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def saleor_delivery(event: str, subscribable: Any, app: Any) -> tuple[bytes, str]:
    """The body and Saleor-Signature Saleor sends for `event` with App mode's query (transport/asynchronous:
    `json.dumps` of the generated payload; signature_for_payload without a secret key: its JWS)."""
    from django.utils import timezone
    from saleor.graphql.webhook.subscription_payload import generate_payload_from_subscription, initialize_request
    from saleor.webhook.transport import signature_for_payload

    from saleor_livedist.app_server.subscriptions import subscription_query

    request = initialize_request(app=app, event_type=event.lower(), request_time=timezone.now())
    payload = generate_payload_from_subscription(event_type=event.lower(), subscribable_object=subscribable,
                                                 subscription_query=subscription_query(event), request=request)
    assert payload, "Saleor generated no payload for the query"
    body = json.dumps({**payload}).encode()
    return body, signature_for_payload(body, None)


@pytest.fixture
def app(app: Any, permission_manage_orders: Any, permission_manage_users: Any) -> Any:
    app.permissions.add(permission_manage_orders, permission_manage_users)
    return app


def verified_events(body: bytes, signature: str) -> list[dict[str, Any]]:
    from saleor.core.jwt_manager import get_jwt_manager

    from saleor_livedist.app_server.payloads import events_of, read_body
    from saleor_livedist.app_server.signature import verify_delivery

    verify_delivery(body, signature, get_jwt_manager().get_jwks())
    return events_of(read_body(body))


def test_every_subscription_query_is_valid_for_its_event() -> None:
    from saleor.graphql.webhook.subscription_query import SubscriptionQuery

    from saleor_livedist.app_server.subscriptions import WEBHOOKS, manifest_webhooks, subscription_query

    for event in WEBHOOKS:
        query = SubscriptionQuery(subscription_query(event))
        assert query.is_valid, (event, query.error_msg)
        assert query.events == [event.lower()]
    assert len(manifest_webhooks("https://app.example.com/app/webhooks")) == len(WEBHOOKS)


def test_a_signed_order_delivery_maps_like_the_plugins_hook(order_with_lines: Any, app: Any, distributor: str) -> None:
    import graphene

    from saleor_livedist.app_server.signature import BadSignature, verify_delivery
    from saleor_livedist.distribution.links import make_share_token, sign_visitor
    from saleor_livedist.saleor import mapping

    order = order_with_lines
    order.metadata = {"livedist_ref": make_share_token(distributor, "product", "p1"), "other": "x"}
    order.private_metadata = {"livedist_visitor": sign_visitor("v-123")}
    order.save(update_fields=["metadata", "private_metadata"])
    body, signature = saleor_delivery("ORDER_CREATED", order, app)
    payload = json.loads(body)
    assert payload["recipient"]["id"] == graphene.Node.to_global_id("App", app.pk)
    assert verified_events(body, signature) == [mapping.order_created(order)]
    from saleor.core.jwt_manager import get_jwt_manager

    with pytest.raises(BadSignature):
        verify_delivery(body.replace(b"livedist_ref", b"livedist_rex"), signature, get_jwt_manager().get_jwks())


def test_a_signed_refund_delivery_maps_like_the_plugins_hook(order_with_lines: Any, app: Any) -> None:
    from saleor.payment.models import Payment

    from saleor_livedist.saleor import refunds

    order = order_with_lines
    payment = Payment.objects.create(order=order, gateway="mirumee.payments.dummy", is_active=True,
                                     total=order.total_gross_amount, currency=order.currency,
                                     captured_amount=order.total_gross_amount, charge_status="partially-refunded")
    payment.transactions.create(kind="refund", is_success=True, amount=Decimal("7.00"), currency=order.currency,
                                gateway_response={})
    body, signature = saleor_delivery("ORDER_REFUNDED", order, app)
    events = verified_events(body, signature)
    assert events == refunds.order_refunds(order)
    assert events and events[0]["id"].startswith("saleor:payment-refund:")


def test_a_signed_customer_delivery_maps_like_the_plugins_hook(customer_user: Any, app: Any, distributor: str) -> None:
    from saleor_livedist.distribution.links import make_share_token
    from saleor_livedist.saleor import mapping

    customer_user.metadata = {"livedist_ref": make_share_token(distributor, "live", "live-1")}
    customer_user.save(update_fields=["metadata"])
    body, signature = saleor_delivery("CUSTOMER_CREATED", customer_user, app)
    assert verified_events(body, signature) == mapping.customer_registered(customer_user)


# ---------------------------------------------------------------------- refunds made through Saleor's API


def test_a_refund_of_products_delivery_maps_like_the_plugins_hook(
        api_client: Any, staff: Any, checkout_ready_to_complete: Any, app: Any, share_token: str) -> None:
    from saleor_livedist.saleor import refunds

    from .test_refunds_contract import REFUND_PRODUCTS

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = order.lines.get()
    graphql_data(staff.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}]},
    }), "orderFulfillmentRefundProducts")
    events = verified_events(*saleor_delivery("ORDER_REFUNDED", order, app))
    assert events == refunds.order_refunds(order)
    assert [e["id"].split(":")[1] for e in events] == ["refund"]  # the payment refund it made is not a second one


def test_a_granted_refund_delivery_maps_like_the_plugins_hook(
        api_client: Any, staff: Any, refunding_app: Any, app_answers_refunds: None, checkout_ready_to_complete: Any,
        share_token: str) -> None:
    from saleor_livedist.saleor import refunds

    from .test_refunds_contract import GRANT_REFUND, REFUND_GRANTED, place_order_paid_by_transaction

    order = place_order_paid_by_transaction(api_client, checkout_ready_to_complete, refunding_app, share_token)
    line = order.lines.get()
    transaction_id = gid("TransactionItem", order.payment_transactions.get().token)
    granted = graphql_data(staff.post_graphql(GRANT_REFUND, {"id": gid("Order", order.pk), "input": {
        "lines": [{"id": gid("OrderLine", line.pk), "quantity": 1}], "transactionId": transaction_id}}),
        "orderGrantRefundCreate")["grantedRefund"]["id"]
    graphql_data(staff.post_graphql(REFUND_GRANTED, {"id": transaction_id, "granted": granted}),
                 "transactionRequestRefundForGrantedRefund")
    events = verified_events(*saleor_delivery("ORDER_FULLY_REFUNDED", order, refunding_app))
    expected = refunds.order_refunds(order, full=True)
    assert [e | {"at": None} for e in events] == [e | {"at": None} for e in expected]  # fully-refunded: issuedAt
    assert events[0]["id"].startswith("saleor:transaction-refund:") and events[0]["lines"]
