"""Payouts through the GraphQL API on real PostgreSQL: a distributor's balance and withdrawals, their request;
staff's decisions, batches and paid marks; errors with codes, in the caller's language."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.identity import of_user
from saleor_livedist.models import Distributor, LedgerEntry, Withdrawal
from tests.integration.test_api import gql, user

pytestmark = pytest.mark.django_db
BALANCE = "{ me { payoutBalances { currency earning approved offsets withdrawn pending available minimum } " \
          "withdrawals { id amount method account status reason batch } } }"
REQUEST = """mutation($r: String!, $a: Decimal!, $m: String!, $acc: PayoutAccountInput!) {
  requestWithdrawal(requestId: $r, amount: $a, method: $m, account: $acc) {
    withdrawal { id amount currency status account } errors { field code message } } }"""
APPROVE = """mutation($id: ID!, $r: String!) { withdrawalApprove(id: $id, requestId: $r) {
    withdrawal { status } errors { field code message } } }"""
REFUSE = """mutation($id: ID!, $why: String!, $r: String!) { withdrawalRefuse(id: $id, reason: $why, requestId: $r) {
    withdrawal { status reason } errors { field code message } } }"""
BATCH = """mutation($c: String!, $r: String!) { payoutBatchCreate(currency: $c, requestId: $r) {
    batch { id total count status delivery } errors { code } } }"""
PAID = """mutation($id: String!, $r: String!) { payoutBatchMarkPaid(id: $id, requestId: $r) {
    batch { status } errors { code } } }"""
ACCOUNT = {"name": "Zhang San", "number": "zhangsan@example.com"}


@pytest.fixture
def alice() -> Any:
    person = user("alice")
    Distributor.objects.create(id=of_user(person), joined_at=timezone.now(), rank="distributor", ranks=[])
    for n, (amount, status, kind) in enumerate([("80.00", "approved", "commission"), ("5.00", "pending", "commission"),
                                                ("-10.00", "approved", "clawback")]):
        LedgerEntry.objects.create(id=f"o{n}:1:1:1", order=f"o{n}", line="1", beneficiary=of_user(person), kind=kind,
                                   level=1, amount=Decimal(amount), currency="CNY", status=status,
                                   percent=Decimal(5), rule_ids=["r"], rules_version="v", at=timezone.now())
    return person


def cashier(name: str = "boss") -> Any:
    """Staff with the sandbox's permission standing for Saleor's "Manage customers"."""
    from django.contrib.auth.models import Permission

    person = user(name, staff=True)
    person.user_permissions.add(Permission.objects.get(codename="change_distributor",
                                                       content_type__app_label="saleor_livedist"))
    return person


def test_a_distributor_requests_and_staff_pay(alice: Any) -> None:
    client, boss = Client(), cashier()
    me = gql(client, BALANCE, alice)["data"]["me"]
    assert me["payoutBalances"] == [{"currency": "CNY", "earning": "5.00", "approved": "80.00", "offsets": "10.00",
                                     "withdrawn": "0.00", "pending": "0.00", "available": "70.00",
                                     "minimum": "10.00"}]
    too_much = gql(client, REQUEST, alice, r="r1", a="70.01", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"]
    assert too_much["withdrawal"] is None and too_much["errors"][0]["code"] == "INSUFFICIENT_BALANCE"
    done = gql(client, REQUEST, alice, r="r1", a="70.00", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"]
    assert done["errors"] == [] and done["withdrawal"]["account"] == "z***@example.com Z***"
    wid = done["withdrawal"]["id"]
    again = gql(client, REQUEST, alice, r="r1", a="70.00", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"]
    assert again["withdrawal"]["id"] == wid and Withdrawal.objects.count() == 1
    denied = gql(client, APPROVE, alice, id=wid, r="d1")["data"]["withdrawalApprove"]
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert gql(client, APPROVE, boss, id=wid, r="d1")["data"]["withdrawalApprove"]["withdrawal"]["status"] == \
        "approved"
    listed = gql(client, "{ withdrawals(status: \"approved\") { id distributor account } }", boss)["data"]
    assert listed["withdrawals"] == [{"id": wid, "distributor": of_user(alice), "account": "z***@example.com Z***"}]
    assert "errors" in gql(client, "{ withdrawals { id } }", alice)
    batch = gql(client, BATCH, boss, c="CNY", r="b1")["data"]["payoutBatchCreate"]["batch"]
    assert (batch["total"], batch["count"], batch["status"], batch["delivery"]) == ("70.00", 1, "exported", "none")
    assert gql(client, PAID, boss, id=batch["id"], r="p1")["data"]["payoutBatchMarkPaid"]["batch"]["status"] == "paid"
    me = gql(client, BALANCE, alice)["data"]["me"]
    assert (me["payoutBalances"][0]["withdrawn"], me["payoutBalances"][0]["available"]) == ("70.00", "0.00")
    assert me["withdrawals"][0]["status"] == "paid" and me["withdrawals"][0]["batch"] == batch["id"]


def test_staff_without_manage_customers_cannot_decide_or_pay(alice: Any) -> None:
    client, clerk = Client(), user("clerk", staff=True)
    wid = gql(client, REQUEST, alice, r="r1", a="20", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"][
        "withdrawal"]["id"]
    for query, name, variables in [(APPROVE, "withdrawalApprove", {"id": wid, "r": "d1"}),
                                   (REFUSE, "withdrawalRefuse", {"id": wid, "why": "no", "r": "d2"}),
                                   (BATCH, "payoutBatchCreate", {"c": "CNY", "r": "b1"}),
                                   (PAID, "payoutBatchMarkPaid", {"id": "pb_x", "r": "p1"})]:
        answer = gql(client, query, clerk, **variables)["data"][name]
        assert [e["code"] for e in answer["errors"]] == ["PERMISSION_DENIED"], name
        if "message" in query:
            assert answer["errors"][0]["message"] == "You need the permission “Manage customers” for this."
    assert Withdrawal.objects.get().status == "requested"
    assert gql(client, "{ withdrawals { id status } }", clerk)["data"]["withdrawals"] == [
        {"id": wid, "status": "requested"}]  # staff still read the list, as on the console's page
    assert gql(client, APPROVE, cashier(), id=wid, r="d1")["data"]["withdrawalApprove"]["withdrawal"] == {
        "status": "approved"}


def test_refusals_and_errors_in_chinese(alice: Any) -> None:
    client, boss = Client(), cashier()
    wid = gql(client, REQUEST, alice, r="r1", a="20", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"][
        "withdrawal"]["id"]
    no_reason = gql(client, REFUSE, boss, id=wid, why=" ", r="d1")["data"]["withdrawalRefuse"]["errors"]
    assert [(e["field"], e["code"]) for e in no_reason] == [("reason", "REASON_REQUIRED")]
    refused = gql(client, REFUSE, boss, id=wid, why="name differs", r="d2")["data"]["withdrawalRefuse"]["withdrawal"]
    assert refused == {"status": "refused", "reason": "name differs"}
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-Hans"
    low = gql(client, REQUEST, alice, r="r2", a="5", m="alipay", acc=ACCOUNT)["data"]["requestWithdrawal"]["errors"]
    assert low[0]["code"] == "BELOW_MINIMUM" and low[0]["message"] == "最低提现金额为 10.00 CNY"
    bad = gql(client, REQUEST, alice, r="r3", a="20", m="cash", acc=ACCOUNT)["data"]["requestWithdrawal"]["errors"]
    assert bad[0]["code"] == "INVALID_METHOD" and "支付宝" in bad[0]["message"]
