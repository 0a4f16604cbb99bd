"""Live-exclusive coupons in the sandbox: created by staff with a sandbox voucher behind them, valid only while
the live is on air (with a minimum spend), one code per distributor that attributes the order without a
click, issued to invited viewers when the live starts, and a clear message outside the window."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.live_room.coupons import CouponRefused, SandboxVouchers
from saleor_livedist.distribution.links import sign_visitor
from saleor_livedist.models import Binding, LedgerEntry, LiveCouponIssue, SandboxVoucher
from tests.integration.test_api import gql, join, user
from tests.integration.test_lives import END, SCHEDULE, START, staff

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = """mutation($live: String!, $id: String!, $kind: String!, $value: Decimal!, $cur: String!, $min: Decimal) {
  liveCouponCreate(live: $live, id: $id, title: "Spend 200, save 50", kind: $kind, value: $value, currency: $cur,
                   minSpent: $min) { coupon { id live kind value currency minSpent } errors { field code message } } }"""
MY_CODES = 'query($live: String!) { me { couponCodes(live: $live) { code coupon { id } } } }'
CHECK = """query($code: String!, $sub: Decimal, $cur: String) { liveCouponCheck(code: $code, subtotal: $sub,
    currency: $cur) { valid message discount } }"""
ISSUED = 'query($live: String!) { myLiveCoupons(live: $live) { code coupon { title } } }'


def _schedule(client: Client, boss: Any, live: str = "l1") -> None:
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    assert gql(client, SCHEDULE, boss, id=live, start=start)["data"]["liveSchedule"]["errors"] == []


def _create(client: Client, boss: Any, **overrides: Any) -> dict[str, Any]:
    variables = {"live": "l1", "id": "spend200", "kind": "fixed", "value": "50", "cur": "CNY", "min": "200"}
    return gql(client, CREATE, boss, **{**variables, **overrides})["data"]["liveCouponCreate"]


def _order(order_id: str, customer: str, amount: str, coupon: dict[str, str] | None) -> None:
    at = timezone.now().isoformat()
    processing.submit({"id": f"c-{order_id}", "type": "order.created", "at": at, "order": order_id,
                       "customer": customer, "channel": "default", "currency": "CNY",
                       "lines": [{"line": "1", "product": "p-dress", "amount": amount}],
                       **({"coupon": coupon} if coupon else {})})
    processing.submit({"id": f"p-{order_id}", "type": "order.paid", "at": at, "order": order_id})


def test_a_coupon_is_valid_only_while_its_live_is_on_air_and_attributes_orders_to_the_codes_distributor() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    join(client, amy)
    _schedule(client, boss)
    created = _create(client, boss)
    assert created == {"errors": [], "coupon": {"id": "spend200", "live": "l1", "kind": "fixed", "value": "50",
                                                "currency": "CNY", "minSpent": "200"}}
    codes = gql(client, MY_CODES, amy, live="l1")["data"]["me"]["couponCodes"]
    assert len(codes) == 1 and codes[0]["coupon"] == {"id": "spend200"}
    code = codes[0]["code"]
    assert gql(client, MY_CODES, amy, live="l1")["data"]["me"]["couponCodes"][0]["code"] == code  # one per person
    voucher = SandboxVoucher.objects.get()
    assert voucher.codes == [code] and voucher.start_date is None  # the store's voucher: not valid yet

    before = gql(client, CHECK, code=code)["data"]["liveCouponCheck"]
    assert before["valid"] is False
    assert f"coupon {code} (Spend 200, save 50) can only be used while the live 'Autumn dresses' is on air; " \
           "it has not started yet (scheduled for" in before["message"]
    with pytest.raises(CouponRefused, match="has not started yet"):
        SandboxVouchers.redeem(code, Decimal("250.00"), "CNY")

    gql(client, START, boss, id="l1")
    assert SandboxVoucher.objects.get().start_date is not None
    assert SandboxVouchers.redeem(code, Decimal("250.00"), "CNY") == Decimal("50.00")
    short = gql(client, CHECK, code=code, sub="150.00", cur="CNY")["data"]["liveCouponCheck"]
    assert short == {"valid": False, "discount": None, "message": f"coupon {code} (Spend 200, save 50) needs a "
                     "subtotal of at least 200 CNY; this one is 150.00 CNY"}
    with pytest.raises(CouponRefused, match="at least 200 CNY"):
        SandboxVouchers.redeem(code, Decimal("150.00"), "CNY")
    ok = gql(client, CHECK, code=code, sub="250.00", cur="CNY")["data"]["liveCouponCheck"]
    assert (ok["valid"], ok["discount"]) == (True, "50.00")

    # a buyer who never clicked anything orders with amy's code during the live: the order is amy's
    _order("o1", "visitor:" + "c" * 24, "200.00", {"code": code, "live": "l1", "distributor": "user:%d" % amy.pk})
    entry = LedgerEntry.objects.get(order="o1")
    assert entry.beneficiary == "user:%d" % amy.pk and entry.amount > 0
    assert Binding.objects.get(identity="visitor:" + "c" * 24).via == "coupon"

    gql(client, END, boss, id="l1")
    after = gql(client, CHECK, code=code)["data"]["liveCouponCheck"]
    assert after["valid"] is False and "could only be used while the live 'Autumn dresses' was on air; " \
                                      "the live ended at" in after["message"]
    with pytest.raises(CouponRefused, match="the live ended at"):
        SandboxVouchers.redeem(code, Decimal("250.00"), "CNY")
    assert gql(client, CHECK, code="NOPE-123")["data"]["liveCouponCheck"] == {
        "valid": False, "discount": None, "message": "'NOPE-123' is not a live coupon code"}


def test_coupon_input_is_checked_and_creating_is_for_staff() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    _schedule(client, boss)
    assert _create(client, amy)["errors"][0]["code"] == "PERMISSION_DENIED"
    bad = {
        "kind": ({"kind": "bogo"}, "kind"), "percent": ({"kind": "percent", "value": "120", "min": None}, "value"),
        "zero": ({"value": "0"}, "value"), "cents": ({"value": "0.001"}, "value"),
        "currency": ({"cur": "yuan"}, "currency"), "floor": ({"min": "30"}, "minSpent"),
        "live": ({"live": "nope"}, "live"),
    }
    for name, (overrides, field) in bad.items():
        errors = _create(client, boss, **overrides)["errors"]
        assert [e["field"] for e in errors] == [field], (name, errors)
        assert errors[0]["message"], name
    assert not SandboxVoucher.objects.exists()  # nothing half-made
    assert _create(client, boss)["errors"] == []
    assert _create(client, boss)["errors"][0]["code"] == "UNIQUE"
    gql(client, START, boss, id="l1")
    gql(client, END, boss, id="l1")
    assert _create(client, boss, id="late")["errors"][0]["code"] == "INVALID_STATE"


def test_invited_viewers_are_issued_their_distributors_code_when_the_live_starts() -> None:
    client, boss, amy, ben, cai = Client(), staff(), user("amy"), user("ben"), user("cai")
    join(client, amy)
    join(client, ben)
    _schedule(client, boss)
    _create(client, boss, kind="percent", value="10", min=None)
    viewers = {"visitor:" + "a" * 24: amy, "visitor:" + "b" * 24: ben, "user:%d" % cai.pk: amy}
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    for n, (viewer, distributor) in enumerate(viewers.items()):
        processing.submit({"id": f"k{n}", "type": "link.clicked", "at": at, "distributor": "user:%d" % distributor.pk,
                           "visitor": viewer, "target": {"live": "l1"}})
    gql(client, START, boss, id="l1")
    issued = {i.person: i.code.distributor for i in LiveCouponIssue.objects.select_related("code")}
    assert issued == {viewer: "user:%d" % d.pk for viewer, d in viewers.items()}
    anonymous = Client(HTTP_X_LIVEDIST_VISITOR=sign_visitor("visitor:" + "b" * 24))
    mine = gql(anonymous, ISSUED, live="l1")["data"]["myLiveCoupons"]
    ben_code = LiveCouponIssue.objects.get(person="visitor:" + "b" * 24).code_id
    assert mine == [{"code": ben_code, "coupon": {"title": "Spend 200, save 50"}}]
    assert gql(Client(), ISSUED, live="l1")["data"]["myLiveCoupons"] == []  # nobody: nothing
    cai_code = LiveCouponIssue.objects.get(person__startswith="user:").code_id
    reminder = [m for m in mail.outbox if m.to == ["cai@example.com"]]
    assert len(reminder) == 1 and cai_code in reminder[0].body  # the reminder carries the code
    late = "visitor:" + "d" * 24  # invited during the live: issued when they ask
    processing.submit({"id": "k9", "type": "link.clicked", "at": timezone.now().isoformat(),
                       "distributor": "user:%d" % ben.pk, "visitor": late, "target": {"live": "l1"}})
    assert gql(Client(HTTP_X_LIVEDIST_VISITOR=sign_visitor(late)), ISSUED, live="l1")["data"]["myLiveCoupons"] == [
        {"code": ben_code, "coupon": {"title": "Spend 200, save 50"}}]
