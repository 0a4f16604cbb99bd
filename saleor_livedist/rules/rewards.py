"""The reward sections the schema alone cannot check: `redemption` (what points buy) and `invite_coupon` (the
first-order coupon of an invited customer). Codes LD220-LD229 (docs/rules.md)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core.money import minor_unit, quantum
from .model import InviteCoupon, Redemption
from .yamldoc import Document


def build_redemption(doc: Document, raw: dict[str, Any]) -> Redemption | None:
    rate = raw["rate"]
    step, value, currency = int(rate["points"]), Decimal(str(rate["value"])), rate["currency"]
    ok = True
    if value <= 0:
        doc.report(("redemption", "rate", "value"), "LD220", "redemption.rate.value must be more than 0, got "
                   f"{rate['value']}: points would buy nothing", f"e.g. value: \"1.00\" for {step} points")
        ok = False
    elif value != value.quantize(quantum(currency)):
        doc.report(("redemption", "rate", "value"), "LD221", f"redemption.rate.value {rate['value']} has more "
                   f"decimals than {currency} allows ({minor_unit(currency)})",
                   f"raise rate.points so that the value is whole in {currency}'s smallest unit")
        ok = False
    minimum = int(raw.get("minimum", step))
    if minimum % step:
        doc.report(("redemption", "minimum"), "LD222", f"redemption.minimum is {minimum}, not a multiple of "
                   f"redemption.rate.points ({step}): a redemption spends whole multiples of rate.points",
                   f"set minimum to {max(step, minimum - minimum % step)} or {minimum - minimum % step + step}")
        ok = False
    if not ok:
        return None
    return Redemption(points=step, value=value, currency=currency, minimum=minimum,
                      kinds=tuple(dict.fromkeys(raw.get("kinds", Redemption.kinds))),
                      valid_days=int(raw.get("valid_days", Redemption.valid_days)),
                      channel=raw.get("channel", Redemption.channel))


def build_invite_coupon(doc: Document, raw: dict[str, Any]) -> InviteCoupon | None:
    kind, currency = raw["kind"], raw["currency"]
    value = Decimal(str(raw["value"]))
    floor = Decimal(str(raw["min_spent"])) if "min_spent" in raw else None
    path = ("invite_coupon", "value")
    if value <= 0 or (kind == "percent" and value > 100):
        doc.report(path, "LD223", f"invite_coupon.value must be more than 0{' and at most 100' if kind == 'percent' else ''}"
                   f" ({'percent off' if kind == 'percent' else currency + ' off'}), got {raw['value']}",
                   "e.g. value: 10 (10% off)" if kind == "percent" else f"e.g. value: \"10.00\" (10.00 {currency} off)")
        return None
    if kind == "fixed" and value != value.quantize(quantum(currency)):
        doc.report(path, "LD221", f"invite_coupon.value {raw['value']} has more decimals than {currency} allows "
                   f"({minor_unit(currency)})", f"round it to {value.quantize(quantum(currency))}")
        return None
    if kind == "fixed" and floor is not None and floor < value:
        doc.report(("invite_coupon", "min_spent"), "LD224", f"invite_coupon.min_spent ({raw['min_spent']} "
                   f"{currency}) is less than the amount off ({raw['value']} {currency})",
                   "raise min_spent to at least the amount off, or remove it")
        return None
    return InviteCoupon(kind=kind, value=value, currency=currency, min_spent=floor,
                        valid_days=int(raw.get("valid_days", InviteCoupon.valid_days)),
                        channel=raw.get("channel", InviteCoupon.channel))
