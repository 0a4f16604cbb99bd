"""Whole-store totals the reports read when no date range or channel narrows the orders: per distributor and live,
per distributor, the shares' four groups and per product (livedist_report_seller_live, _seller, _share,
_product), kept by the report refresh (reports.facts) in the same statement that rewrites the report lines.

The refresh knows which orders it rewrites, and their rows as they were: it adds what the new rows count and takes
off what the old ones counted, grouped by key, with `INSERT ... ON CONFLICT DO UPDATE SET x = x + delta`. Two
refreshes at once stay exact: they claim different orders (FOR UPDATE SKIP LOCKED), an order is claimed again only
after the refresh that held it has committed (its pending row is locked until then), so the old rows a refresh
reads are the latest; and the additions commute, each waiting on the other's row lock. Keys are written in order,
so two refreshes never deadlock on them. The people who clicked each product (livedist_report_clicker) are kept by
triggers on the clicks and aliases (migration 0026)."""
from __future__ import annotations

from .filters import ReportFilter

# CTEs appended to the refresh statement (after `computed`, `orders`, `written` and `totals`): the orders' and
# lines' rows before this statement, signed against the new ones, and the totals' upserts.
DELTAS = """prior_orders AS (
    SELECT r.currency, r.paid_at, r.live, r.context, r.paid_to, r.last_click, r.assists, r.kept, r.commission,
           r.seller_commission, r.after_joining
    FROM livedist_report_order r WHERE r."order" IN (SELECT "order" FROM orders)
), signed_orders AS (
    SELECT 1 AS sign, currency, paid_at IS NOT NULL AS paid, live, context, paid_to, last_click, assists, kept,
           commission, seller_commission, after_joining
    FROM orders
    UNION ALL
    SELECT -1, currency, paid_at IS NOT NULL, live, context, paid_to, last_click, assists, kept, commission,
           seller_commission, after_joining
    FROM prior_orders
), signed_lines AS (
    SELECT 1 AS sign, product, currency, paid_at IS NOT NULL AS paid, paid_to, context, kept, commission
    FROM computed
    UNION ALL
    SELECT -1, r.product, r.currency, r.paid_at IS NOT NULL, r.paid_to, r.context, r.kept, r.commission
    FROM livedist_report_line r WHERE (r."order", r.line) IN (SELECT "order", line FROM computed)
), seller_live AS (
INSERT INTO livedist_report_seller_live AS t (distributor, live, currency, orders, paid_orders, paid_gmv,
                                              commission, team_commission)
SELECT paid_to, live, currency, SUM(sign), COALESCE(SUM(sign) FILTER (WHERE paid), 0),
       COALESCE(SUM(sign * kept) FILTER (WHERE paid), 0), SUM(sign * seller_commission),
       SUM(sign * (commission - seller_commission))
FROM signed_orders WHERE paid_to IS NOT NULL AND live IS NOT NULL
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (distributor, live, currency) DO UPDATE SET
    orders = t.orders + EXCLUDED.orders, paid_orders = t.paid_orders + EXCLUDED.paid_orders,
    paid_gmv = t.paid_gmv + EXCLUDED.paid_gmv, commission = t.commission + EXCLUDED.commission,
    team_commission = t.team_commission + EXCLUDED.team_commission
RETURNING 1
), sellers AS (
INSERT INTO livedist_report_seller AS t (distributor, currency, bound_orders, bound_gmv, bound_commission,
                                         last_click_orders, last_click_gmv, assisted_orders, assisted_gmv,
                                         joined_orders, joined_paid_orders, joined_paid_gmv, joined_commission)
SELECT x.who, o.currency,
       COALESCE(SUM(o.sign) FILTER (WHERE x.way = 1 AND o.paid), 0),
       COALESCE(SUM(o.sign * o.kept) FILTER (WHERE x.way = 1 AND o.paid), 0),
       COALESCE(SUM(o.sign * o.seller_commission) FILTER (WHERE x.way = 1 AND o.paid), 0),
       COALESCE(SUM(o.sign) FILTER (WHERE x.way = 2 AND o.paid), 0),
       COALESCE(SUM(o.sign * o.kept) FILTER (WHERE x.way = 2 AND o.paid), 0),
       COALESCE(SUM(o.sign) FILTER (WHERE x.way = 3 AND o.paid), 0),
       COALESCE(SUM(o.sign * o.kept) FILTER (WHERE x.way = 3 AND o.paid), 0),
       COALESCE(SUM(o.sign) FILTER (WHERE x.way = 1 AND o.after_joining), 0),
       COALESCE(SUM(o.sign) FILTER (WHERE x.way = 1 AND o.after_joining AND o.paid), 0),
       COALESCE(SUM(o.sign * o.kept) FILTER (WHERE x.way = 1 AND o.after_joining AND o.paid), 0),
       COALESCE(SUM(o.sign * o.seller_commission) FILTER (WHERE x.way = 1 AND o.after_joining), 0)
FROM signed_orders o
CROSS JOIN LATERAL (SELECT 1 AS way, o.paid_to AS who UNION ALL SELECT 2, o.last_click
                    UNION ALL SELECT 3, a.who FROM jsonb_array_elements_text(o.assists) AS a(who)) x
WHERE x.who IS NOT NULL
GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (distributor, currency) DO UPDATE SET
    bound_orders = t.bound_orders + EXCLUDED.bound_orders, bound_gmv = t.bound_gmv + EXCLUDED.bound_gmv,
    bound_commission = t.bound_commission + EXCLUDED.bound_commission,
    last_click_orders = t.last_click_orders + EXCLUDED.last_click_orders,
    last_click_gmv = t.last_click_gmv + EXCLUDED.last_click_gmv,
    assisted_orders = t.assisted_orders + EXCLUDED.assisted_orders,
    assisted_gmv = t.assisted_gmv + EXCLUDED.assisted_gmv, joined_orders = t.joined_orders + EXCLUDED.joined_orders,
    joined_paid_orders = t.joined_paid_orders + EXCLUDED.joined_paid_orders,
    joined_paid_gmv = t.joined_paid_gmv + EXCLUDED.joined_paid_gmv,
    joined_commission = t.joined_commission + EXCLUDED.joined_commission
RETURNING 1
), shares AS (
INSERT INTO livedist_report_share AS t (currency, from_live, sold, orders, gmv, last_click_agrees,
                                        last_click_differs, unclicked)
SELECT currency, context <> 'none', paid_to IS NOT NULL, SUM(sign), SUM(sign * kept),
       COALESCE(SUM(sign) FILTER (WHERE paid_to IS NOT NULL AND last_click = paid_to), 0),
       COALESCE(SUM(sign) FILTER (WHERE paid_to IS NOT NULL AND last_click <> paid_to), 0),
       COALESCE(SUM(sign) FILTER (WHERE paid_to IS NOT NULL AND last_click IS NULL), 0)
FROM signed_orders WHERE paid
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (currency, from_live, sold) DO UPDATE SET
    orders = t.orders + EXCLUDED.orders, gmv = t.gmv + EXCLUDED.gmv,
    last_click_agrees = t.last_click_agrees + EXCLUDED.last_click_agrees,
    last_click_differs = t.last_click_differs + EXCLUDED.last_click_differs,
    unclicked = t.unclicked + EXCLUDED.unclicked
RETURNING 1
), products AS (
INSERT INTO livedist_report_product AS t (product, currency, lines, gmv, distributed_gmv, commission, live_gmv)
SELECT product, currency, SUM(sign), SUM(sign * kept),
       COALESCE(SUM(sign * kept) FILTER (WHERE paid_to IS NOT NULL), 0), SUM(sign * commission),
       COALESCE(SUM(sign * kept) FILTER (WHERE context <> 'none'), 0)
FROM signed_lines WHERE paid
GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (product, currency) DO UPDATE SET
    lines = t.lines + EXCLUDED.lines, gmv = t.gmv + EXCLUDED.gmv,
    distributed_gmv = t.distributed_gmv + EXCLUDED.distributed_gmv, commission = t.commission + EXCLUDED.commission,
    live_gmv = t.live_gmv + EXCLUDED.live_gmv
RETURNING 1
)"""
DELTA_COUNTS = """(SELECT count(*) FROM seller_live), (SELECT count(*) FROM sellers), (SELECT count(*) FROM shares),
       (SELECT count(*) FROM products)"""


def whole_store(f: ReportFilter, live: bool = True) -> bool:
    """No date range or channel narrows the orders (nor, with `live`, a live): the totals answer for the filter."""
    return f.since is None and f.until is None and not f.channel and not (live and f.live)


def all_clicks(f: ReportFilter) -> bool:
    """No date range narrows the clicks: livedist_report_clicker answers."""
    return f.since is None and f.until is None
