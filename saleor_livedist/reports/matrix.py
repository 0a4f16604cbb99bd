"""Distributors x lives: who brought viewers and sales to which live; viewers who became distributors, and what
they sold afterwards."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..core.money import round_money
from .facts import rows
from .filters import EVERYTHING, ReportFilter, lives, order_lines
from .totals import whole_store

PAID_SALES = """count(*) FILTER (WHERE f.paid_at IS NOT NULL) AS orders,
                COALESCE(SUM(f.kept) FILTER (WHERE f.paid_at IS NOT NULL), 0) AS gmv"""

# Distributors who watched a live that had started when they joined: each once, with the latest such live.
TURNED = """
    SELECT DISTINCT ON (d.id) d.id AS distributor, lv.id AS live, d.upline, d.joined_at
    FROM livedist_distributor d
    JOIN livedist_watch w ON w.viewer = d.id
    JOIN livedist_live lv ON lv.id = w.live AND d.joined_at >= COALESCE(lv.started_at, lv.starts_at)
    WHERE {lives} AND {joined}
    ORDER BY d.id, COALESCE(lv.started_at, lv.starts_at) DESC, lv.id"""
# The same over every live, as triggers keep it (migration 0032).
TURNED_ALL = """
    SELECT t.distributor, t.live, d.upline, d.joined_at
    FROM livedist_report_turned t JOIN livedist_distributor d ON d.id = t.distributor"""


def _turned(f: ReportFilter) -> tuple[str, list[Any]]:
    """The viewers turned distributors among the lives the filter chooses (SQL, parameters)."""
    if whole_store(f):
        return TURNED_ALL, []
    live_sql, live_params = lives(f)
    return TURNED.format(lives=live_sql, joined="TRUE"), live_params


def _money(value: Decimal | None, currency: str | None) -> Decimal:
    return round_money(value or Decimal(0), currency) if currency else Decimal(0)


@dataclass(frozen=True)
class MatrixRow:
    distributor: str
    live: str
    viewers: int  # people who came through their link to the live (the leaderboard's "invited")
    qualified: int  # of those, who qualified for an invite task
    orders: int  # paid orders attributed to the live (on air, replay or clip) paying them at level 1
    gmv: Decimal  # what the customers kept of those
    commission: Decimal  # what they earned on those (level 1)
    team_commission: Decimal  # what their uplines earned on those (levels 2-3)
    recruited: int  # viewers of the live who then joined as distributors under them
    currency: str  # '' when the pair sold nothing


def distributor_live_matrix(f: ReportFilter = EVERYTHING, first: int | None = 500) -> list[MatrixRow]:
    """One row per (distributor, live, currency) with viewers, sales or recruits; largest GMV first, the `first`
    of them (None: all, for an export)."""
    live_sql, live_params = lives(f)
    turned, turned_params = _turned(f)
    if whole_store(f, live=False):  # the lives alone are chosen: the totals per distributor and live answer
        sales, order_params = """
            SELECT t.distributor, t.live, t.currency, t.paid_orders AS orders, t.paid_gmv AS gmv,
                   t.commission AS seller, t.team_commission AS team
            FROM livedist_report_seller_live t JOIN chosen ON chosen.id = t.live WHERE t.orders > 0""", []
    else:
        orders_in, order_params = order_lines(f, live=False)
        sales = f"""
            SELECT f.paid_to AS distributor, f.live, f.currency, {PAID_SALES},
                   SUM(f.seller_commission) AS seller, SUM(f.commission - f.seller_commission) AS team
            FROM livedist_report_order f JOIN chosen ON chosen.id = f.live
            WHERE f.paid_to IS NOT NULL AND {orders_in} GROUP BY 1, 2, 3"""
    sql = f"""
        WITH chosen AS (SELECT lv.id FROM livedist_live lv WHERE {live_sql}),
        sales AS ({sales}
        ),
        viewers AS (
            SELECT s.distributor, s.live, s.invited, s.qualified FROM livedist_live_stat s
            JOIN chosen ON chosen.id = s.live WHERE s.invited > 0 OR s.qualified > 0
        ),
        recruits AS (SELECT upline AS distributor, live, count(*) AS recruited FROM ({turned}) t
                     WHERE upline IS NOT NULL GROUP BY 1, 2),
        reach AS (SELECT * FROM viewers FULL JOIN recruits USING (distributor, live))
        SELECT distributor, live, COALESCE(r.invited, 0), COALESCE(r.qualified, 0), COALESCE(s.orders, 0),
               s.gmv, s.seller, s.team, COALESCE(r.recruited, 0), s.currency
        FROM sales s FULL JOIN reach r USING (distributor, live)
        ORDER BY s.gmv DESC NULLS LAST, 3 DESC, 1, 2 LIMIT %s"""
    params = [*live_params, *order_params, *turned_params, first]
    return [
        MatrixRow(who, live, viewers, qualified, orders, _money(gmv, cur), _money(seller, cur), _money(team, cur),
                  recruited, cur or "")
        for who, live, viewers, qualified, orders, gmv, seller, team, recruited, cur in rows(sql, params)
    ]


@dataclass(frozen=True)
class ConvertedRow:
    """A viewer who became a distributor, and what they sold from then on."""

    distributor: str
    live: str  # the latest live they watched that had started when they joined
    brought_by: str | None  # their upline
    joined_at: datetime
    orders: int  # paid orders paying them at level 1, placed since they joined (in the channel)
    gmv: Decimal
    commission: Decimal  # what they earned on those (level 1)
    currency: str  # '' when they sold nothing


def converted_viewers(f: ReportFilter = EVERYTHING, first: int | None = 500) -> list[ConvertedRow]:
    """Lives are chosen by the filter (id, channel, started in the range); every sale since joining counts.
    Largest GMV first, the `first` of them (None: all)."""
    turned, turned_params = _turned(f)
    if f.channel:
        sold, channel_params = f"""
            SELECT t.distributor, f.currency, {PAID_SALES}, SUM(f.seller_commission) AS earned
            FROM turned t JOIN livedist_report_order f ON f.paid_to = t.distributor AND f.placed_at >= t.joined_at
            WHERE f.channel = %s GROUP BY 1, 2""", [f.channel]
    else:  # every sale since joining: the totals per distributor (joining is kept on each order's row) answer
        sold, channel_params = """
            SELECT t.distributor, s.currency, s.joined_paid_orders AS orders, s.joined_paid_gmv AS gmv,
                   s.joined_commission AS earned
            FROM turned t JOIN livedist_report_seller s ON s.distributor = t.distributor
            WHERE s.joined_orders > 0""", []
    sql = f"""
        WITH turned AS ({turned}),
        sold AS ({sold}
        )
        SELECT t.distributor, t.live, t.upline, t.joined_at, COALESCE(s.orders, 0), s.gmv, s.earned, s.currency
        FROM turned t LEFT JOIN sold s ON s.distributor = t.distributor
        ORDER BY s.gmv DESC NULLS LAST, t.joined_at, t.distributor LIMIT %s"""
    return [
        ConvertedRow(who, live, upline, joined, orders, _money(gmv, cur), _money(earned, cur), cur or "")
        for who, live, upline, joined, orders, gmv, earned, cur in rows(sql, [*turned_params, *channel_params, first])
    ]

