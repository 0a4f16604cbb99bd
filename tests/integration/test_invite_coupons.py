"""Two-sided invites in the sandbox, on real PostgreSQL: a new customer who arrives through a distributor's link
gets one first-order coupon (a sandbox voucher on the rules' terms) however often they click, sees it in the
API by visitor id and after signing up, finds it in their live reminder, while the distributor is paid for the
order as before; customers who bought already and the distributor themself get none; a store that fails is
tried again."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saleor_livedist.distribution import invite_coupons
from saleor_livedist.distribution.links import VISITOR_COOKIE, read_visitor
from saleor_livedist.identity import of_user
from saleor_livedist.live_room.coupons import SandboxVouchers
from saleor_livedist.models import FirstOrderCoupon, LedgerEntry, SandboxVoucher
from tests.integration.test_api import a_live, gql, join, order, share, user
from tests.integration.test_lives import SCHEDULE, START, staff
from tests.integration.test_redemption import FailingStore

pytestmark = pytest.mark.django_db(transaction=True)

MINE = "{ myFirstOrderCoupon { code title kind value currency minSpent validUntil status } }"


def arrive(link: dict[str, Any], client: Client | None = None) -> tuple[Client, str]:
    """A shopper's browser opens a share link; returns it and its visitor id."""
    client = client or Client()
    response = client.get(link["url"])
    assert response.status_code == 302
    return client, read_visitor(response.cookies[VISITOR_COOKIE].value)


def test_a_new_customer_from_a_link_gets_one_first_order_coupon_and_the_distributor_is_paid() -> None:
    client, amy, bob, ben = Client(), user("amy"), user("bob"), user("ben")
    join(client, amy)
    join(client, bob)
    a_live("L1")
    shopper, visitor = arrive(share(client, amy, "live", "L1"))
    coupon = gql(shopper, MINE)["data"]["myFirstOrderCoupon"]  # anonymous, by the visitor cookie
    until = timezone.datetime.fromisoformat(coupon.pop("validUntil"))
    code = coupon.pop("code")
    assert coupon == {"title": "10.00 CNY off your first order of 99.00 CNY or more", "kind": "fixed",
                      "value": "10.00", "currency": "CNY", "minSpent": "99.00", "status": "issued"}
    assert timedelta(days=13, hours=23) < until - timezone.now() <= timedelta(days=14)
    voucher = SandboxVoucher.objects.get(grant=f"first-order:{visitor}")
    assert voucher.codes == [code] and (voucher.value, voucher.min_spent) == (Decimal(10), Decimal(99))
    assert SandboxVouchers.redeem(code, Decimal("120.00"), "CNY") == Decimal("10.00")  # the store honours it

    arrive(share(client, amy, "product", "p1"), shopper)  # more clicks, even on another distributor's link
    arrive(share(client, bob, "product", "p1"), shopper)
    assert FirstOrderCoupon.objects.count() == 1 and SandboxVoucher.objects.count() == 1
    assert FirstOrderCoupon.objects.get().distributor == of_user(amy)

    order(ben, "o1", "200.00", visitor=visitor)  # checks out signed up as ben: the distributor is paid as ever
    assert list(LedgerEntry.objects.values_list("beneficiary", "amount")) == [(of_user(amy), Decimal("10.00"))]
    assert gql(Client(), MINE, ben)["data"]["myFirstOrderCoupon"]["code"] == code  # stitched: ben's coupon

    _again, later = arrive(share(client, amy, "product", "p2"), Client())  # ben in a new browser, signed out
    assert FirstOrderCoupon.objects.count() == 2  # a fresh visitor id is a new person until it is stitched
    assert later != visitor


def test_customers_who_bought_and_the_distributor_themself_get_no_coupon() -> None:
    client, amy, cy = Client(), user("amy"), user("cy")
    join(client, amy)
    order(cy, "o-old", "50.00")  # cy has bought before
    link = share(client, amy, "product", "p1")
    cy_browser = Client()
    cy_browser.force_login(cy)
    assert cy_browser.get(link["url"]).status_code == 302
    own = Client()
    own.force_login(amy)
    assert own.get(link["url"]).status_code == 302
    assert not FirstOrderCoupon.objects.exists()
    assert gql(Client(), MINE, cy)["data"]["myFirstOrderCoupon"] is None


def test_no_coupon_without_the_rules_section(rules_with: Any) -> None:
    rules_with(tasks="- id: t\n  scope: all\n  qualify: {entered: true}\n  each: {points: 1}")
    client, amy = Client(), user("amy")
    join(client, amy)
    shopper, _visitor = arrive(share(client, amy, "product", "p1"))
    assert gql(shopper, MINE)["data"]["myFirstOrderCoupon"] is None and not FirstOrderCoupon.objects.exists()


def test_a_store_that_fails_is_tried_again_and_the_coupon_is_made_once() -> None:
    client, amy = Client(), user("amy")
    join(client, amy)
    with pytest.MonkeyPatch.context() as patch:  # the store is down while the click commits
        patch.setattr("saleor_livedist.distribution.invite_coupons.voucher_port", FailingStore)
        shopper, visitor = arrive(share(client, amy, "product", "p1"))
    row = FirstOrderCoupon.objects.get()
    assert (row.status, row.code, row.error) == ("failed", "", "ConnectionError: store unreachable")
    assert gql(shopper, MINE)["data"]["myFirstOrderCoupon"]["status"] == "issued"  # asked again: made now
    assert invite_coupons.retry_failed() == 0 and SandboxVoucher.objects.count() == 1
    assert invite_coupons.issue(visitor).code == SandboxVoucher.objects.get().codes[0]


def test_the_live_reminder_carries_the_first_order_coupon() -> None:
    client, boss, amy, ann = Client(), staff(), user("amy"), user("ann")
    join(client, amy)
    gql(client, SCHEDULE, boss, id="l1", start=(timezone.now() + timedelta(hours=1)).isoformat())
    browser = Client()
    browser.force_login(ann)
    assert browser.get(share(client, amy, "live", "l1")["url"]).status_code == 302
    code = FirstOrderCoupon.objects.get(person=of_user(ann)).code
    assert gql(client, START, boss, id="l1")["data"]["liveStart"]["errors"] == []
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert f"Your first-order coupon: {code} (10.00 CNY off your first order of 99.00 CNY or more)" in message.body
