"""Money arithmetic: Decimal only, rounded once per ledger entry to the currency's minor unit.

Rounding rule: a commission is `net line amount x percent / 100`, rounded half up (away from zero for
negative amounts) to the currency's minor unit. Adjustments after a partial refund are computed as
`round(new net x percent) - what was already booked`, so the entries of a line always add up to exactly
the rounded commission on what the customer kept: no cent is lost or invented between line, entry and balance.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from ..exceptions import EventError

# ISO 4217 currencies whose minor unit is not 2 digits; every other code uses 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
_QUANTS = {digits: Decimal(1).scaleb(-digits) for digits in range(5)}
HUNDRED = Decimal(100)
ZERO = Decimal(0)
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
# Every amount and every commission on it fits the ledger's columns (20 digits, 4 decimals), with room to spare.
MAX_AMOUNT = Decimal(10) ** 12
MAX_AMOUNT_CHARS = 40


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def minor_unit(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return _QUANTS[minor_unit(currency)]


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    # round_money(amount * percent / HUNDRED, currency), inlined: this runs for every ledger entry
    return (amount * percent / HUNDRED).quantize(_QUANTS[_MINOR_UNITS.get(currency, 2)], rounding=ROUND_HALF_UP)


def parse_amount(value: object, currency: str, what: str) -> Decimal:
    """An amount from an event: a string or integer (never a float), not negative, not finer than the minor unit."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise EventError(f"{what} must be a decimal string such as \"12.50\", got {_short(value)}")
    if (abs(value) >= MAX_AMOUNT if isinstance(value, int) else len(str(value)) > MAX_AMOUNT_CHARS):
        raise EventError(f"{what} is too long or too large: amounts are below {MAX_AMOUNT:,}, in at most {MAX_AMOUNT_CHARS} characters")
    if isinstance(value, str) and value.startswith("-") and _AMOUNT.fullmatch(value[1:]):
        raise EventError(f"{what} must be a finite amount >= 0, got {value!r}")
    if isinstance(value, str) and not _AMOUNT.fullmatch(value):
        raise EventError(f"{what} must be digits with an optional decimal part, such as \"12.50\", got {_short(value)}")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise EventError(f"{what} must be a finite amount >= 0, got {_short(value)}")
    if amount >= MAX_AMOUNT:
        raise EventError(f"{what} {value!r} is too large: amounts are below {MAX_AMOUNT:,}")
    if amount != amount.quantize(quantum(currency), rounding=ROUND_HALF_UP):
        raise EventError(f"{what} {value!r} has more decimals than {currency} allows ({minor_unit(currency)})")
    return amount
