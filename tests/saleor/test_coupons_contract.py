"""Live coupons inside a real Saleor: the coupon is a Saleor voucher made through Saleor's models, Saleor's own
checkout refuses its code before the live starts and after it ends, a distributor's code attributes the order
to them without any click, and where Saleor does not look at the dates again (a retried payment) the plugin
stops checkoutComplete with the reason.

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from saleor_livedist.models import Binding, LedgerEntry

from .test_contract import CHECKOUT_COMPLETE, PLUGIN_URL, gid, handed_off, pay_with_dummy_gateway, place_order

ADD_PROMO_CODE = """
mutation AddPromoCode($id: ID!, $code: String!) {
  checkoutAddPromoCode(id: $id, promoCode: $code) { checkout { discount { amount } } errors { field code message } }
}
"""
CHECK = 'query($code: String!) { liveCouponCheck(code: $code) { valid message } }'


def live_with_coupon(channel: Any, distributor: str, min_spent: str | None = None) -> tuple[Any, str]:
    """A scheduled live in the checkout's channel with a 5-off coupon, and the distributor's code of it."""
    from django.utils import timezone

    from saleor_livedist.live_room import coupons, lives

    lives.schedule_live("live-c", "Contract live", timezone.now() + timedelta(hours=1), [], channel=channel.slug)
    coupon = coupons.create_coupon("live-c", "five-off", "5 off", "fixed", "5", channel.currency_code,
                                   min_spent=min_spent)
    return coupon, coupons.code_for(coupon, distributor).code


def add_promo_code(api_client: Any, checkout: Any, code: str) -> dict[str, Any]:
    response = api_client.post_graphql(ADD_PROMO_CODE, {"id": gid("Checkout", checkout.pk), "code": code})
    assert response.status_code == 200, response.content
    return response.json()["data"]["checkoutAddPromoCode"]


def check(client: Any, code: str) -> dict[str, Any]:
    response = client.post(f"{PLUGIN_URL}/graphql/", {"query": CHECK, "variables": {"code": code}},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["data"]["liveCouponCheck"]


def test_a_live_coupon_is_a_saleor_voucher_valid_only_on_air_and_its_code_pays_the_distributor(
        livedist: Any, api_client: Any, client: Any, checkout_ready_to_complete: Any, distributor: str) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.live_room import lifecycle
    from saleor_livedist.live_room.coupons import voucher_port
    from saleor_livedist.saleor.vouchers import NOT_YET, SaleorVouchers

    checkout = checkout_ready_to_complete
    assert isinstance(voucher_port(), SaleorVouchers)  # inside Saleor, Saleor's vouchers
    coupon, code = live_with_coupon(checkout.channel, distributor)
    voucher = Voucher.objects.get(pk=int(coupon.voucher))
    assert [c.code for c in voucher.codes.all()] == [code]
    listing = voucher.channel_listings.get()
    assert (listing.channel_id, listing.discount_value, voucher.type) == (checkout.channel_id, Decimal(5),
                                                                         "entire_order")
    assert voucher.start_date == NOT_YET

    before = add_promo_code(api_client, checkout, code)  # Saleor itself refuses it before the live
    assert [(e["field"], e["code"]) for e in before["errors"]] == [("promoCode", "INVALID")]
    assert "has not started yet" in check(client, code)["message"]  # and the plugin says why

    live = lifecycle.start_live("live-c")
    voucher.refresh_from_db()
    assert voucher.start_date == live.actual_start
    added = add_promo_code(api_client, checkout, code)
    assert added["errors"] == [] and added["checkout"]["discount"]["amount"] == 5.0
    assert check(client, code)["valid"] is True

    order = place_order(api_client, checkout)  # no share token, no click: only the code
    assert order.voucher_code == code
    created = handed_off(f"saleor:order:{order.pk}:created")
    assert created.payload["coupon"] == {"code": code, "live": "live-c", "distributor": distributor}
    handed_off(f"saleor:order:{order.pk}:paid")
    [entry] = LedgerEntry.objects.filter(order=str(order.pk), beneficiary=distributor)
    assert (entry.level, entry.kind, entry.status) == (1, "commission", "pending") and entry.amount > 0
    assert Binding.objects.get(identity=f"guest:{order.user_email.lower()}").via == "coupon"

    ended = lifecycle.end_live("live-c")
    voucher.refresh_from_db()
    assert voucher.end_date == ended.actual_end
    assert "the live ended at" in check(client, code)["message"]


def test_after_the_live_saleor_refuses_the_code_and_a_retried_payment_meets_the_plugins_reason(
        livedist: Any, api_client: Any, checkout_ready_to_complete: Any, distributor: str) -> None:
    from saleor.order.models import Order

    from saleor_livedist.live_room import lifecycle

    checkout = checkout_ready_to_complete
    _, code = live_with_coupon(checkout.channel, distributor)
    lifecycle.start_live("live-c")
    assert add_promo_code(api_client, checkout, code)["errors"] == []
    lifecycle.end_live("live-c")

    pay_with_dummy_gateway(checkout)
    # Saleor skips its own date check once a payment attempt counted the voucher (it leaves this flag set when
    # the payment fails): the plugin's preprocess_order_creation is what stops the order then.
    checkout.is_voucher_usage_increased = True
    checkout.save(update_fields=["is_voucher_usage_increased"])
    response = api_client.post_graphql(CHECKOUT_COMPLETE, {"id": gid("Checkout", checkout.pk)})
    data = response.json()["data"]["checkoutComplete"]
    assert data["order"] is None
    [error] = data["errors"]
    assert (error["field"], error["code"]) == ("promoCode", "VOUCHER_NOT_APPLICABLE")
    assert error["message"].startswith(f"coupon {code} (5 off) could only be used while the live 'Contract live' "
                                       "was on air; the live ended at")
    assert not Order.objects.exists()

    fresh = add_promo_code(api_client, checkout, code)  # and a new attempt: Saleor's own refusal
    assert [(e["field"], e["code"]) for e in fresh["errors"]] == [("promoCode", "INVALID")]
