"""Points redemption and first-order coupons inside a real Saleor: points buy a single-use Saleor voucher (listed
in the channel, the rules' value off) that Saleor's own checkout accepts, or a Saleor gift card assigned to the
distributor that Saleor accepts on their checkout only; the same request id is the same voucher; a voucher Saleor
cannot make spends no points. A new visitor's click on a share link makes one first-order Saleor voucher with the
rules' minimum spend, which Saleor's checkout applies.

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .test_coupons_contract import add_promo_code

REDEMPTION_RULES = """schema: livedist/v1
redemption:
  rate: {points: 10, value: "1.00", currency: USD}
  minimum: 50
invite_coupon:
  kind: fixed
  value: "3.00"
  currency: USD
  min_spent: "10.00"
  channel: {channel}
"""


@pytest.fixture
def usd_redemption(livedist: Any, settings: Any, tmp_path: Path) -> None:
    """The default rules, with points worth 1.00 USD per 10 and first-order coupons of 3.00 USD in Saleor's test
    channel (it sells in USD)."""
    from saleor_livedist.inbox import processing
    from saleor_livedist.rules.loader import default_rules_dir

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    text = (rules / "tasks.yaml").read_text(encoding="utf-8")
    (rules / "tasks.yaml").write_text(text[:text.index("\nredemption:")] + "\n", encoding="utf-8")  # and invite_coupon
    (rules / "redemption.yaml").write_text(REDEMPTION_RULES.replace("{channel}", settings.DEFAULT_CHANNEL_SLUG),
                                           encoding="utf-8")
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules)}
    processing.reset_rules_source()


def points_for(distributor: str, points: int) -> None:
    from django.utils import timezone

    from saleor_livedist.models import PointsGrant

    PointsGrant.objects.create(key=f"{distributor}:contract", beneficiary=distributor, points=points, reason="task",
                               rule_ids=["invite-watcher"], rules_version="contract", at=timezone.now())


def test_points_buy_a_single_use_saleor_voucher_that_saleors_checkout_accepts(
        usd_redemption: None, distributor: str, api_client: Any, checkout_with_item: Any) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.distribution import redemption
    from saleor_livedist.live_room.coupons import voucher_port
    from saleor_livedist.saleor.vouchers import SaleorVouchers

    assert isinstance(voucher_port(), SaleorVouchers)
    points_for(distributor, 120)
    assert redemption.redemption_options(distributor).max_points == 120
    channel = checkout_with_item.channel
    made = redemption.redeem(distributor, "r-1", 50, "voucher", channel=channel.slug)
    assert (made.status, made.value, made.currency) == ("issued", Decimal(5), "USD")

    voucher = Voucher.objects.get(pk=int(made.store_id))
    assert [c.code for c in voucher.codes.all()] == [made.code]
    assert (voucher.type, voucher.usage_limit, voucher.single_use, voucher.end_date) == (
        "entire_order", 1, True, made.valid_until)
    listing = voucher.channel_listings.get()
    assert (listing.channel_id, listing.discount_value, listing.currency) == (channel.pk, Decimal(5), "USD")

    added = add_promo_code(api_client, checkout_with_item, made.code)  # Saleor's own checkout takes it
    assert added["errors"] == [] and added["checkout"]["discount"]["amount"] == 5.0

    again = redemption.redeem(distributor, "r-1", 50, "voucher", channel=channel.slug)
    assert (again.pk, again.code) == (made.pk, made.code)
    assert Voucher.objects.filter(metadata__livedist_grant=f"redemption:{made.pk}").count() == 1
    assert redemption.points_balance(distributor) == 70


def test_points_buy_a_saleor_gift_card_only_the_distributor_can_use(
        usd_redemption: None, customer_user: Any, user_api_client: Any, staff_api_client: Any,
        checkout_with_item: Any, staff_user: Any) -> None:
    from saleor.checkout.models import Checkout
    from saleor.giftcard import GiftCardEvents
    from saleor.giftcard.models import GiftCard

    from saleor_livedist.distribution import redemption
    from saleor_livedist.distribution.services import become_distributor
    from saleor_livedist.identity import of_user

    amy = become_distributor(of_user(customer_user), consent=True).id
    points_for(amy, 100)
    made = redemption.redeem(amy, "card-1", 80, "gift_card")
    card = GiftCard.objects.get(code=made.code)
    assert (card.initial_balance_amount, card.current_balance_amount, card.currency, card.is_active) == (
        Decimal(8), Decimal(8), "USD", True)
    assert card.assigned_to_id == customer_user.pk and card.expiry_date == made.valid_until.date()
    assert list(card.events.values_list("type", flat=True)) == [GiftCardEvents.ISSUED]

    checkout_with_item.user, checkout_with_item.email = customer_user, customer_user.email
    checkout_with_item.save(update_fields=["user", "email"])
    added = add_promo_code(user_api_client, checkout_with_item, made.code)
    assert added["errors"] == []
    assert list(Checkout.objects.get(pk=checkout_with_item.pk).gift_cards.values_list("code", flat=True)) == [
        made.code]

    checkout_with_item.gift_cards.clear()  # someone else's checkout: Saleor refuses the card
    checkout_with_item.user, checkout_with_item.email = staff_user, staff_user.email
    checkout_with_item.save(update_fields=["user", "email"])
    refused = add_promo_code(staff_api_client, checkout_with_item, made.code)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("promoCode", "INVALID")]
    assert redemption.points_balance(amy) == 20

def test_a_voucher_saleor_cannot_make_spends_no_points(usd_redemption: None, distributor: str) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.distribution import redemption
    from saleor_livedist.exceptions import ServiceError
    from saleor_livedist.models import PointsRedemption

    points_for(distributor, 100)
    with pytest.raises(ServiceError) as failed:
        redemption.redeem(distributor, "r-1", 50, "voucher", channel="no-such-channel")
    assert failed.value.code == "STORE_FAILED" and "'no-such-channel' is not a Saleor channel" in failed.value.message
    assert PointsRedemption.objects.get().status == "failed"
    assert not Voucher.objects.filter(metadata__has_key="livedist_grant").exists()
    assert redemption.points_balance(distributor) == 100


def test_a_new_visitors_click_makes_one_first_order_saleor_voucher_saleor_applies(
        usd_redemption: None, client: Any, api_client: Any, share_token: str, checkout_with_item: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.distribution.links import VISITOR_COOKIE, read_visitor
    from saleor_livedist.models import FirstOrderCoupon

    from .test_contract import PLUGIN_URL

    with django_capture_on_commit_callbacks(execute=True):  # the click's commit: the voucher is made after it
        click = client.get(f"{PLUGIN_URL}/click/{share_token}")
    assert click.status_code == 302, click.content
    visitor = read_visitor(click.cookies[VISITOR_COOKIE].value)
    coupon = FirstOrderCoupon.objects.get(person=visitor)
    assert coupon.status == "issued", coupon.error
    voucher = Voucher.objects.get(pk=int(coupon.store_id))
    assert (voucher.usage_limit, voucher.single_use, voucher.end_date) == (1, True, coupon.valid_until)
    listing = voucher.channel_listings.get()
    assert (listing.channel_id, listing.discount_value, listing.min_spent_amount) == (
        checkout_with_item.channel_id, Decimal(3), Decimal(10))
    assert client.get(f"{PLUGIN_URL}/click/{share_token}").status_code == 302  # clicking again: no second one
    assert Voucher.objects.filter(metadata__livedist_grant=f"first-order:{visitor}").count() == 1

    added = add_promo_code(api_client, checkout_with_item, coupon.code)  # 3 items of the fixture's product
    assert added["errors"] == [] and added["checkout"]["discount"]["amount"] == 3.0
