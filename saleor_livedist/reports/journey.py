"""One person's journey on one timeline: clicks, the binding, lives entered and watched, orders placed and paid,
becoming a distributor. Names are masked unless staff look (`masked=False`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..core.money import round_money
from ..identity import display_names, staff_label
from .facts import rows
from .filters import EVERYTHING, ReportFilter, time_range

STEPS = ("clicked", "bound", "entered", "watched", "ordered", "paid", "became_distributor")


@dataclass(frozen=True)
class JourneyStep:
    at: datetime
    step: str  # one of STEPS
    live: str | None
    distributor: str | None  # whose link, binding, order or (became_distributor) upline: a name, masked or not
    order: str | None
    amount: Decimal | None  # ordered: as ordered; paid: what the customer kept
    currency: str
    link: str  # clicked: the link's kind and target, e.g. live:L1
    watched_seconds: int | None


def journey(person: str, f: ReportFilter = EVERYTHING, masked: bool = True) -> list[JourneyStep]:
    """The person's steps (a visitor id stitched to a customer is the customer, with the visitor's clicks and
    watch time), oldest first; each step within the filter's dates, lives and channel (for orders)."""
    when, params = time_range("s.at", f)
    live_cond, live_params = ("AND s.live = %s", [f.live]) if f.live else ("", [])
    channel, channel_params = ("AND f.channel = %s", [f.channel]) if f.channel else ("", [])
    sql = f"""
        WITH me AS (SELECT COALESCE((SELECT customer FROM livedist_alias WHERE visitor = %s), %s) AS person),
        ids AS (SELECT person AS id FROM me UNION SELECT visitor FROM livedist_alias, me WHERE customer = person),
        watches AS (
            SELECT w.live, MAX(w.seconds) AS seconds,
                   MIN(CASE WHEN jsonb_array_length(w.spans) > 0 THEN to_timestamp((w.spans->>0)::float8)
                            ELSE COALESCE(w.active_since, w.last_seen) END) AS since,
                   MAX(COALESCE(w.until, w.last_seen)) AS till
            FROM livedist_watch w JOIN ids ON ids.id = w.viewer GROUP BY w.live
        ),
        orders AS (
            SELECT f."order", f.placed_at, f.paid_at, f.live, f.paid_to, f.currency, f.amount, f.kept
            FROM livedist_report_order f, me WHERE f.customer = me.person {channel}
        ),
        steps AS (
            SELECT c.at, 'clicked' AS step, CASE WHEN c.kind = 'live' THEN c.target
                       ELSE (SELECT r.live FROM livedist_replay r
                             WHERE r.id = CASE WHEN c.kind = 'clip' THEN 'clip:' || c.target ELSE c.target END
                               AND c.kind IN ('replay', 'clip')) END AS live,
                   c.distributor, NULL AS "order", NULL::numeric AS amount, '' AS currency,
                   c.kind || ':' || c.target AS link, NULL::int AS seconds
            FROM livedist_click c JOIN ids ON ids.id = c.identity
            UNION ALL
            SELECT b.at, 'bound', NULL, b.distributor, NULL, NULL, '', '', NULL
            FROM livedist_binding b JOIN me ON b.identity = me.person
            UNION ALL
            SELECT since, 'entered', live, NULL, NULL, NULL, '', '', NULL FROM watches WHERE since IS NOT NULL
            UNION ALL
            SELECT COALESCE(till, since), 'watched', live, NULL, NULL, NULL, '', '', round(seconds)::int
            FROM watches WHERE COALESCE(till, since) IS NOT NULL
            UNION ALL
            SELECT placed_at, 'ordered', live, paid_to, "order", amount, currency, '', NULL FROM orders
            UNION ALL
            SELECT paid_at, 'paid', live, paid_to, "order", kept, currency, '', NULL FROM orders
            WHERE paid_at IS NOT NULL
            UNION ALL
            SELECT d.joined_at, 'became_distributor', NULL, d.upline, NULL, NULL, '', '', NULL
            FROM livedist_distributor d JOIN me ON d.id = me.person
        )
        SELECT s.at, s.step, s.live, s.distributor, s."order", s.amount, s.currency, s.link, s.seconds
        FROM steps s WHERE {when} {live_cond}
        ORDER BY s.at, array_position(%s::text[], s.step), s."order" NULLS FIRST"""
    found = rows(sql, [person, person, *channel_params, *params, *live_params, list(STEPS)])
    names = _names({r[3] for r in found if r[3]}, masked)
    return [
        JourneyStep(at, step, live, names.get(who) if who else None, order,
                    round_money(amount, cur) if amount is not None else None, cur, link, seconds)
        for at, step, live, who, order, amount, cur, link, seconds in found
    ]


def _names(identities: set[str], masked: bool) -> dict[str, str]:
    """How the people named on the timeline are shown: masked (the public's and distributors' view), or as
    staff see them in the admin."""
    if masked:
        return display_names(sorted(identities))
    return {identity: staff_label(identity) for identity in identities}
