"""One live: the funnel per distributor and in total, GMV and commission over the live's minutes, and the
leaderboard (the live room's own)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from ..core.money import round_money
from . import rules
from .facts import rows
from .filters import ReportFilter, order_lines, time_range
from .watching import live_links_sql, watchers_sql


@dataclass(frozen=True)
class FunnelRow:
    """People who clicked a distributor's link to the live (its replay or a clip), and how far they went."""

    live: str
    distributor: str | None  # None: the live in total, each person once
    clicked: int
    entered: int  # joined the live
    watched: int  # watched at least `watched_minutes`
    ordered: int  # placed an order the engine attributed to the live
    paid: int  # of which one was paid
    became_distributors: int  # joined as distributors after their first click
    watched_minutes: int


def live_funnel(f: ReportFilter, watched_minutes: int | None = None, now: datetime | None = None) -> list[FunnelRow]:
    """The live in total first, then each distributor, most clicks first. Clicks are those made in the date
    range; orders those placed in the range and channel."""
    live = f.require_live()
    minutes = rules.watched_minutes(live) if watched_minutes is None else watched_minutes
    clicks_in, click_params = time_range("c.at", f)
    orders_in, order_params = order_lines(f)
    watchers, watch_params = watchers_sql(now or timezone.now(), rules.silent_after_seconds())
    stages = """count(*), count(*) FILTER (WHERE entered), count(*) FILTER (WHERE watched),
                count(*) FILTER (WHERE ordered), count(*) FILTER (WHERE paid),
                count(*) FILTER (WHERE joined_at >= first_at)"""
    sql = f"""
        WITH targets AS ({live_links_sql()}),
        link AS (
            SELECT c.distributor, COALESCE(a.customer, c.identity) AS person, MIN(c.at) AS first_at
            FROM targets t JOIN livedist_click c ON c.kind = t.kind AND c.target = t.target
            LEFT JOIN livedist_alias a ON a.visitor = c.identity
            WHERE {clicks_in} GROUP BY 1, 2
        ),
        watched AS ({watchers}),
        bought AS (
            SELECT f.customer AS person, bool_or(f.paid_at IS NOT NULL) AS paid
            FROM livedist_report_order f WHERE {orders_in} GROUP BY 1
        ),
        people AS (
            SELECT l.distributor, l.person, l.first_at, w.person IS NOT NULL AS entered,
                   COALESCE(w.seconds, 0) >= %s AS watched, b.person IS NOT NULL AS ordered,
                   COALESCE(b.paid, FALSE) AS paid, d.joined_at
            FROM link l LEFT JOIN watched w ON w.person = l.person LEFT JOIN bought b ON b.person = l.person
            LEFT JOIN livedist_distributor d ON d.id = l.person
        )
        SELECT * FROM (
            SELECT NULL AS distributor, {stages} FROM (
                SELECT person, bool_or(entered) AS entered, bool_or(watched) AS watched,
                       bool_or(ordered) AS ordered, bool_or(paid) AS paid, MIN(first_at) AS first_at,
                       MIN(joined_at) AS joined_at
                FROM people GROUP BY person) everyone
            UNION ALL
            SELECT distributor, {stages} FROM people GROUP BY distributor) funnel
        ORDER BY distributor IS NOT NULL, 2 DESC, distributor"""
    params = [live, live, live, *click_params, *watch_params, live, *order_params, minutes * 60]
    return [FunnelRow(live, who, *counts, watched_minutes=minutes) for who, *counts in rows(sql, params)]


@dataclass(frozen=True)
class MinuteRow:
    """Orders placed on air in one minute of the live (minute 0 starts at the live's start)."""

    live: str
    minute: int
    at: datetime
    currency: str
    orders: int
    paid_orders: int
    gmv: Decimal  # what the customers kept of the paid ones
    commission: Decimal  # booked on them, every level


def live_minutes(f: ReportFilter, now: datetime | None = None) -> list[MinuteRow]:
    """Every minute from the live's start to its end (or its last order while on air), in order; a minute
    without orders has zeros. Empty for a live that never started or sold nothing on air."""
    live = f.require_live()
    orders_in, order_params = order_lines(f)
    sql = f"""
        WITH lv AS (SELECT id, started_at, ended_at FROM livedist_live WHERE id = %s AND started_at IS NOT NULL),
        sales AS (
            SELECT floor(EXTRACT(EPOCH FROM f.placed_at - lv.started_at) / 60)::int AS minute, f.currency,
                   count(*) AS orders, count(*) FILTER (WHERE f.paid_at IS NOT NULL) AS paid,
                   COALESCE(SUM(f.kept) FILTER (WHERE f.paid_at IS NOT NULL), 0) AS gmv,
                   SUM(f.commission) AS commission
            FROM livedist_report_order f JOIN lv ON f.live = lv.id
            WHERE f.context = 'live' AND f.placed_at >= lv.started_at AND {orders_in}
            GROUP BY 1, 2
        ),
        span AS (
            SELECT GREATEST((SELECT max(minute) FROM sales),
                            ceil(EXTRACT(EPOCH FROM lv.ended_at - lv.started_at) / 60)::int - 1) AS last
            FROM lv
        )
        SELECT m.minute, lv.started_at + m.minute * INTERVAL '1 minute', c.currency, COALESCE(s.orders, 0),
               COALESCE(s.paid, 0), COALESCE(s.gmv, 0), COALESCE(s.commission, 0)
        FROM lv CROSS JOIN span CROSS JOIN (SELECT DISTINCT currency FROM sales) c
        CROSS JOIN LATERAL generate_series(0, span.last) AS m(minute)
        LEFT JOIN sales s ON s.minute = m.minute AND s.currency = c.currency
        ORDER BY 1, 3"""
    return [
        MinuteRow(live, minute, at, currency, orders, paid, round_money(gmv, currency), round_money(cost, currency))
        for minute, at, currency, orders, paid, gmv, cost in rows(sql, [live, *order_params])
    ]


@dataclass(frozen=True)
class LeaderboardEntry:
    """A row of the live's leaderboard, as the live room shows it (names masked)."""

    rank: int
    name: str
    invited: int
    qualified: int
    orders: int
    gmv: Decimal
    currency: str


def live_leaderboard(f: ReportFilter, by: str = "gmv", first: int = 20) -> list[LeaderboardEntry]:
    """The live room's leaderboard (the counters the engine keeps as events arrive; the date range and channel
    do not apply to it)."""
    from ..graphql.live import leaderboard

    return [LeaderboardEntry(r.rank, r.name, r.invited, r.qualified, r.orders, r.gmv, r.currency)
            for r in leaderboard(f.require_live(), by, first)]
