"""App mode's ports against the real Saleor over HTTP with an app token (app_server/store_api.py): live coupons
and rewards become the same Saleor vouchers and gift cards as the plugin's port makes on Saleor's models
(saleor/vouchers.py), and the catalogue answers as saleor/catalog.py does."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from saleor_livedist.exceptions import ServiceError
from saleor_livedist.live_room.coupons import StoreGrant
from saleor_livedist.models import LiveCoupon

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_saleor: Any, permission_manage_discounts: Any, permission_manage_gift_card: Any,
        permission_manage_users: Any, permission_manage_products: Any) -> Any:
    """The app's view of Saleor: its API URL and an app token with the permissions App mode's manifest asks."""
    from saleor.app.models import App

    from saleor_livedist.app_server.store_api import SaleorApi

    app = App.objects.create(name="Live + distribution", is_active=True)
    app.permissions.add(permission_manage_discounts, permission_manage_gift_card, permission_manage_users,
                        permission_manage_products)
    _, token = app.tokens.create(name="Default token")
    return SaleorApi(live_saleor.url + "/graphql/", token)


def from_global_id(value: str) -> str:
    """The pk of a global id Saleor's API gave (Saleor's own reading of it)."""
    from saleor.graphql.core.utils import from_global_id_or_none

    return from_global_id_or_none(value, raise_error=True)


def coupon(id: str = "c-10-off") -> LiveCoupon:
    return LiveCoupon(id=id, live_id="L1", title="10 off", kind=LiveCoupon.FIXED, value=Decimal("10"),
                      currency="USD", min_spent=Decimal("50"))


def as_saleor_keeps_it(voucher: Any) -> dict[str, Any]:
    listing = voucher.channel_listings.get()
    return {"type": voucher.type, "name": voucher.name, "value_type": voucher.discount_value_type,
            "start": voucher.start_date, "end": voucher.end_date, "usage_limit": voucher.usage_limit,
            "single_use": voucher.single_use, "channel": listing.channel.slug, "value": listing.discount_value,
            "currency": listing.currency, "min_spent": listing.min_spent_amount,
            "codes": sorted(c.code for c in voucher.codes.all()), "metadata": voucher.metadata,
            "private": voucher.private_metadata}


def test_a_live_coupon_is_the_voucher_the_plugin_makes_with_its_codes_and_window(api: Any, channel_USD: Any) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.app_server.store_api import GraphQLVouchers
    from saleor_livedist.saleor.vouchers import SaleorVouchers

    start, end = datetime(2026, 12, 4, 20, tzinfo=UTC), datetime(2026, 12, 4, 22, tzinfo=UTC)
    made = {}
    for name, port in (("app", GraphQLVouchers(api)), ("plugin", SaleorVouchers())):
        live = coupon(f"c-{name}")
        live.voucher = port.create(live, channel_USD.slug)
        not_yet = as_saleor_keeps_it(Voucher.objects.get(pk=from_global_id(live.voucher)
                                                         if name == "app" else live.voucher))
        port.add_codes(live, [f"{name.upper()}-A", f"{name.upper()}-B"])
        port.set_window(live, start, end)
        made[name] = (not_yet, as_saleor_keeps_it(Voucher.objects.get(
            pk=from_global_id(live.voucher) if name == "app" else live.voucher)))

    (app_before, app_after), (plugin_before, plugin_after) = made["app"], made["plugin"]
    assert app_before["start"] == plugin_before["start"] == datetime(9999, 1, 1, tzinfo=UTC)  # not valid yet
    assert (app_after["start"], app_after["end"]) == (start, end)
    [hidden] = set(app_after["codes"]) - {"APP-A", "APP-B"}  # Saleor's API makes no voucher without a code
    assert len(hidden) == 32 and plugin_after["codes"] == ["PLUGIN-A", "PLUGIN-B"]
    assert app_after["metadata"] == {"livedist_coupon": "c-app", "livedist_live": "L1"}
    ignored = ("codes", "metadata")
    assert {k: v for k, v in app_after.items() if k not in ignored} == \
        {k: v for k, v in plugin_after.items() if k not in ignored}


def test_a_reward_voucher_is_made_once_per_grant_like_the_plugins(api: Any, channel_USD: Any) -> None:
    from saleor.discount.models import Voucher

    from saleor_livedist.app_server.store_api import GraphQLVouchers
    from saleor_livedist.saleor.vouchers import SaleorVouchers

    until = datetime.now(UTC) + timedelta(days=30)
    kept = {}
    for name, port in (("app", GraphQLVouchers(api)), ("plugin", SaleorVouchers())):
        grant = StoreGrant(key=f"redeem-{name}", person="user:7", title="5 off your next order", value=Decimal("5"),
                           currency="USD", channel=channel_USD.slug, valid_until=until)
        first, again = port.grant_voucher(grant), port.grant_voucher(grant)
        assert first == again  # the same voucher and code for the same key
        kept[name] = as_saleor_keeps_it(Voucher.objects.get(
            pk=from_global_id(first.store_id) if name == "app" else first.store_id))
        assert kept[name]["codes"] == [first.code]

    assert Voucher.objects.count() == 2
    assert kept["app"]["metadata"] == {"livedist_grant": "redeem-app"}
    assert kept["app"]["private"] == {"livedist_person": "user:7"}
    ignored = ("codes", "metadata", "start")
    assert {k: v for k, v in kept["app"].items() if k not in ignored} == \
        {k: v for k, v in kept["plugin"].items() if k not in ignored}


def test_a_reward_gift_card_is_assigned_to_the_person_and_made_once(api: Any, customer_user: Any) -> None:
    from saleor.giftcard.models import GiftCard

    from saleor_livedist.app_server.store_api import GraphQLVouchers

    port = GraphQLVouchers(api)
    grant = StoreGrant(key="redeem-card", person=f"user:{customer_user.pk}", title="Points", value=Decimal("20.00"),
                       currency="USD", valid_until=datetime(2027, 6, 30, tzinfo=UTC))
    first = port.grant_gift_card(grant)

    assert port.grant_gift_card(grant) == first
    card = GiftCard.objects.get(pk=from_global_id(first.store_id))
    assert (card.code, card.is_active, card.initial_balance_amount, card.current_balance_amount, card.currency) == (
        first.code, True, Decimal("20.00"), Decimal("20.00"), "USD")
    assert (card.assigned_to, card.expiry_date, card.metadata) == (
        customer_user, datetime(2027, 6, 30).date(), {"livedist_grant": "redeem-card"})


def test_what_saleor_refuses_is_a_service_error_naming_it(api: Any, channel_USD: Any) -> None:
    from saleor_livedist.app_server.store_api import GraphQLVouchers, SaleorApi

    with pytest.raises(ServiceError) as unknown:
        GraphQLVouchers(api).create(coupon(), "no-such-channel")
    assert (unknown.value.field, unknown.value.code) == ("live", "INVALID")
    assert "no-such-channel" in unknown.value.message

    with pytest.raises(ServiceError) as wrong_currency:
        GraphQLVouchers(api).create(LiveCoupon(id="c-eur", live_id="L1", title="t", kind=LiveCoupon.FIXED,
                                               value=Decimal(1), currency="EUR"), channel_USD.slug)
    assert wrong_currency.value.field == "currency"

    with pytest.raises(ServiceError) as refused:  # a token Saleor does not know: its error, not a crash
        GraphQLVouchers(SaleorApi(api.api_url, "not-a-token")).grant_voucher(StoreGrant(
            key="k", person="user:1", title="t", value=Decimal(1), currency="USD", channel=channel_USD.slug))
    assert refused.value.code == "STORE_REFUSED"


def test_the_catalogue_answers_as_the_plugins(api: Any, product: Any) -> None:
    from saleor_livedist.app_server import store_api
    from saleor_livedist.saleor import catalog

    assert store_api.product_exists(product.slug, api) is catalog.product_exists(product.slug) is True
    assert store_api.product_exists("no-such-product", api) is catalog.product_exists("no-such-product") is False
    assert store_api.product_slugs(api=api) == catalog.product_slugs()
