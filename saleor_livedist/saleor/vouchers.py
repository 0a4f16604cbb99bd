"""Live coupons inside Saleor: the voucher port (coupons.VoucherPort) on Saleor's own models. Each coupon is
one Saleor voucher for the entire order, listed in the live's channel with the amount or percent off and the
minimum spend, with one VoucherCode per distributor code. Saleor's checkout accepts a code only between the
voucher's start_date and end_date, so the port keeps that window on the live: not valid before the live
starts (start_date far in the future), valid from the second it starts, and until the second it ends."""
from __future__ import annotations

from datetime import UTC, datetime, timezone

from django.db import transaction
from django.utils.translation import gettext as _
from saleor.channel.models import Channel
from saleor.discount import DiscountValueType, VoucherType
from saleor.discount.models import Voucher, VoucherChannelListing, VoucherCode

from ..exceptions import ServiceError
from ..live_room.coupons import use_store_vouchers
from ..models import LiveCoupon

NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)  # start_date of a coupon whose live has not started
KIND = {LiveCoupon.FIXED: DiscountValueType.FIXED, LiveCoupon.PERCENT: DiscountValueType.PERCENTAGE}


class SaleorVouchers:
    def create(self, coupon: LiveCoupon, channel: str) -> str:
        listed = Channel.objects.filter(slug=channel).first()
        if listed is None:
            raise ServiceError("live", "INVALID", _("the live's channel %(channel)r is not a Saleor channel: set the "
                                                    "live's channel to the slug of the channel it sells in") % {
                "channel": channel})
        if coupon.kind == LiveCoupon.FIXED and listed.currency_code != coupon.currency:
            raise ServiceError("currency", "INVALID", _("channel %(channel)s sells in %(sells)s, not %(currency)s") % {
                "channel": channel, "sells": listed.currency_code, "currency": coupon.currency})
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


def use_saleor_vouchers() -> None:
    """Live coupons are Saleor vouchers from now on (AppConfig.ready, when Saleor's discounts are installed)."""
    use_store_vouchers(SaleorVouchers)
