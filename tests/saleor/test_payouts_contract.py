"""Payouts against a real Saleor: a distributor's link carried in a Saleor checkout's metadata, the order paid and
fulfilled in Saleor, its commission approved by `livedist_settle`; the distributor asks for a withdrawal through
the plugin's API with Saleor's access token (the account details encrypted in the database); staff with Saleor's
"Manage customers", signed in with Saleor's token, approve it and export a batch, and staff without it (or the
distributor) are refused; the gateway's signed callback, posted through Saleor's URL routing, marks the batch
paid, and a forged or stale one changes nothing; a partial refund in Saleor after the payout is an offset that
takes the balance below zero and refuses the next request.

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from saleor_livedist.models import LedgerEntry, PayoutBatch, Withdrawal

from .test_contract import PLUGIN_URL, commission, gid, graphql_data, handed_off, place_order

SECRET = "contract-gateway-secret"
ACCOUNT = {"name": "Li Si", "number": "6222 0212 3456 7890", "bank": "ICBC"}
CALLBACK = f"{PLUGIN_URL}/payouts/callback"

ORDER_FULFILL = """
mutation Fulfill($order: ID!, $input: OrderFulfillInput!) {
  orderFulfill(order: $order, input: $input) { fulfillments { id } errors { field code message } }
}
"""
REFUND_PRODUCTS = """
mutation RefundProducts($order: ID!, $input: OrderRefundProductsInput!) {
  orderFulfillmentRefundProducts(order: $order, input: $input) { fulfillment { id } errors { field code message } }
}
"""
BALANCE = "{ me { payoutBalances { currency approved offsets withdrawn pending available } " \
          "withdrawals { id status account batch } } }"
REQUEST = """mutation($r: String!, $a: Decimal!, $m: String!, $acc: PayoutAccountInput!) {
  requestWithdrawal(requestId: $r, amount: $a, method: $m, account: $acc) {
    withdrawal { id amount currency status account } errors { field code message } } }"""
APPROVE = """mutation($id: ID!, $r: String!) { withdrawalApprove(id: $id, requestId: $r) {
    withdrawal { id status } errors { code message } } }"""
BATCH = """mutation($c: String!, $r: String!) { payoutBatchCreate(currency: $c, requestId: $r) {
    batch { id total count status } errors { code message } } }"""
PAID = """mutation($id: String!, $r: String!) { payoutBatchMarkPaid(id: $id, requestId: $r) {
    batch { id status } errors { code message } } }"""


@pytest.fixture
def payouts(livedist: Any, settings: Any, tmp_path: Any) -> None:
    """The default rules with an after-sale window of 0 days (the commission is approved once the order is
    fulfilled, on the real clock, so Saleor's later refund comes after the approval), withdrawals from 1.00 (the
    fixtures' order pays a commission of 1.50 USD), and the gateway's secret."""
    import shutil

    from saleor_livedist.inbox import processing
    from saleor_livedist.rules.loader import default_rules_dir

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    policy = (rules / "policy.yaml").read_text(encoding="utf-8")
    assert "approve_after_days: 7" in policy
    (rules / "policy.yaml").write_text(policy.replace("approve_after_days: 7", "approve_after_days: 0"),
                                       encoding="utf-8")
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules), "WITHDRAWAL_MINIMUM": "1.00",
                         "PAYOUT_WEBHOOK_SECRET": SECRET}
    processing.reset_rules_source()


def plugin_api(client: Any, user: Any, query: str, **variables: Any) -> dict[str, Any]:
    """The plugin's GraphQL endpoint through Saleor's routing, with the access token Saleor issues to `user`."""
    from saleor.core.jwt import create_access_token

    response = client.post(f"{PLUGIN_URL}/graphql/", {"query": query, "variables": variables},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {create_access_token(user)}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def signed_callback(client: Any, payload: dict[str, Any], secret: str = SECRET, age: int = 0) -> Any:
    """The gateway's POST, signed as docs/payouts.md says: HMAC-SHA256 over "<timestamp>." + the raw body."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) - age)
    signature = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(CALLBACK, body, content_type="application/json", HTTP_X_LIVEDIST_TIMESTAMP=stamp,
                       HTTP_X_LIVEDIST_SIGNATURE=signature)


def fulfil(staff_api_client: Any, order: Any) -> Any:
    line = order.lines.get()
    warehouse = line.allocations.get().stock.warehouse
    graphql_data(staff_api_client.post_graphql(ORDER_FULFILL, {"order": gid("Order", order.pk), "input": {
        "notifyCustomer": False,
        "lines": [{"orderLineId": gid("OrderLine", line.pk),
                   "stocks": [{"quantity": line.quantity, "warehouse": gid("Warehouse", warehouse.pk)}]}],
    }}), "orderFulfill")
    return order.fulfillments.get()


def stored_row(withdrawal_id: int) -> str:
    """Every column of the withdrawal's row as PostgreSQL returns it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM livedist_withdrawal WHERE id = %s", [withdrawal_id])
        return " ".join(str(value) for value in cursor.fetchone())


def test_a_distributors_commission_is_paid_out_and_a_later_refund_is_an_offset(
        payouts: Any, client: Any, api_client: Any, staff_api_client: Any, permission_group_manage_orders: Any,
        permission_group_manage_users: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    from django.core.management import call_command
    from saleor.account.models import User
    from saleor.order.models import Fulfillment

    from saleor_livedist.identity import of_user

    dist_user = User.objects.get(email="distributor@example.com")
    assert of_user(dist_user) == distributor
    cashier = staff_api_client.user  # staff with Manage orders (to fulfil and refund) and Manage customers
    permission_group_manage_orders.user_set.add(cashier)
    permission_group_manage_users.user_set.add(cashier)
    clerk = User.objects.create(email="clerk@example.com", is_staff=True, is_active=True)  # staff, no permission
    permission_group_manage_orders.user_set.add(clerk)

    # the order through the storefront flow, paid, fulfilled; its commission approved after the window
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = order.lines.get()
    earned = commission(line.total_price_net_amount)
    assert earned == Decimal("1.50")  # 5% of 3 x 10.00 USD
    fulfilment = fulfil(staff_api_client, order)
    handed_off(f"saleor:order:{order.pk}:fulfilled")
    call_command("livedist_settle")  # what the beat's settle task runs (the window of 0 days has passed)
    [entry] = LedgerEntry.objects.filter(order=str(order.pk), beneficiary=distributor)
    assert (entry.kind, entry.status, entry.amount) == ("commission", "approved", earned)
    balance = plugin_api(client, dist_user, BALANCE)["me"]["payoutBalances"]
    assert balance == [{"currency": "USD", "approved": "1.50", "offsets": "0.00", "withdrawn": "0.00",
                        "pending": "0.00", "available": "1.50"}]

    # the distributor's request, with Saleor's access token; the account only masked, and encrypted at rest
    asked = plugin_api(client, dist_user, REQUEST, r="w-1", a="1.50", m="bank", acc=ACCOUNT)["requestWithdrawal"]
    assert asked["errors"] == [], asked["errors"]
    withdrawal = asked["withdrawal"]
    assert (withdrawal["amount"], withdrawal["currency"], withdrawal["status"]) == ("1.50", "USD", "requested")
    assert withdrawal["account"] == "ICBC •••• 7890 L***"
    row = stored_row(int(withdrawal["id"]))
    assert "Li Si" not in row and "6222" not in row and "3456 7890" not in row.replace("•", "")
    wid = withdrawal["id"]

    # refused: the distributor, and staff without Manage customers; nothing changes
    for who in (dist_user, clerk):
        for query, name, variables in [(APPROVE, "withdrawalApprove", {"id": wid, "r": "a-x"}),
                                       (BATCH, "payoutBatchCreate", {"c": "USD", "r": "b-x"}),
                                       (PAID, "payoutBatchMarkPaid", {"id": "pb_x", "r": "p-x"})]:
            errors = plugin_api(client, who, query, **variables)[name]["errors"]
            assert [e["code"] for e in errors] == ["PERMISSION_DENIED"], (who.email, name, errors)
    assert Withdrawal.objects.get(pk=wid).status == "requested" and not PayoutBatch.objects.exists()

    # staff with Manage customers, with Saleor's token: approve, export a batch
    approved = plugin_api(client, cashier, APPROVE, id=wid, r="a-1")["withdrawalApprove"]
    assert approved == {"withdrawal": {"id": wid, "status": "approved"}, "errors": []}
    batch = plugin_api(client, cashier, BATCH, c="USD", r="b-1")["payoutBatchCreate"]
    assert batch["errors"] == [] and (batch["batch"]["total"], batch["batch"]["count"], batch["batch"]["status"]) == (
        "1.50", 1, "exported")
    batch_id = batch["batch"]["id"]

    # the gateway's callback through Saleor's routing: forged, stale, unknown batch refused; then signed: paid
    paid = {"type": "payout.paid", "batch": batch_id, "request_id": "gateway-run-1"}
    forged = signed_callback(client, paid, secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "BAD_SIGNATURE"
    assert signed_callback(client, paid, age=600).status_code == 401
    unsigned = client.post(CALLBACK, json.dumps(paid), content_type="application/json")
    assert unsigned.status_code == 401
    unknown = signed_callback(client, {**paid, "batch": "pb_not-a-batch"})
    assert unknown.status_code == 400
    assert PayoutBatch.objects.get(id=batch_id).status == "exported"
    assert Withdrawal.objects.get(pk=wid).status == "exported"

    answer = signed_callback(client, paid)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"batch": batch_id, "status": "paid"}
    again = signed_callback(client, paid)  # the gateway retries: the same answer, nothing changes
    assert again.status_code == 200 and again.json() == {"batch": batch_id, "status": "paid"}
    assert Withdrawal.objects.get(pk=wid).status == "paid"
    me = plugin_api(client, dist_user, BALANCE)["me"]
    assert me["payoutBalances"] == [{"currency": "USD", "approved": "1.50", "offsets": "0.00", "withdrawn": "1.50",
                                     "pending": "0.00", "available": "0.00"}]
    assert me["withdrawals"] == [{"id": wid, "status": "paid", "account": "ICBC •••• 7890 L***", "batch": batch_id}]

    # a refund of one of the three items in Saleor after the payout: an offset, the balance below zero
    fulfilment_line = fulfilment.lines.get()
    graphql_data(staff_api_client.post_graphql(REFUND_PRODUCTS, {"order": gid("Order", order.pk), "input": {
        "fulfillmentLines": [{"fulfillmentLineId": gid("FulfillmentLine", fulfilment_line.pk), "quantity": 1}],
    }}), "orderFulfillmentRefundProducts")
    refund = Fulfillment.objects.get(order=order, status="refunded")
    handed_off(f"saleor:refund:{refund.pk}")
    kept_net = line.total_price_net_amount.quantize(Decimal("0.01")) - (line.total_price_net_amount / 3).quantize(
        Decimal("0.01"))
    clawed = earned - commission(kept_net)
    assert clawed == Decimal("0.50")
    [clawback] = LedgerEntry.objects.filter(order=str(order.pk), beneficiary=distributor, kind="clawback")
    assert (clawback.status, clawback.amount) == ("approved", -clawed)
    balance = plugin_api(client, dist_user, BALANCE)["me"]["payoutBalances"]
    assert balance == [{"currency": "USD", "approved": "1.50", "offsets": "0.50", "withdrawn": "1.50",
                        "pending": "0.00", "available": "-0.50"}]

    blocked = plugin_api(client, dist_user, REQUEST, r="w-2", a="1.00", m="bank", acc=ACCOUNT)["requestWithdrawal"]
    assert blocked["withdrawal"] is None
    assert [(e["field"], e["code"]) for e in blocked["errors"]] == [("amount", "INSUFFICIENT_BALANCE")]
    assert Withdrawal.objects.count() == 1
