"""Distribution fit of products: per product, how distributors' links convert, what commission buys (GMV per
unit of commission), live against other sales; and recommendations, each saying why."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext

from ..core.money import round_money
from ..identity import display_names
from .facts import rows
from .filters import EVERYTHING, ReportFilter, lives, order_lines, time_range
from .totals import all_clicks, whole_store

RATIO = Decimal("0.0001")


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, ROUND_HALF_UP) if whole else None


@dataclass(frozen=True)
class ProductFit:
    product: str
    currency: str
    clickers: int  # people who clicked a distributor's link to the product (in the date range)
    link_buyers: int  # people who bought it (paid, in the filter) after clicking such a link
    conversion: Decimal | None  # link_buyers / clickers
    lines: int  # paid order lines with the product
    gmv: Decimal  # what customers kept of the product's lines
    distributed_gmv: Decimal  # of which in orders paying a distributor
    commission: Decimal  # booked on the product's lines, every level
    roi: Decimal | None  # distributed_gmv / commission: GMV per unit of commission
    live_gmv: Decimal  # from a live, its replay or a clip
    other_gmv: Decimal
    featured: bool  # one of the products of a live (of those the filter chooses)


def product_fit(f: ReportFilter = EVERYTHING, product: str | None = None) -> list[ProductFit]:
    """One row per product and currency that sold (paid) or had distributors' links clicked; largest GMV first.
    With a live, only its orders count, and `featured` means featured in it. With a `product`, its rows only."""
    return _fit(f, f, product=product)


def _fit(f: ReportFilter, lives_of: ReportFilter, unfeatured: bool = False,
         product: str | None = None) -> list[ProductFit]:
    """Sales chosen by `f`; `featured` among the lives chosen by `lives_of`; `unfeatured`: only the products
    none of those lives features (what the recommendations look at, without the cost of the others)."""
    where, params = order_lines(f)
    clicked_in, click_params = time_range("c.at", f)
    totals_in, totals_params = "TRUE", []
    if product is not None:
        where, params = where + " AND f.product = %s", [*params, product]
        clicked_in, click_params = clicked_in + " AND c.target = %s", [*click_params, product]
        totals_in, totals_params = "t.product = %s", [product]
    live_sql, live_params = lives(lives_of)
    if unfeatured:
        where += " AND f.product NOT IN (SELECT product FROM featured)"
        clicked_in += " AND c.target NOT IN (SELECT product FROM featured)"
        totals_in += " AND t.product NOT IN (SELECT product FROM featured)"
    if whole_store(f):  # every paid line: the totals per product
        sold, sold_params = f"""
            SELECT t.product, t.currency, t.lines, t.gmv, t.distributed_gmv AS distributed, t.commission, t.live_gmv
            FROM livedist_report_product t WHERE t.lines > 0 AND {totals_in}""", totals_params
    else:
        sold, sold_params = f"""
            SELECT f.product, f.currency, count(*) AS lines, SUM(f.kept) AS gmv,
                   SUM(f.kept) FILTER (WHERE f.paid_to IS NOT NULL) AS distributed, SUM(f.commission) AS commission,
                   SUM(f.kept) FILTER (WHERE f.context <> 'none') AS live_gmv
            FROM livedist_report_line f WHERE f.paid_at IS NOT NULL AND {where} GROUP BY 1, 2""", params
    if all_clicks(f):  # every click: the clickers kept per product
        clicked, clicked_params = f"""
            SELECT t.product, count(*) AS clickers FROM livedist_report_clicker t
            WHERE t.clicks > 0 AND {totals_in} GROUP BY 1""", totals_params
    else:
        clicked, clicked_params = f"""
            SELECT product, count(*) AS clickers FROM (
                SELECT DISTINCT c.target AS product, COALESCE(a.customer, c.identity) AS person
                FROM livedist_click c LEFT JOIN livedist_alias a ON a.visitor = c.identity
                WHERE c.kind = 'product' AND {clicked_in}) k
            GROUP BY 1""", click_params
    sql = f"""
        WITH featured AS (SELECT DISTINCT jsonb_array_elements_text(lv.products) AS product FROM livedist_live lv
                          WHERE {live_sql}),
        sold AS ({sold}
        ),
        link_buyers AS (
            SELECT f.product, count(DISTINCT f.customer) AS buyers FROM livedist_report_line f
            WHERE f.from_link AND f.paid_at IS NOT NULL AND {where} GROUP BY 1
        ),
        clicked AS ({clicked}
        )
        SELECT COALESCE(s.product, c.product) AS product, s.currency, COALESCE(c.clickers, 0),
               COALESCE(b.buyers, 0), COALESCE(s.lines, 0), s.gmv, s.distributed, s.commission, s.live_gmv,
               EXISTS (SELECT 1 FROM featured x WHERE x.product = COALESCE(s.product, c.product))
        FROM sold s FULL JOIN clicked c ON c.product = s.product
        LEFT JOIN link_buyers b ON b.product = COALESCE(s.product, c.product)
        ORDER BY s.gmv DESC NULLS LAST, 1, 2"""
    out = []
    for name, cur, clickers, buyers, lines, gmv, spread, cost, live_gmv, featured in rows(
            sql, [*live_params, *sold_params, *params, *clicked_params]):
        money = [round_money(v or Decimal(0), cur) if cur else Decimal(0) for v in (gmv, spread, cost, live_gmv)]
        out.append(ProductFit(name, cur or "", clickers, buyers, _ratio(buyers, clickers), lines, money[0],
                              money[1], money[2], _ratio(money[1], money[2]), money[3], money[0] - money[3],
                              featured))
    return out


@dataclass(frozen=True)
class Recommendation:
    kind: str  # feature_product | share_live
    product: str | None
    live: str | None
    distributor: str | None
    gmv: Decimal  # what the recommendation rests on
    currency: str
    reason: str  # a sentence in the active language


def recommendations(f: ReportFilter = EVERYTHING, min_conversion: Decimal = Decimal("0.1"),
                    first: int = 50, fits: list[ProductFit] | None = None) -> list[Recommendation]:
    """Products to feature in a live, then lives to share, most GMV first within each kind. `fits`: what
    `product_fit(f)` gave, if the caller has it (with no live in the filter, the products to feature are among
    those rows: they are not computed again)."""
    return _feature_products(f, min_conversion, first, fits) + _lives_to_share(f, first)


def _feature_products(f: ReportFilter, min_conversion: Decimal, first: int,
                      fits: list[ProductFit] | None = None) -> list[Recommendation]:
    """Products whose distributors' links convert at least `min_conversion` and that sold through distributors
    (in any live or none), but that no live of those chosen features."""
    if fits is not None and not f.live:  # the same sales, `featured` among the same lives
        unfeatured = [p for p in fits if not p.featured]
    else:
        unfeatured = _fit(replace(f, live=None), f, unfeatured=True)
    fits = [p for p in unfeatured
            if p.distributed_gmv > 0 and p.conversion is not None and p.conversion >= min_conversion]
    fits.sort(key=lambda p: (-p.distributed_gmv, p.product))
    return [
        Recommendation(
            "feature_product", p.product, None, None, p.distributed_gmv, p.currency,
            gettext("%(product)s sells through distributors (%(buyers)d of %(clickers)d people who clicked a "
                    "distributor's link bought it; %(gmv)s %(currency)s) but no live features it.") % {
                "product": p.product, "buyers": p.link_buyers, "clickers": p.clickers, "gmv": p.distributed_gmv,
                "currency": p.currency})
        for p in fits[:first]
    ]


def _lives_to_share(f: ReportFilter, first: int) -> list[Recommendation]:
    """Lives that a distributor's customers (buyers whose orders pay them, as their binding decided) buy from,
    which the distributor brought no viewer to."""
    live_sql, live_params = lives(f)
    if whole_store(f, live=False):  # the totals per distributor and live; the buyers counted for those shown
        sql, params = f"""
            SELECT t.distributor, t.live, t.currency,
                   (SELECT count(DISTINCT b.customer)  -- OFFSET 0: read by the seller index alone
                    FROM (SELECT f.customer, f.live, f.currency, f.paid_at FROM livedist_report_order f
                          WHERE f.paid_to = t.distributor OFFSET 0) b
                    WHERE b.live = t.live AND b.currency = t.currency AND b.paid_at IS NOT NULL),
                   t.paid_gmv
            FROM (SELECT t.* FROM livedist_report_seller_live t JOIN livedist_live lv ON lv.id = t.live
                  WHERE t.paid_gmv > 0 AND {live_sql}
                    AND NOT EXISTS (SELECT 1 FROM livedist_live_stat s
                                    WHERE s.live = t.live AND s.distributor = t.distributor AND s.invited > 0)
                  ORDER BY t.paid_gmv DESC, t.distributor, t.live LIMIT %s) t
            ORDER BY 5 DESC, 1, 2""", live_params
    else:
        where, params = order_lines(f, live=False)
        sql, params = f"""
            SELECT f.paid_to, f.live, f.currency, count(DISTINCT f.customer), SUM(f.kept)
            FROM livedist_report_order f
            JOIN livedist_live lv ON lv.id = f.live
            WHERE f.paid_at IS NOT NULL AND f.paid_to IS NOT NULL AND {where} AND {live_sql}
              AND NOT EXISTS (SELECT 1 FROM livedist_live_stat s
                              WHERE s.live = f.live AND s.distributor = f.paid_to AND s.invited > 0)
            GROUP BY 1, 2, 3 HAVING SUM(f.kept) > 0
            ORDER BY 5 DESC, 1, 2""", [*params, *live_params]
        sql += " LIMIT %s"
    found = rows(sql, [*params, first])
    names = display_names(sorted({r[0] for r in found}))
    return [
        Recommendation(
            "share_live", None, live, who, round_money(gmv, cur), cur,
            gettext("Customers of %(distributor)s bought %(gmv)s %(currency)s from live %(live)s (%(buyers)d of "
                    "them), but %(distributor)s brought no viewers to it: its links would reach people who "
                    "already buy there.") % {"buyers": buyers, "distributor": names[who], "gmv": round_money(gmv, cur),
                                 "currency": cur, "live": live})
        for who, live, cur, buyers, gmv in found
    ]
