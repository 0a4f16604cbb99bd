"""Live coupons inside Saleor: the voucher port (coupons.VoucherPort) on Saleor's own models. Each coupon is
one Saleor voucher for the entire order, listed in the live's channel with the amount or percent off and the
minimum spend, with one VoucherCode per distributor code. Saleor's checkout accepts a code only between the
voucher's start_date and end_date, so the port keeps that window on the live: not valid before the live
starts (start_date far in the future), valid from the second it starts, and until the second it ends.

Rewards for one person (points redeemed, an invited customer's first-order coupon) are a single-use Saleor
voucher with one code, or a Saleor gift card assigned to the person's account; both carry the grant's key in
their metadata (`livedist_grant`), so asking again with the same key returns the one made before."""
from __future__ import annotations

from datetime import UTC, datetime, timezone

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from saleor.channel.models import Channel
from saleor.core.utils.promo_code import generate_promo_code
from saleor.discount import DiscountValueType, VoucherType
from saleor.discount.models import Voucher, VoucherChannelListing, VoucherCode
from saleor.giftcard.events import gift_card_issued_event
from saleor.giftcard.models import GiftCard

from ..exceptions import ServiceError
from ..identity import user_pk
from ..live_room.coupons import Granted, StoreGrant, use_store_vouchers
from ..models import LiveCoupon

GRANT_KEY = "livedist_grant"

NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)  # start_date of a coupon whose live has not started
KIND = {LiveCoupon.FIXED: DiscountValueType.FIXED, LiveCoupon.PERCENT: DiscountValueType.PERCENTAGE}


class SaleorVouchers:
    def create(self, coupon: LiveCoupon, channel: str) -> str:
        listed = _channel(channel, coupon.currency if coupon.kind == LiveCoupon.FIXED else None, "live", _(
            "the live's channel %(channel)r is not a Saleor channel: set the live's channel to the slug of the "
            "channel it sells in"))
        with transaction.atomic():
            voucher = Voucher.objects.create(
                type=VoucherType.ENTIRE_ORDER, name=f"{coupon.title} (live {coupon.live_id} only)",
                discount_value_type=KIND[coupon.kind], start_date=NOT_YET, end_date=None,
                metadata={"livedist_coupon": coupon.id, "livedist_live": coupon.live_id})
            VoucherChannelListing.objects.create(
                voucher=voucher, channel=listed, discount_value=coupon.value, currency=listed.currency_code,
                min_spent_amount=coupon.min_spent)
        return str(voucher.pk)

    def add_codes(self, coupon: LiveCoupon, codes: list[str]) -> None:
        VoucherCode.objects.bulk_create([VoucherCode(voucher_id=int(coupon.voucher), code=code) for code in codes])

    def set_window(self, coupon: LiveCoupon, start: datetime | None, end: datetime | None) -> None:
        Voucher.objects.filter(pk=int(coupon.voucher)).update(start_date=start or NOT_YET, end_date=end)


    def grant_voucher(self, grant: StoreGrant) -> Granted:
        with transaction.atomic():
            existing = Voucher.objects.select_for_update().filter(metadata__contains={GRANT_KEY: grant.key}).first()
            if existing is not None:
                return Granted(str(existing.pk), existing.codes.get().code)
            listed = _channel(grant.channel, None if grant.percent else grant.currency, "channel", _(
                "%(channel)r is not a Saleor channel: give the slug of the channel the voucher is for"))
            voucher = Voucher.objects.create(
                type=VoucherType.ENTIRE_ORDER, name=grant.title, start_date=datetime.now(UTC),
                end_date=grant.valid_until, usage_limit=1, single_use=True,
                discount_value_type=DiscountValueType.PERCENTAGE if grant.percent else DiscountValueType.FIXED,
                metadata={GRANT_KEY: grant.key}, private_metadata={"livedist_person": grant.person})
            VoucherChannelListing.objects.create(
                voucher=voucher, channel=listed, discount_value=grant.value, currency=listed.currency_code,
                min_spent_amount=grant.min_spent)
            code = VoucherCode.objects.create(voucher=voucher, code=generate_promo_code())
        return Granted(str(voucher.pk), code.code)

    def grant_gift_card(self, grant: StoreGrant) -> Granted:
        with transaction.atomic():
            existing = GiftCard.objects.select_for_update().filter(metadata__contains={GRANT_KEY: grant.key}).first()
            if existing is not None:
                return Granted(str(existing.pk), existing.code)
            pk = user_pk(grant.person)
            owner = get_user_model().objects.filter(pk=pk).first() if pk and pk.isdigit() else None
            card = GiftCard.objects.create(
                code=generate_promo_code(), currency=grant.currency, initial_balance_amount=grant.value,
                current_balance_amount=grant.value, is_active=True, assigned_to=owner,
                assigned_to_email=owner.email if owner is not None else None,
                expiry_date=grant.valid_until.date() if grant.valid_until else None,
                metadata={GRANT_KEY: grant.key})
            gift_card_issued_event(card, user=None, app=None)
        return Granted(str(card.pk), card.code)


def _channel(slug: str, currency: str | None, field: str, unknown: str) -> Channel:
    """The Saleor channel `slug`, selling in `currency` (if given); a ServiceError naming `field` otherwise."""
    listed = Channel.objects.filter(slug=slug).first()
    if listed is None:
        raise ServiceError(field, "INVALID", unknown % {"channel": slug})
    if currency is not None and listed.currency_code != currency:
        raise ServiceError("currency", "INVALID", _("channel %(channel)s sells in %(sells)s, not %(currency)s") % {
            "channel": slug, "sells": listed.currency_code, "currency": currency})
    return listed


def use_saleor_vouchers() -> None:
    """Live coupons are Saleor vouchers from now on (AppConfig.ready, when Saleor's discounts are installed)."""
    use_store_vouchers(SaleorVouchers)
