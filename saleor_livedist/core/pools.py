"""Pool bonuses (分红奖): a period's pool, a percent of its GMV, shared among the distributors of a rank by their
share of the period's sales. Plain arithmetic on Decimal, without Django: who sold what comes in, shares go out.

Rounding: the pool is `GMV x percent / 100`, rounded half up to the currency's minor unit (as a commission). Each
share is `pool x weight / total weight` rounded down to the minor unit; the minor units left over (fewer than the
number of sharers) go one each to the largest remainders cut off, ties to the larger weight, then to the identity
that sorts first. So the shares add up to the pool exactly, and nobody gets more than one minor unit above their
exact share.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from .money import percent_of, quantum

ZERO = Decimal(0)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


@dataclass(frozen=True)
class Period:
    """[start, end) in the pool's time zone; `key` names it: 2026-11 (a month) or 2026-W48 (an ISO week)."""

    key: str
    start: datetime
    end: datetime


def period_of(kind: str, at: datetime, time_zone: str) -> Period:
    """The period of `kind` (month or week) that contains `at`."""
    local = at.astimezone(ZoneInfo(time_zone))
    if kind == "month":
        return parse_period(kind, f"{local.year:04d}-{local.month:02d}", time_zone)
    year, week, _ = local.isocalendar()
    return parse_period(kind, f"{year:04d}-W{week:02d}", time_zone)


def previous(kind: str, period: Period, time_zone: str) -> Period:
    return period_of(kind, period.start - timedelta(days=1), time_zone)


def parse_period(kind: str, key: str, time_zone: str) -> Period:
    """A period from its key; ValueError naming the expected form if the key is not one."""
    zone = ZoneInfo(time_zone)
    if kind == "month":
        found = _MONTH.fullmatch(key)
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"a monthly pool's period is written YYYY-MM, e.g. 2026-11; got {key!r}")
        year, month = int(found[1]), int(found[2])
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return Period(key, start, end)
    found = _WEEK.fullmatch(key)
    if not found:
        raise ValueError(f"a weekly pool's period is written YYYY-Www (ISO week), e.g. 2026-W48; got {key!r}")
    try:
        monday = datetime.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise ValueError(f"{key!r} is not an ISO week") from None
    start = monday.replace(tzinfo=zone)
    end = (monday + timedelta(days=7)).replace(tzinfo=zone)
    return Period(key, start, end)


@dataclass(frozen=True)
class Sale:
    """What one paid order of the period counts: the amount the customer kept, and the seller (None: nobody's)."""

    currency: str
    kept: Decimal
    seller: str | None


def weights(sales: Iterable[Sale], uplines: Mapping[str, str | None], team_levels: int | None
            ) -> dict[str, dict[str, Decimal]]:
    """Per currency, each distributor's sales: their own (team_levels None), or their team's, which is their own
    plus those of their downline up to team_levels - 1 levels below them (the levels a commission may reach)."""
    out: dict[str, dict[str, Decimal]] = {}
    for sale in sales:
        if sale.seller is None or sale.kept <= ZERO:
            continue
        by_person = out.setdefault(sale.currency, {})
        who: str | None = sale.seller
        seen: set[str] = set()
        for _ in range(team_levels or 1):
            if who is None or who in seen:
                break
            seen.add(who)
            by_person[who] = by_person.get(who, ZERO) + sale.kept
            who = uplines.get(who)
    return out


def pool_amount(gmv: Decimal, percent: Decimal, currency: str) -> Decimal:
    return percent_of(gmv, percent, currency)


def split(pool: Decimal, shares_by: Mapping[str, Decimal], currency: str) -> dict[str, Decimal]:
    """`pool` shared in proportion to the weights (those above zero), to the minor unit, adding up exactly."""
    weighted = {who: w for who, w in shares_by.items() if w > ZERO}
    total = sum(weighted.values(), ZERO)
    if pool <= ZERO or total <= ZERO:
        return {}
    unit = quantum(currency)
    exact = {who: pool * w / total for who, w in weighted.items()}
    out = {who: value.quantize(unit, rounding=ROUND_DOWN) for who, value in exact.items()}
    left = int((pool - sum(out.values(), ZERO)) / unit)
    by_remainder = sorted(weighted, key=lambda who: (-(exact[who] - out[who]), -weighted[who], who))
    for who in by_remainder[:left]:
        out[who] += unit
    return {who: amount for who, amount in out.items() if amount > ZERO}
