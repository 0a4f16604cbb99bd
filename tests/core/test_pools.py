"""Pool arithmetic (core.pools): periods, sales weights, and a split that adds up to the pool to the cent."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saleor_livedist.core.pools import Sale, parse_period, period_of, previous, split, weights


def test_a_month_and_an_iso_week_in_the_pools_time_zone() -> None:
    november = parse_period("month", "2026-11", "Asia/Shanghai")
    assert (november.start.isoformat(), november.end.isoformat()) == (
        "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    december = parse_period("month", "2026-12", "UTC")
    assert december.end.isoformat() == "2027-01-01T00:00:00+00:00"
    week = parse_period("week", "2026-W48", "Asia/Shanghai")
    assert (week.start.isoformat(), week.end.isoformat()) == (
        "2026-11-23T00:00:00+08:00", "2026-11-30T00:00:00+08:00")
    # 30 November 23:00 UTC is already 1 December in Shanghai
    assert period_of("month", datetime.fromisoformat("2026-11-30T23:00:00+00:00"), "Asia/Shanghai").key == "2026-12"
    assert period_of("week", datetime.fromisoformat("2026-11-29T23:59:00+08:00"), "Asia/Shanghai").key == "2026-W48"
    assert previous("month", parse_period("month", "2026-01", "UTC"), "UTC").key == "2025-12"
    assert previous("week", parse_period("week", "2027-W01", "UTC"), "UTC").key == "2026-W53"


@pytest.mark.parametrize("kind, key, message", [
    ("month", "2026-13", "a monthly pool's period is written YYYY-MM, e.g. 2026-11; got '2026-13'"),
    ("month", "11/2026", "a monthly pool's period is written YYYY-MM, e.g. 2026-11; got '11/2026'"),
    ("week", "2026-11", "a weekly pool's period is written YYYY-Www (ISO week), e.g. 2026-W48; got '2026-11'"),
    ("week", "2025-W53", "'2025-W53' is not an ISO week"),
])
def test_a_malformed_period_says_how_to_write_it(kind: str, key: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_period(kind, key, "UTC")
    assert str(raised.value) == message


def test_own_sales_and_team_sales_within_the_levels() -> None:
    uplines = {"ann": None, "ben": "ann", "cat": "ben"}
    sales = [Sale("CNY", Decimal("100.00"), "cat"), Sale("CNY", Decimal("40.00"), "ben"),
             Sale("CNY", Decimal("7.00"), None), Sale("USD", Decimal("5.00"), "ann"), Sale("CNY", Decimal(0), "ann")]
    assert weights(sales, uplines, None) == {"CNY": {"cat": Decimal("100.00"), "ben": Decimal("40.00")},
                                             "USD": {"ann": Decimal("5.00")}}
    assert weights(sales, uplines, 2) == {"CNY": {"cat": Decimal("100.00"), "ben": Decimal("140.00"),
                                                  "ann": Decimal("40.00")}, "USD": {"ann": Decimal("5.00")}}
    assert weights(sales, uplines, 3)["CNY"]["ann"] == Decimal("140.00")


def test_the_cents_left_over_go_to_the_largest_remainders() -> None:
    # 10.00 in thirds: 3.33 each and one cent left; equal remainders and weights: the id that sorts first
    assert split(Decimal("10.00"), {"b": Decimal(1), "a": Decimal(1), "c": Decimal(1)}, "CNY") == {
        "a": Decimal("3.34"), "b": Decimal("3.33"), "c": Decimal("3.33")}
    # 1.00 by 2:1 is 0.666.. and 0.333..: the cent goes to the larger remainder (.0066 against .0033)
    assert split(Decimal("1.00"), {"x": Decimal(2), "y": Decimal(1)}, "CNY") == {"x": Decimal("0.67"),
                                                                                  "y": Decimal("0.33")}
    assert split(Decimal("100"), {"x": Decimal(1), "y": Decimal(2)}, "JPY") == {"x": Decimal(33), "y": Decimal(67)}
    assert split(Decimal("0.01"), {"x": Decimal(1), "y": Decimal(1)}, "CNY") == {"x": Decimal("0.01")}
    assert split(Decimal("5.00"), {"x": Decimal(0)}, "CNY") == {}


@settings(max_examples=300, deadline=None)
@given(pool=st.decimals(min_value=0, max_value=10**7, places=2),
       shares=st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e", "f"]),
                              st.decimals(min_value=0, max_value=10**6, places=2), max_size=6))
def test_shares_add_up_to_the_pool_and_stay_within_a_cent_of_the_exact_share(pool: Decimal,
                                                                              shares: dict[str, Decimal]) -> None:
    got = split(pool, shares, "CNY")
    total = sum((w for w in shares.values() if w > 0), Decimal(0))
    if total == 0 or pool == 0:
        assert got == {}
        return
    assert sum(got.values(), Decimal(0)) == pool
    for who, weight in shares.items():
        exact = pool * weight / total if weight > 0 else Decimal(0)
        assert Decimal(0) <= got.get(who, Decimal(0)) - exact.quantize(Decimal("0.01"), "ROUND_DOWN") <= Decimal("0.01")
        assert got.get(who, Decimal(0)).as_tuple().exponent >= -2
