"""The whole-store report totals (saleor_livedist/reports/totals.py) against a from-scratch GROUP BY of the report
lines, clicks and aliases they summarize, on real PostgreSQL: random orders fed through the inbox, paid or not,
refunded in part or whole, cancelled, re-marked and refreshed in between and by refreshes racing each other; and
every whole-store report equal to the same report computed from the lines."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timezone
from typing import Any

import pytest
from django.db import connection, connections

from saleor_livedist.inbox import processing
from saleor_livedist.reports import attribution, facts, matrix, products
from saleor_livedist.reports.filters import EVERYTHING, ReportFilter
from tests.builders import Stream

pytestmark = pytest.mark.django_db(transaction=True)

SINCE_EVER = ReportFilter(since=datetime(2000, 1, 1, tzinfo=timezone.utc))  # every order, through the lines
SELLERS = [f"d{n}" for n in range(6)]
PRODUCTS = ["p-a", "p-b", "p-c", "p-d", "p-e"]

# What the totals hold, recomputed here from the lines, orders, distributors, clicks and aliases.
EXPECTED = {
    "seller_live": ("""
        SELECT paid_to, live, currency, count(*), count(*) FILTER (WHERE paid_at IS NOT NULL),
               COALESCE(SUM(kept) FILTER (WHERE paid_at IS NOT NULL), 0), SUM(seller_commission),
               SUM(commission - seller_commission)
        FROM livedist_report_order WHERE paid_to IS NOT NULL AND live IS NOT NULL GROUP BY 1, 2, 3""", """
        SELECT distributor, live, currency, orders, paid_orders, paid_gmv, commission, team_commission
        FROM livedist_report_seller_live WHERE orders <> 0 OR paid_gmv <> 0 OR commission <> 0"""),
    "seller": ("""
        WITH o AS (SELECT r.*, d.joined_at <= r.placed_at AS joined, r.paid_at IS NOT NULL AS paid
                   FROM livedist_report_order r LEFT JOIN livedist_distributor d ON d.id = r.paid_to),
        ways AS (SELECT 1 AS way, paid_to AS who, o.* FROM o UNION ALL SELECT 2, last_click, o.* FROM o
                 UNION ALL SELECT 3, a, o.* FROM o, jsonb_array_elements_text(o.assists) a)
        SELECT who, currency,
               count(*) FILTER (WHERE way = 1 AND paid), COALESCE(SUM(kept) FILTER (WHERE way = 1 AND paid), 0),
               COALESCE(SUM(seller_commission) FILTER (WHERE way = 1 AND paid), 0),
               count(*) FILTER (WHERE way = 2 AND paid), COALESCE(SUM(kept) FILTER (WHERE way = 2 AND paid), 0),
               count(*) FILTER (WHERE way = 3 AND paid), COALESCE(SUM(kept) FILTER (WHERE way = 3 AND paid), 0),
               count(*) FILTER (WHERE way = 1 AND joined), count(*) FILTER (WHERE way = 1 AND joined AND paid),
               COALESCE(SUM(kept) FILTER (WHERE way = 1 AND joined AND paid), 0),
               COALESCE(SUM(seller_commission) FILTER (WHERE way = 1 AND joined), 0)
        FROM ways WHERE who IS NOT NULL GROUP BY 1, 2""", """
        SELECT distributor, currency, bound_orders, bound_gmv, bound_commission, last_click_orders, last_click_gmv,
               assisted_orders, assisted_gmv, joined_orders, joined_paid_orders, joined_paid_gmv, joined_commission
        FROM livedist_report_seller
        WHERE bound_orders <> 0 OR last_click_orders <> 0 OR assisted_orders <> 0 OR joined_orders <> 0"""),
    "share": ("""
        SELECT currency, context <> 'none', paid_to IS NOT NULL, count(*), SUM(kept),
               count(*) FILTER (WHERE last_click = paid_to), count(*) FILTER (WHERE last_click <> paid_to),
               count(*) FILTER (WHERE paid_to IS NOT NULL AND last_click IS NULL)
        FROM livedist_report_order WHERE paid_at IS NOT NULL GROUP BY 1, 2, 3""", """
        SELECT currency, from_live, sold, orders, gmv, last_click_agrees, last_click_differs, unclicked
        FROM livedist_report_share WHERE orders <> 0"""),
    "product": ("""
        SELECT product, currency, count(*), SUM(kept), COALESCE(SUM(kept) FILTER (WHERE paid_to IS NOT NULL), 0),
               SUM(commission), COALESCE(SUM(kept) FILTER (WHERE context <> 'none'), 0)
        FROM livedist_report_line WHERE paid_at IS NOT NULL GROUP BY 1, 2""", """
        SELECT product, currency, lines, gmv, distributed_gmv, commission, live_gmv FROM livedist_report_product
        WHERE lines <> 0"""),
    "turned": ("""
        SELECT DISTINCT ON (d.id) d.id, lv.id FROM livedist_distributor d
        JOIN livedist_watch w ON w.viewer = d.id
        JOIN livedist_live lv ON lv.id = w.live AND d.joined_at >= COALESCE(lv.started_at, lv.starts_at)
        ORDER BY d.id, COALESCE(lv.started_at, lv.starts_at) DESC, lv.id""", """
        SELECT distributor, live FROM livedist_report_turned"""),
    "clicker": ("""
        SELECT c.target, COALESCE(a.customer, c.identity), count(*)
        FROM livedist_click c LEFT JOIN livedist_alias a ON a.visitor = c.identity
        WHERE c.kind = 'product' GROUP BY 1, 2""", """
        SELECT product, person, clicks FROM livedist_report_clicker WHERE clicks <> 0"""),
}


def table(sql: str) -> set[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return set(cursor.fetchall())


def assert_totals_match() -> None:
    for name, (scratch, kept) in EXPECTED.items():
        expected, found = table(scratch), table(kept)
        assert found == expected, (name, sorted(found - expected)[:5], sorted(expected - found)[:5])


def random_stream(rng: random.Random, orders: int) -> list[list[dict[str, Any]]]:
    """Distributors, two lives, link clicks by visitors and customers (some visitors stitched later), viewers who
    join as distributors and share links in turn, orders of 1-3 lines, most paid, some refunded in part or whole,
    some cancelled; in chunks, to refresh in between."""
    s = Stream()
    for n, who in enumerate(SELLERS):
        s.distributor(who, upline=SELLERS[n // 2] if n > 1 else None)
    s.live("L1", products=("p-a", "p-b"), start=0, end=120)
    s.live("L2", products=("p-c",), start=600, end=700)
    chunks, mark, sellers = [], 0, list(SELLERS)
    for n in range(orders):
        minute = n * 7 + rng.random()
        buyer = f"c{rng.randrange(orders // 2 + 1)}"
        clicker = f"vis-{buyer}" if rng.random() < 0.3 else buyer
        target = rng.choice([{"live": "L1"}, {"live": "L2"}, {"product": rng.choice(PRODUCTS)}, None])
        if target is not None:
            s.click(rng.choice(sellers), clicker, minute=minute - 3, **target)
        if clicker != buyer and rng.random() < 0.7:
            s.add("customer.registered", minute - 1, customer=buyer, visitor=clicker)
        if rng.random() < 0.5:
            s.watch("L1" if minute < 300 else "L2", buyer, start=minute - 2, minutes=rng.choice([1, 6]))
            if buyer not in sellers and rng.random() < 0.4:  # a viewer turned distributor, who sells later
                s.add("distributor.joined", minute + 2, customer=buyer)
                sellers.append(buyer)
        lines = [(rng.choice(PRODUCTS), f"{rng.randrange(10, 300)}.00") for _ in range(rng.randrange(1, 4))]
        paid = rng.random() < 0.85
        s.order(f"o{n}", buyer, minute=minute, paid=paid, lines=lines)
        luck = rng.random()
        if paid and luck < 0.15:
            s.add("order.refunded", minute + 30, order=f"o{n}", lines=[{"line": "1", "amount": "5.00"}])
        elif paid and luck < 0.22:
            s.add("order.refunded", minute + 40, order=f"o{n}")  # the whole order
        elif luck < 0.3:
            s.add("order.cancelled", minute + 50, order=f"o{n}")
        if rng.random() < 0.15 or n == orders - 1:
            s.events()
            chunks.append(s.raw[mark:])
            mark = len(s.raw)
    return chunks


def feed(events: list[dict[str, Any]]) -> None:
    for event in events:
        processing.submit(event, process=False)
    processing.process_pending()


def race(workers: int, work: Any) -> list[BaseException]:
    """`work()` in threads that start together, each on its own database connection."""
    barrier, errors = threading.Barrier(workers), []

    def target() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # re-raised by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def reports(f: ReportFilter) -> dict[str, Any]:
    return {"matrix": matrix.distributor_live_matrix(f, first=None),
            "converted": matrix.converted_viewers(f, first=None),
            "attribution": attribution.attribution_by_distributor(f, first=None), "shares": attribution.gmv_shares(f),
            "fit": products.product_fit(f), "recommendations": products.recommendations(f)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_equal_a_recount_of_the_lines(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(facts, "BATCH", 5)  # several statements per refresh, so racing refreshes interleave
    for chunk in random_stream(rng, 60):
        feed(chunk)
        if rng.random() < 0.6:
            facts.refresh()
    facts.refresh()
    assert_totals_match()
    assert table("SELECT count(*) FROM livedist_report_order") == {(60,)}

    # A distributor's joining time corrected to later: their orders are re-marked and count as before joining.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE livedist_distributor SET joined_at = joined_at + INTERVAL '5 hours' WHERE id = 'd3'")
        cursor.execute("SELECT count(*) FROM livedist_report_pending")
        assert cursor.fetchone()[0] > 0
    assert_totals_match()
    # A live's start moved, a watch removed: the viewers turned distributors follow.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE livedist_live SET started_at = started_at + INTERVAL '90 minutes' WHERE id = 'L2'")
        cursor.execute("DELETE FROM livedist_watch WHERE id IN (SELECT w.id FROM livedist_watch w "
                       "JOIN livedist_distributor d ON d.id = w.viewer LIMIT 1)")
    # Every order marked again, a stitch undone, and three refreshes racing over them.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE livedist_order SET has_pending = has_pending")
        cursor.execute("DELETE FROM livedist_alias WHERE visitor IN (SELECT visitor FROM livedist_alias LIMIT 2)")
    assert race(3, facts.refresh) == []
    facts.refresh()
    assert table("SELECT count(*) FROM livedist_report_pending") == {(0,)}
    assert_totals_match()
    assert table("SELECT count(*) FROM livedist_report_seller_live WHERE orders > 0") != {(0,)}

    assert reports(EVERYTHING) == reports(SINCE_EVER)  # the totals' answers are the lines' answers
    for live in ("L1", "L2"):
        assert reports(ReportFilter(live=live)) == reports(ReportFilter(live=live, since=SINCE_EVER.since))


def test_the_reports_read_the_totals_when_nothing_narrows_the_orders() -> None:
    """A total changed by hand shows in the whole-store reports only: they read it, the filtered ones do not."""
    s = Stream()
    s.distributor("d1")
    s.live("L1", products=("p-a",), start=0, end=60)
    s.click("d1", "c1", minute=-5, live="L1")
    s.order("o1", "c1", minute=10, lines=[("p-a", "100.00")])
    feed(s.raw)
    facts.refresh()
    with connection.cursor() as cursor:
        for sql in ("UPDATE livedist_report_seller_live SET paid_gmv = 1", "UPDATE livedist_report_seller SET "
                    "bound_gmv = 2", "UPDATE livedist_report_share SET gmv = 3", "UPDATE livedist_report_product SET "
                    "gmv = 4"):
            cursor.execute(sql)
    assert [r.gmv for r in matrix.distributor_live_matrix()] == [1]
    assert [r.gmv for r in matrix.distributor_live_matrix(SINCE_EVER)] == [100]
    assert [r.bound_gmv for r in attribution.attribution_by_distributor()] == [2]
    assert [r.gmv for r in attribution.gmv_shares()] == [3]
    assert [r.gmv for r in products.product_fit()] == [4]
    assert [r.gmv for r in products.product_fit(SINCE_EVER)] == [100]
