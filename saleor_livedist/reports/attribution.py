"""Attribution: orders by binding (who is paid), by last click and with assists, per distributor; and the
live's and the distributors' shares of GMV, by the method in docs/reports.md ("The live's and the distributors'
shares")."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..core.money import round_money
from .facts import rows
from .filters import EVERYTHING, ReportFilter, order_lines
from .totals import whole_store

HALF = Decimal("0.5")


@dataclass(frozen=True)
class AttributionRow:
    """One distributor's paid orders three ways: paying them (the binding), last clicked to them, assisted."""

    distributor: str
    currency: str
    bound_orders: int
    bound_gmv: Decimal
    last_click_orders: int
    last_click_gmv: Decimal
    assisted_orders: int
    assisted_gmv: Decimal
    commission: Decimal  # what they earned at level 1 on their bound orders


def attribution_by_distributor(f: ReportFilter = EVERYTHING, first: int | None = 500) -> list[AttributionRow]:
    """Paid orders only, GMV as kept; a distributor appears if any of the three counts them. Largest bound GMV
    first, the `first` of them (None: all)."""
    if whole_store(f):
        sql, params = BY_DISTRIBUTOR_TOTALS, []
    else:
        sql, params = _by_distributor(f)
    return [
        AttributionRow(who, cur, bound, round_money(bound_gmv, cur), last, round_money(last_gmv, cur), assisted,
                       round_money(assisted_gmv, cur), round_money(earned, cur))
        for who, cur, bound, bound_gmv, last, last_gmv, assisted, assisted_gmv, earned
        in rows(sql, [*params, first])
    ]


BY_DISTRIBUTOR_TOTALS = """
    SELECT distributor, currency, bound_orders, bound_gmv, last_click_orders, last_click_gmv, assisted_orders,
           assisted_gmv, bound_commission
    FROM livedist_report_seller WHERE bound_orders > 0 OR last_click_orders > 0 OR assisted_orders > 0
    ORDER BY 4 DESC, 6 DESC, 1, 2 LIMIT %s"""


def _by_distributor(f: ReportFilter) -> tuple[str, list[Any]]:
    where, params = order_lines(f)
    sql = f"""
        WITH twoways AS (  -- one scan: grouped by the paid distributor, and by the last click
            SELECT CASE WHEN GROUPING(f.paid_to) = 0 THEN 1 ELSE 2 END AS way,
                   COALESCE(f.paid_to, f.last_click) AS who, f.currency, count(*) AS orders, SUM(f.kept) AS gmv,
                   SUM(f.seller_commission) AS earned
            FROM livedist_report_order f WHERE f.paid_at IS NOT NULL AND {where}
            GROUP BY GROUPING SETS ((f.paid_to, f.currency), (f.last_click, f.currency))
        ),
        credited AS (
            SELECT way, who, currency, orders, gmv, earned FROM twoways WHERE who IS NOT NULL
            UNION ALL
            SELECT 3, a.who, f.currency, count(*), SUM(f.kept), 0
            FROM livedist_report_order f CROSS JOIN LATERAL jsonb_array_elements_text(f.assists) AS a(who)
            WHERE NOT (f.assists = '[]'::jsonb) AND f.paid_at IS NOT NULL AND {where}
            GROUP BY 2, 3
        )
        SELECT who, currency,
               COALESCE(SUM(orders) FILTER (WHERE way = 1), 0), COALESCE(SUM(gmv) FILTER (WHERE way = 1), 0),
               COALESCE(SUM(orders) FILTER (WHERE way = 2), 0), COALESCE(SUM(gmv) FILTER (WHERE way = 2), 0),
               COALESCE(SUM(orders) FILTER (WHERE way = 3), 0), COALESCE(SUM(gmv) FILTER (WHERE way = 3), 0),
               COALESCE(SUM(earned) FILTER (WHERE way = 1), 0)
        FROM credited GROUP BY who, currency
        ORDER BY 4 DESC, 6 DESC, 1, 2 LIMIT %s"""
    return sql, [*params, *params]


@dataclass(frozen=True)
class GmvShares:
    """The live's and the distributors' shares of one currency's GMV (paid orders, what customers kept)."""

    currency: str
    orders: int
    gmv: Decimal
    live_only: Decimal  # from a live, its replay or a clip, paying no distributor
    distributors_only: Decimal  # paying a distributor, from no live
    both: Decimal  # from a live and paying a distributor
    neither: Decimal  # the store's own sales: left out of the shares
    live_share: Decimal  # live_only + both x joint_live_share
    distributor_share: Decimal  # distributors_only + both x (1 - joint_live_share)
    live_percent: Decimal  # of live_share + distributor_share, 1 decimal
    distributor_percent: Decimal
    last_click_agrees: int  # orders whose last click was the paid distributor's link
    last_click_differs: int  # paying a distributor whose link was not the last clicked
    unclicked: int  # paying a distributor with no click at all (a coupon code, a ref)


def gmv_shares(f: ReportFilter = EVERYTHING, joint_live_share: Decimal = HALF) -> list[GmvShares]:
    """One row per currency. `joint_live_share` (0 to 1) is the live's part of an order both brought."""
    if not Decimal(0) <= joint_live_share <= Decimal(1):
        raise ValueError(f"joint_live_share must be between 0 and 1, got {joint_live_share}")
    if whole_store(f):
        return [_shares(row, joint_live_share) for row in rows(SHARES_TOTALS, [])]
    where, params = order_lines(f)
    sql = f"""
        WITH paid AS (
            SELECT f.currency, f.kept, f.context <> 'none' AS from_live, f.paid_to IS NOT NULL AS sold,
                   f.paid_to, f.last_click
            FROM livedist_report_order f WHERE f.paid_at IS NOT NULL AND {where}
        )
        SELECT currency, count(*), SUM(kept),
               COALESCE(SUM(kept) FILTER (WHERE from_live AND NOT sold), 0),
               COALESCE(SUM(kept) FILTER (WHERE sold AND NOT from_live), 0),
               COALESCE(SUM(kept) FILTER (WHERE from_live AND sold), 0),
               COALESCE(SUM(kept) FILTER (WHERE NOT from_live AND NOT sold), 0),
               count(*) FILTER (WHERE sold AND last_click = paid_to),
               count(*) FILTER (WHERE sold AND last_click <> paid_to),
               count(*) FILTER (WHERE sold AND last_click IS NULL)
        FROM paid GROUP BY currency ORDER BY currency"""
    return [_shares(row, joint_live_share) for row in rows(sql, params)]


SHARES_TOTALS = """
    SELECT currency, SUM(orders)::bigint, SUM(gmv),
           COALESCE(SUM(gmv) FILTER (WHERE from_live AND NOT sold), 0),
           COALESCE(SUM(gmv) FILTER (WHERE sold AND NOT from_live), 0),
           COALESCE(SUM(gmv) FILTER (WHERE from_live AND sold), 0),
           COALESCE(SUM(gmv) FILTER (WHERE NOT from_live AND NOT sold), 0),
           SUM(last_click_agrees)::bigint, SUM(last_click_differs)::bigint, SUM(unclicked)::bigint
    FROM livedist_report_share GROUP BY currency HAVING SUM(orders) > 0 ORDER BY currency"""


def _shares(row: tuple[Any, ...], joint: Decimal) -> GmvShares:
    """The four groups rounded, the live's share rounded, the distributors' the rest: the two add up exactly."""
    cur, orders, gmv, live_only, sold_only, both, neither, agrees, differs, unclicked = row
    money = [round_money(v, cur) for v in (gmv, live_only, sold_only, both, neither)]
    live = round_money(money[1] + money[3] * joint, cur)
    sold = money[1] + money[2] + money[3] - live
    attributed = live + sold
    live_pct = (live * 100 / attributed).quantize(Decimal("0.1"), ROUND_HALF_UP) if attributed else Decimal(0)
    sold_pct = Decimal(100) - live_pct if attributed else Decimal(0)
    return GmvShares(cur, orders, *money, live, sold, live_pct, sold_pct, agrees, differs, unclicked)
