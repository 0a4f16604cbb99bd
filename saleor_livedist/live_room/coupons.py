"""Live-exclusive coupons: valid only while their live is on air, optionally with a minimum spend ("spend 200,
save 50"), one code per distributor so that an order using a code is attributed to that distributor even
without a click, issued to the viewers each distributor invited.

The discount itself is the store's: a voucher created through a port (VoucherPort). Inside Saleor the port
creates a real Saleor voucher through Saleor's models (saleor_livedist.saleor.vouchers, given here when the app
is ready); in the sandbox it writes SandboxVoucher rows. The port opens the voucher when the live starts and closes it when the live ends,
so the store refuses the code outside the window; `check_code` says why in words a shopper understands."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..core.money import quantum
from ..exceptions import ServiceError
from ..models import (
    FirstOrderCoupon, LiveCoupon, LiveCouponCode, LiveCouponIssue, LiveInvitation, LiveSession, SandboxGiftCard, SandboxVoucher,
)
from .lives import locked_before_end

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud on a live
CODE_LENGTH = 6
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")
KINDS = (LiveCoupon.FIXED, LiveCoupon.PERCENT)


@dataclass(frozen=True)
class StoreGrant:
    """A voucher or gift card for one person (points redeemed, an invited customer's first-order coupon), made
    once per `key`: asking again with the same key returns the one made before."""

    key: str
    person: str
    title: str
    value: Decimal  # the amount (or, for a percent voucher, the percent) off; a gift card's balance
    currency: str
    channel: str = ""  # where a voucher is listed (gift cards are not per channel)
    percent: bool = False
    min_spent: Decimal | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Granted:
    store_id: str
    code: str


class VoucherPort(Protocol):
    """The store's vouchers and gift cards, as far as live coupons and rewards need them."""

    def grant_voucher(self, grant: StoreGrant) -> Granted:
        """A single-use voucher with one code for the whole order, valid now until `valid_until`."""

    def grant_gift_card(self, grant: StoreGrant) -> Granted:
        """An active gift card with `value` as its balance, for `person` only where the store can say so."""

    def create(self, coupon: LiveCoupon, channel: str) -> str:
        """A voucher for the coupon, not valid yet; returns its id in the store."""

    def add_codes(self, coupon: LiveCoupon, codes: list[str]) -> None:
        """More codes of the coupon's voucher."""

    def set_window(self, coupon: LiveCoupon, start: datetime | None, end: datetime | None) -> None:
        """Valid from `start` (None: not yet) until `end` (None: open)."""


class SandboxVouchers:
    """The sandbox's vouchers (it has no Saleor): SandboxVoucher rows, checked by `redeem` as a store would."""

    def create(self, coupon: LiveCoupon, channel: str) -> str:
        voucher = SandboxVoucher.objects.create(
            name=coupon.title, kind=coupon.kind, value=coupon.value, currency=coupon.currency, channel=channel,
            min_spent=coupon.min_spent, codes=[], start_date=None, end_date=None)
        return str(voucher.pk)

    def add_codes(self, coupon: LiveCoupon, codes: list[str]) -> None:
        voucher = SandboxVoucher.objects.select_for_update().get(pk=int(coupon.voucher))
        voucher.codes = sorted(set(voucher.codes) | set(codes))
        voucher.save(update_fields=["codes"])

    def set_window(self, coupon: LiveCoupon, start: datetime | None, end: datetime | None) -> None:
        SandboxVoucher.objects.filter(pk=int(coupon.voucher)).update(start_date=start, end_date=end)

    def grant_voucher(self, grant: StoreGrant) -> Granted:
        voucher = SandboxVoucher.objects.filter(grant=grant.key).first()
        if voucher is None:
            code = _grant_code()
            voucher = SandboxVoucher.objects.create(
                name=grant.title, kind=LiveCoupon.PERCENT if grant.percent else LiveCoupon.FIXED, value=grant.value,
                currency=grant.currency, channel=grant.channel, min_spent=grant.min_spent, codes=[code],
                start_date=timezone.now(), end_date=grant.valid_until, grant=grant.key)
        return Granted(str(voucher.pk), voucher.codes[0])

    def grant_gift_card(self, grant: StoreGrant) -> Granted:
        card, _created = SandboxGiftCard.objects.get_or_create(grant=grant.key, defaults={
            "code": _grant_code(), "person": grant.person, "initial_balance": grant.value,
            "current_balance": grant.value, "currency": grant.currency,
            "expiry_date": grant.valid_until.date() if grant.valid_until else None})
        return Granted(str(card.pk), card.code)

    @staticmethod
    def redeem(code: str, subtotal: Decimal, currency: str, at: datetime | None = None) -> Decimal:
        """The discount on a subtotal, as the sandbox's store grants it; raises CouponRefused otherwise (with
        the coupon's own explanation when the code is a live coupon's)."""
        at = at or timezone.now()
        voucher = SandboxVoucher.objects.filter(codes__contains=[code]).first()
        open_now = voucher is not None and voucher.start_date is not None and voucher.start_date <= at and (
            voucher.end_date is None or at < voucher.end_date)
        spent = voucher is not None and (voucher.min_spent is None or subtotal >= voucher.min_spent)
        if voucher is None or not open_now or not spent or currency != voucher.currency:
            result = check_code(code, at, subtotal, currency)
            raise CouponRefused(result.message if not result.valid else f"code {code} cannot be used here")
        return _discount(voucher.kind, voucher.value, subtotal, currency)


class CouponRefused(ServiceError):
    def __init__(self, message: str):
        super().__init__("code", "COUPON_NOT_VALID", message)


_store_vouchers: Callable[[], VoucherPort] | None = None


def use_store_vouchers(factory: Callable[[], VoucherPort]) -> None:
    """Back live coupons with the store's own vouchers from now on (the Saleor adapter calls this when the app
    is ready inside Saleor)."""
    global _store_vouchers
    _store_vouchers = factory


def voucher_port() -> VoucherPort:
    """The store's vouchers where an adapter gave them (Saleor's, inside Saleor), else the sandbox's."""
    return _store_vouchers() if _store_vouchers is not None else SandboxVouchers()


# ---------------------------------------------------------------------- creating and issuing


def create_coupon(live_id: str, coupon_id: str, title: str, kind: str, value: Any, currency: str,
                  min_spent: Any = None, created_by: str = "", port: VoucherPort | None = None) -> LiveCoupon:
    """A coupon for a scheduled live or one on air, backed by a new store voucher (valid from the live's
    start if it is on air already, else from when it starts)."""
    currency = (currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ServiceError("currency", "INVALID", _("currency must be a 3-letter ISO 4217 code, got "
                                                         "%(currency)r") % {"currency": currency})
    if kind not in KINDS:
        raise ServiceError("kind", "INVALID", _("kind must be %(kinds)s, got %(kind)r") % {
            "kinds": " | ".join(KINDS), "kind": kind})
    amount = _decimal(value, "value")
    if amount <= 0 or (kind == LiveCoupon.PERCENT and amount > 100):
        raise ServiceError("value", "INVALID", _("the value must be more than 0 and at most 100 (percent off)")
                           if kind == LiveCoupon.PERCENT else
                           _("the value must be more than 0 (%(currency)s off)") % {"currency": currency})
    if kind == LiveCoupon.FIXED and amount != amount.quantize(quantum(currency)):
        raise ServiceError("value", "INVALID", _("%(amount)s has more decimals than %(currency)s allows") % {
            "amount": amount, "currency": currency})
    floor = None if min_spent in (None, "") else _decimal(min_spent, "minSpent")
    if floor is not None and floor < 0:
        raise ServiceError("minSpent", "INVALID", _("the minimum spend cannot be negative"))
    if floor is not None and kind == LiveCoupon.FIXED and floor < amount:
        raise ServiceError("minSpent", "INVALID", _("the minimum spend (%(floor)s %(currency)s) must be at "
                                                    "least the amount off (%(amount)s %(currency)s)") % {
            "floor": floor, "amount": amount, "currency": currency})
    if not coupon_id or not title:
        raise ServiceError("id" if not coupon_id else "title", "REQUIRED", _("a coupon needs an id and a title"))
    port = port or voucher_port()
    with transaction.atomic():
        live = locked_before_end(live_id, _("a live coupon"))
        if LiveCoupon.objects.filter(id=coupon_id).exists():
            raise ServiceError("id", "UNIQUE", _("a coupon with id %(id)r exists already") % {"id": coupon_id})
        coupon = LiveCoupon(id=coupon_id, live=live, title=title, kind=kind, value=amount, currency=currency,
                            min_spent=floor, created_by=created_by)
        coupon.voucher = port.create(coupon, live.channel)
        coupon.save()
        if live.status == LiveSession.LIVE:
            port.set_window(coupon, live.actual_start, None)
    return coupon


def code_for(coupon: LiveCoupon, distributor: str, port: VoucherPort | None = None,
             code: str | None = None) -> LiveCouponCode:
    """The distributor's code of the coupon, made the first time it is asked for: `code` if given (a code a
    host can read out on air, e.g. BOB50), else a random one."""
    existing = LiveCouponCode.objects.filter(coupon=coupon, distributor=distributor).first()
    if existing is not None:
        if code is not None and existing.code != code.upper():
            raise ServiceError("code", "UNIQUE", _("%(distributor)s has code %(code)s for this coupon "
                                                     "already") % {"distributor": distributor, "code": existing.code})
        return existing
    if code is not None:
        code = code.strip().upper()
        if not CODE_PATTERN.fullmatch(code):
            raise ServiceError("code", "INVALID", _("%(code)r: a code is 3 to 32 letters, digits and '-', "
                                                    "starting with a letter or digit") % {"code": code})
        if LiveCouponCode.objects.filter(code=code).exists():
            raise ServiceError("code", "UNIQUE", _("the code %(code)s is taken") % {"code": code})
    port = port or voucher_port()
    wanted = code
    for _attempt in range(5):
        code = code or _new_code(coupon)
        try:
            with transaction.atomic():
                row = LiveCouponCode.objects.create(code=code, coupon=coupon, distributor=distributor)
                port.add_codes(coupon, [code])
                return row
        except IntegrityError:  # the distributor's code was made meanwhile, or (rarely) the code is taken
            existing = LiveCouponCode.objects.filter(coupon=coupon, distributor=distributor).first()
            if existing is not None:
                return existing
            if wanted is not None:
                raise ServiceError("code", "UNIQUE", _("the code %(code)s is taken") % {"code": wanted}) from None
            code = None
    raise ServiceError("code", "UNAVAILABLE", _("could not make a unique code; try again"))


def first_order_title(row: FirstOrderCoupon) -> str:
    """What a first-order coupon (two-sided invites) gives, in words."""
    off = (_("%(value)s%% off") % {"value": f"{row.value.normalize():f}"} if row.kind == "percent" else
           _("%(value)s %(currency)s off") % {"value": f"{row.value.quantize(quantum(row.currency)):f}",
                                             "currency": row.currency})
    if row.min_spent is None:
        return _("%(off)s your first order") % {"off": off}
    return _("%(off)s your first order of %(floor)s %(currency)s or more") % {
        "off": off, "floor": f"{row.min_spent.quantize(quantum(row.currency)):f}", "currency": row.currency}


def _grant_code() -> str:
    """A code for one person's voucher or gift card: 12 characters, hard to guess, easy to read."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _i in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def _new_code(coupon: LiveCoupon) -> str:
    prefix = "".join(ch for ch in coupon.id.upper() if ch.isalnum())[:8] or "LIVE"
    return prefix + "-" + "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def issue(coupon: LiveCoupon, invitations: Iterable[tuple[str, str]] | None = None,
          port: VoucherPort | None = None) -> int:
    """Hand the coupon to invited viewers: each gets the code of the distributor who invited them (the first
    one, for a viewer several invited). Once per viewer; returns how many were issued now."""
    if invitations is None:
        invitations = LiveInvitation.objects.filter(live=coupon.live_id).order_by("id").values_list(
            "viewer", "distributor")
    first: dict[str, str] = {}
    for viewer, distributor in invitations:
        first.setdefault(viewer, distributor)
    done = set(LiveCouponIssue.objects.filter(coupon=coupon, person__in=list(first)).values_list("person", flat=True))
    codes = {d: code_for(coupon, d, port) for d in {d for v, d in first.items() if v not in done}}
    rows = [LiveCouponIssue(coupon=coupon, person=v, code=codes[d]) for v, d in first.items() if v not in done]
    LiveCouponIssue.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def issue_for_live(live_id: str) -> int:
    """At the live's start (with the reminders): every coupon of the live to everyone invited so far."""
    return sum(issue(coupon) for coupon in LiveCoupon.objects.filter(live_id=live_id))


def coupons_of(person: str, live_id: str) -> list[LiveCouponIssue]:
    """A viewer's coupons for a live, issued now if they were invited and had none yet."""
    invited = list(LiveInvitation.objects.filter(live=live_id, viewer=person).order_by("id").values_list(
        "viewer", "distributor")[:1])
    if invited:
        for coupon in LiveCoupon.objects.filter(live_id=live_id):
            issue(coupon, invited)
    return list(LiveCouponIssue.objects.filter(person=person, coupon__live_id=live_id).select_related(
        "coupon", "code", "coupon__live"))


# ---------------------------------------------------------------------- the window


def open_window(live: LiveSession, port: VoucherPort | None = None) -> None:
    """The live started: its coupons are valid from this second."""
    port = port or voucher_port()
    for coupon in LiveCoupon.objects.filter(live=live):
        port.set_window(coupon, live.actual_start, None)


def close_window(live: LiveSession, port: VoucherPort | None = None) -> None:
    """The live ended: its coupons are no longer valid from this second."""
    port = port or voucher_port()
    for coupon in LiveCoupon.objects.filter(live=live):
        port.set_window(coupon, live.actual_start, live.actual_end)


@dataclass(frozen=True)
class CodeCheck:
    valid: bool
    message: str
    coupon: LiveCoupon | None = None
    distributor: str = ""
    discount: Decimal | None = None  # for the subtotal given


def check_code(code: str, at: datetime | None = None, subtotal: Decimal | None = None,
               currency: str | None = None) -> CodeCheck:
    """Whether a live coupon's code can be used now, and if not why, in the shopper's words."""
    at = at or timezone.now()
    row = LiveCouponCode.objects.filter(code=(code or "").strip().upper()).select_related(
        "coupon", "coupon__live").first()
    if row is None:
        return CodeCheck(False, _("%(code)r is not a live coupon code") % {"code": code})
    coupon, live = row.coupon, row.coupon.live
    words = {"name": _("coupon %(code)s (%(title)s)") % {"code": row.code, "title": coupon.title},
             "live": live.title, "currency": coupon.currency}
    if live.actual_start is None or live.actual_start > at:
        return CodeCheck(False, _("%(name)s can only be used while the live '%(live)s' is on air; it has not started "
                                  "yet (scheduled for %(when)s)") % {**words, "when": _when(live.scheduled_start)},
                         coupon, row.distributor)
    if live.actual_end is not None and live.actual_end <= at:
        return CodeCheck(False, _("%(name)s could only be used while the live '%(live)s' was on air; the live ended "
                                  "at %(when)s") % {**words, "when": _when(live.actual_end)}, coupon, row.distributor)
    if currency is not None and currency.upper() != coupon.currency:
        return CodeCheck(False, _("%(name)s is for orders in %(currency)s, not %(given)s") % {
            **words, "given": currency.upper()}, coupon, row.distributor)
    if subtotal is not None and coupon.min_spent is not None and subtotal < coupon.min_spent:
        return CodeCheck(False, _("%(name)s needs a subtotal of at least %(floor)s %(currency)s; this one is "
                                  "%(subtotal)s %(currency)s") % {
            **words, "floor": f"{coupon.min_spent.normalize():f}", "subtotal": f"{subtotal:f}"}, coupon,
            row.distributor)
    discount = None if subtotal is None else _discount(coupon.kind, coupon.value, subtotal, coupon.currency)
    return CodeCheck(True, _("%(name)s is valid until the live '%(live)s' ends") % words, coupon, row.distributor,
                     discount)


def coupon_of_order(code: str | None) -> dict[str, str] | None:
    """The `coupon` field of an order.created event for an order placed with this code (None if the code is
    not a live coupon's): whose code it is and for which live."""
    if not code:
        return None
    row = LiveCouponCode.objects.filter(code=code.strip().upper()).select_related("coupon").first()
    if row is None:
        return None
    return {"code": row.code, "live": row.coupon.live_id, **({"distributor": row.distributor}
                                                             if row.distributor else {})}


def _discount(kind: str, value: Decimal, subtotal: Decimal, currency: str) -> Decimal:
    from ..core.money import percent_of, round_money

    off = percent_of(subtotal, value, currency) if kind == LiveCoupon.PERCENT else round_money(value, currency)
    return min(off, subtotal)


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(field, "INVALID", _("%(field)s must be a number, got %(value)r") % {
            "field": field, "value": value}) from None
    if not result.is_finite():
        raise ServiceError(field, "INVALID", _("%(field)s must be a number, got %(value)r") % {
            "field": field, "value": value})
    return result


def _when(at: datetime) -> str:
    from ..display import show

    return show(at)
