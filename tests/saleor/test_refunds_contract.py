"""Every refund path of Saleor 3.20-3.23 reaches the engine with what Saleor committed, in the line amounts'
own terms (net of tax): a refund by products (`orderFulfillmentRefundProducts`), a refund of an amount
(`orderRefund`), a Transactions API refund (`transactionRequestAction` REFUND, and a refund the payment app
reports by itself with `transactionEventReport`), and a granted refund (`orderGrantRefundCreate` then
`transactionRequestRefundForGrantedRefund`). The product is taxed (Saleor's default tax class: 23% for the
Polish address of the fixtures), so a tax-inclusive amount taken as net would show.

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from saleor_livedist.models import InboxEvent

from .test_contract import commission, gid, graphql_data, handed_off, kept, ledger_for, place_order

CENT = Decimal("0.01")

ORDER_REFUND = """
mutation OrderRefund($id: ID!, $amount: PositiveDecimal!) {
  orderRefund(id: $id, amount: $amount) { order { id } errors { field code message } }
}
"""
REFUND_PRODUCTS = """
mutation RefundProducts($order: ID!, $input: OrderRefundProductsInput!) {
  orderFulfillmentRefundProducts(order: $order, input: $input) { fulfillment { id } errors { field code message } }
}
"""
REQUEST_ACTION = """
mutation RequestAction($id: ID!, $amount: PositiveDecimal) {
  transactionRequestAction(id: $id, actionType: REFUND, amount: $amount) { errors { field code message } }
}
"""
EVENT_REPORT = """
mutation Report($id: ID!, $amount: PositiveDecimal!, $psp: String!) {
  transactionEventReport(id: $id, type: REFUND_SUCCESS, amount: $amount, pspReference: $psp) {
    errors { field code message }
  }
}
"""
GRANT_REFUND = """
mutation Grant($id: ID!, $input: OrderGrantRefundCreateInput!) {
  orderGrantRefundCreate(id: $id, input: $input) { grantedRefund { id } errors { field code message } }
}
"""
REFUND_GRANTED = """
mutation RefundGranted($id: ID!, $granted: ID!) {
  transactionRequestRefundForGrantedRefund(id: $id, grantedRefundId: $granted) { errors { field code message } }
}
"""


# ---------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def taxes(tax_configuration_flat_rates: Any) -> Any:
    """The channel charges tax at Saleor's flat rates, on prices entered without tax (23% to the fixtures'
    Polish address)."""
    tax_configuration_flat_rates.charge_taxes = True
    tax_configuration_flat_rates.save(update_fields=["charge_taxes"])
    return tax_configuration_flat_rates


@pytest.fixture
def staff(staff_api_client: Any, permission_group_manage_orders: Any, permission_manage_payments: Any) -> Any:
    """A staff member who manages orders and payments (refunds need both)."""
    permission_group_manage_orders.permissions.add(permission_manage_payments)
    permission_group_manage_orders.user_set.add(staff_api_client.user)
    return staff_api_client


@pytest.fixture
def refunding_app(app: Any, permission_manage_payments: Any) -> Any:
    """A payment app that owns the transactions and answers refund requests (its webhook is subscribed)."""
    from saleor.webhook.event_types import WebhookEventSyncType
    from saleor.webhook.models import Webhook

    app.permissions.add(permission_manage_payments)
    webhook = Webhook.objects.create(app=app, name="refunds", target_url="https://app.example.com/webhook",
                                     is_active=True)
    webhook.events.create(event_type=WebhookEventSyncType.TRANSACTION_REFUND_REQUESTED)
    return app


@pytest.fixture
def app_answers_refunds(monkeypatch: Any) -> None:
    """The payment app's synchronous answer to TRANSACTION_REFUND_REQUESTED: refunded, the amount asked for.
    Saleor's webhook plugin hands such an answer to the function called here (the HTTP call is what is left
    out)."""
    from saleor.payment.utils import create_transaction_event_from_request_and_webhook_response

    def answer(self: Any, transaction_data: Any, channel_slug: str) -> None:
        request = transaction_data.event
        create_transaction_event_from_request_and_webhook_response(
            request, transaction_data.transaction_app_owner,
            {"pspReference": f"refund-{request.pk}", "result": "REFUND_SUCCESS",
             "amount": str(transaction_data.action_value)})

    monkeypatch.setattr("saleor.plugins.manager.PluginsManager.transaction_refund_requested", answer)


def pay_with_transaction(checkout: Any, app: Any) -> None:
    """The checkout paid through the Transactions API: a charge for its total, owned by the payment app."""
    from django.utils import timezone
    from saleor.checkout import calculations
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.payment import TransactionAction, TransactionEventType
    from saleor.payment.models import TransactionEvent, TransactionItem
    from saleor.payment.transaction_item_calculations import recalculate_transaction_amounts
    from saleor.plugins.manager import get_plugins_manager

    manager = get_plugins_manager(allow_replica=False)
    lines, _ = fetch_checkout_lines(checkout)
    info = fetch_checkout_info(checkout, lines, manager)
    total = calculations.calculate_checkout_total(manager=manager, checkout_info=info, lines=lines)
    item = TransactionItem.objects.create(
        name="Card", psp_reference="charge-1", currency=total.gross.currency, checkout=checkout, app=app,
        app_identifier=app.identifier, available_actions=[TransactionAction.REFUND])
    TransactionEvent.objects.create(transaction=item, psp_reference="charge-1", currency=item.currency,
                                    type=TransactionEventType.CHARGE_SUCCESS, amount_value=total.gross.amount,
                                    include_in_calculations=True)
    recalculate_transaction_amounts(item)
    checkout.price_expiration = timezone.now()  # Saleor recalculates the checkout's payment status
    checkout.save(update_fields=["price_expiration"])


def place_order_paid_by_transaction(api_client: Any, checkout: Any, app: Any, share_token: str) -> Any:
    from saleor.order.models import Order

    from .test_contract import CHECKOUT_COMPLETE, UPDATE_METADATA

    graphql_data(api_client.post_graphql(UPDATE_METADATA, {
        "id": gid("Checkout", checkout.pk), "input": [{"key": "livedist_ref", "value": share_token}]}),
        "updateMetadata")
    pay_with_transaction(checkout, app)
    data = graphql_data(api_client.post_graphql(CHECKOUT_COMPLETE, {"id": gid("Checkout", checkout.pk)}),
                        "checkoutComplete")
    order = Order.objects.get(pk=data["order"]["token"])
    assert order.payment_transactions.get().charged_value == order.total_gross_amount
    return order


def taxed_line(order: Any) -> Any:
    line = order.lines.get()
    assert line.quantity == 3
    assert line.total_price_gross_amount > line.total_price_net_amount > 0, "the product must be taxed"
    return line


def net_of(line: Any, gross: Decimal) -> Decimal:
    """The net-of-tax part of a tax-inclusive amount refunded on the line."""
    return (line.total_price_net_amount * gross / line.total_price_gross_amount).quantize(CENT)


def refunded_net(order: Any, line: Any) -> Decimal:
    """What the handed-off refund events took off the line (each event processed)."""
    total = Decimal(0)
    rows = InboxEvent.objects.filter(type="order.refunded", payload__order=str(order.pk))
    for row in rows:
        handed_off(row.event_id)
        assert row.payload.get("lines"), f"{row.event_id} would refund the whole order"
        total += sum((Decimal(item["amount"]) for item in row.payload["lines"] if item["line"] == str(line.pk)),
                     Decimal(0))
    assert rows.exists(), "no refund was handed off"
    return total


def assert_commission_on_what_was_kept(order: Any, line: Any, distributor: str, refunded: Decimal) -> None:
    assert refunded_net(order, line) == refunded
    entries = ledger_for(order, line, distributor)
    assert kept(entries) == commission(line.total_price_net_amount - refunded)


# ---------------------------------------------------------------------- the payment API (Payment)


def test_refund_of_products_takes_their_net_price_off(
        livedist: Any, api_client: Any, staff: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = taxed_line(order)

    graphql_data(staff.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}]},
    }), "orderFulfillmentRefundProducts")

    assert order.payments.get().transactions.filter(kind="refund", is_success=True).exists()  # money went back
    assert_commission_on_what_was_kept(order, line, distributor, (line.total_price_net_amount / 3).quantize(CENT))


def test_refund_of_products_for_less_than_their_price_takes_that_share_off(
        livedist: Any, api_client: Any, staff: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    """A refund of one item with `amountToRefund` below its price (e.g. a restocking fee kept)."""
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = taxed_line(order)
    amount = (line.unit_price_gross_amount / 2).quantize(CENT)

    graphql_data(staff.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}],
                  "amountToRefund": str(amount)},
    }), "orderFulfillmentRefundProducts")

    assert_commission_on_what_was_kept(order, line, distributor, net_of(line, amount))


def test_refund_of_an_amount_takes_its_net_of_tax_share_off(
        livedist: Any, api_client: Any, staff: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = taxed_line(order)
    amount = line.unit_price_gross_amount  # the price of one item, tax included

    graphql_data(staff.post_graphql(ORDER_REFUND, {"id": gid("Order", order.pk), "amount": str(amount)}),
                 "orderRefund")

    assert_commission_on_what_was_kept(order, line, distributor, net_of(line, amount))


def test_two_refunds_of_an_amount_are_two_refunds(
        livedist: Any, api_client: Any, staff: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = taxed_line(order)

    for amount in (Decimal("5.00"), Decimal("7.00")):
        graphql_data(staff.post_graphql(ORDER_REFUND, {"id": gid("Order", order.pk), "amount": str(amount)}),
                     "orderRefund")

    assert_commission_on_what_was_kept(order, line, distributor,
                                       net_of(line, Decimal("5.00")) + net_of(line, Decimal("7.00")))


# ---------------------------------------------------------------------- the Transactions API


def test_transaction_refund_request_takes_its_net_of_tax_share_off(
        livedist: Any, api_client: Any, staff: Any, refunding_app: Any, app_answers_refunds: None,
        checkout_ready_to_complete: Any, distributor: str, share_token: str) -> None:
    order = place_order_paid_by_transaction(api_client, checkout_ready_to_complete, refunding_app, share_token)
    line = taxed_line(order)
    amount = line.unit_price_gross_amount

    graphql_data(staff.post_graphql(REQUEST_ACTION, {
        "id": gid("TransactionItem", order.payment_transactions.get().token), "amount": str(amount)}),
        "transactionRequestAction")

    assert order.payment_transactions.get().refunded_value == amount
    assert_commission_on_what_was_kept(order, line, distributor, net_of(line, amount))


def test_refund_the_payment_app_reports_takes_its_net_of_tax_share_off(
        livedist: Any, api_client: Any, app_api_client: Any, refunding_app: Any, checkout_ready_to_complete: Any,
        distributor: str, share_token: str) -> None:
    """A refund made in the payment provider's own dashboard, reported by the app with transactionEventReport."""
    order = place_order_paid_by_transaction(api_client, checkout_ready_to_complete, refunding_app, share_token)
    line = taxed_line(order)
    amount = Decimal("4.00")

    graphql_data(app_api_client.post_graphql(EVENT_REPORT, {
        "id": gid("TransactionItem", order.payment_transactions.get().token), "amount": str(amount),
        "psp": "psp-refund-1"}), "transactionEventReport")

    assert_commission_on_what_was_kept(order, line, distributor, net_of(line, amount))


@pytest.mark.parametrize("grant", ["lines", "amount"])
def test_granted_refund_takes_its_net_of_tax_share_off_when_the_money_goes_back(
        livedist: Any, api_client: Any, staff: Any, refunding_app: Any, app_answers_refunds: None,
        checkout_ready_to_complete: Any, distributor: str, share_token: str, grant: str) -> None:
    order = place_order_paid_by_transaction(api_client, checkout_ready_to_complete, refunding_app, share_token)
    line = taxed_line(order)
    transaction_id = gid("TransactionItem", order.payment_transactions.get().token)
    if grant == "lines":  # one item of three: Saleor grants its price, tax included
        given: dict[str, Any] = {"lines": [{"id": gid("OrderLine", line.pk), "quantity": 1}]}
        expected = (line.total_price_net_amount / 3).quantize(CENT)
    else:
        given = {"amount": "6.15"}
        expected = net_of(line, Decimal("6.15"))

    granted = graphql_data(staff.post_graphql(GRANT_REFUND, {"id": gid("Order", order.pk), "input": {
        **given, "transactionId": transaction_id}}), "orderGrantRefundCreate")["grantedRefund"]["id"]
    assert not InboxEvent.objects.filter(type="order.refunded").exists()  # granted, not yet paid back

    graphql_data(staff.post_graphql(REFUND_GRANTED, {"id": transaction_id, "granted": granted}),
                 "transactionRequestRefundForGrantedRefund")

    assert order.granted_refunds.get().status == "success"
    assert_commission_on_what_was_kept(order, line, distributor, expected)
