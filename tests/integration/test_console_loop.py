"""The console's data-loop pages on real PostgreSQL, over the small stream of tests/integration/test_reports.py
(live L1, distributors d1 and d2): each page answers staff and refuses staff without MANAGE_ORDERS, shows the
figures worked out by hand from the stream, downloads its tables as CSV, and says what is wrong with a bad filter."""
from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from saleor_livedist.inbox import processing
from tests.integration.test_console import page, signed_in
from tests.integration.test_reports import feed, live_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(settings: Any) -> Client:
    """A superuser, the stream fed, times shown in the stream's own zone (the test lives start at 20:00 +08:00)."""
    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": "Asia/Shanghai"}
    processing.reset_rules_source()
    feed(live_stream())
    yield signed_in("manager", superuser=True)
    processing.reset_rules_source()


def cells(html: str, selector: str) -> list[str]:
    """The text of each cell of the row `<tr SELECTOR>` (tags stripped)."""
    found = re.search(rf"<tr {selector}>(.*?)</tr>", html, re.S)
    assert found, f"no row {selector}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", found.group(1), re.S)]


def csv_of(client: Client, path: str, **query: str) -> list[str]:
    response = client.get("/console/" + path, query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return response.content.decode("utf-8-sig").splitlines()


PAGES = ["loop/", "loop/lives/L1/", "loop/matrix/", "loop/attribution/", "loop/products/", "customers/v1/",
         "orders/o1/", "products/p-plain/"]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_answers_staff_and_refuses_staff_without_manage_orders(manager: Client, path: str) -> None:
    assert "<nav>" in page(manager, path)
    assert "Manage orders" in page(signed_in("clerk"), path, 403)


def test_the_live_funnel_in_total_and_per_distributor(manager: Client) -> None:
    html = page(manager, "loop/lives/L1/")
    # clicked, entered, watched >= 5 min, ordered, paid, became distributors (worked out in test_reports.py)
    total = [cells(html, f'data-stage="{s}"')[1] for s in
             ("clicked", "entered", "watched", "ordered", "paid", "became_distributors")]
    assert total == ["4", "3", "2", "3", "2", "1"]
    assert cells(html, 'data-id="d1"')[1:] == ["3", "3", "2", "2", "1", "1"]
    assert cells(html, 'data-id="d2"')[1:] == ["2", "1", "1", "2", "1", "0"]
    found = re.search(r'<svg class="chart" data-chart="funnel".*?</svg>', html, re.S)
    assert found is not None
    svg = found.group(0)
    assert "<title" in svg and "Clicked a link: 4" in svg and svg.count("<rect") == 6
    assert "Watched 5 min or more" in html


def test_gmv_and_commission_over_the_minutes_and_the_leaderboard(manager: Client) -> None:
    html = page(manager, "loop/lives/L1/")
    # minute 20: o1 200.00 paid, d1 12% = 24.00; minute 50: o4 100.00, 12.00; minute 70: o2 unpaid
    assert cells(html, 'data-minute="20"') == ["20", "2026-11-20 20:20 +08:00", "1", "1", "CNY 200.00", "CNY 24.00",
                                               "CNY 200.00", "CNY 24.00"]
    assert cells(html, 'data-minute="50"')[2:] == ["1", "1", "CNY 100.00", "CNY 12.00", "CNY 300.00", "CNY 36.00"]
    assert cells(html, 'data-minute="70"')[2:] == ["1", "0", "CNY 0.00", "CNY 0.00", "CNY 300.00", "CNY 36.00"]
    assert 'data-chart="minutes-CNY"' in html and "<polyline" in html
    # the live room's board: d1 (3 invited, of whom v1 and v3 watched 5 minutes or more; o1 200.00) first,
    # d2 (2 invited, v3 bound to d1 and u4 never watching: none qualified; o4 100.00); names masked
    assert cells(html, 'data-rank="1"') == ["1", "visitor", "3", "2", "1", "CNY 200.00"]
    assert cells(html, 'data-rank="2"') == ["2", "visitor", "2", "0", "1", "CNY 100.00"]


def test_the_live_pages_tables_as_csv(manager: Client) -> None:
    funnel = csv_of(manager, "loop/lives/L1/", csv="funnel")
    assert funnel == ["live,distributor,clicked,entered,watched,ordered,paid,became_distributors,watched_minutes",
                      "L1,,4,3,2,3,2,1,5", "L1,d1,3,3,2,2,1,1,5", "L1,d2,2,1,1,2,1,0,5"]
    minutes = csv_of(manager, "loop/lives/L1/", csv="minutes")
    assert minutes[0] == "live,minute,at,currency,orders,paid_orders,gmv,commission" and len(minutes) == 91
    assert minutes[21] == "L1,20,2026-11-20T20:20:00+08:00,CNY,1,1,200.00,24.00"
    board = csv_of(manager, "loop/lives/L1/", csv="leaderboard")
    assert board[0] == "rank,name,invited,qualified,orders,gmv,currency" and board[1].endswith(",3,2,1,200.00,CNY")
    assert manager.get("/console/loop/lives/L1/", {"csv": "nothing"}).status_code == 404


def test_the_filter_narrows_the_live_page(manager: Client) -> None:
    later = page(manager, "loop/lives/L1/", since="2026-11-21")
    assert "Nobody clicked a link to this live in these days." in later and 'data-minute="20"' not in later
    same_day = page(manager, "loop/lives/L1/", since="2026-11-20", until="2026-11-20")
    assert cells(same_day, 'data-stage="clicked"')[1] == "4"
    assert 'data-minute="20"' not in page(manager, "loop/lives/L1/", channel="elsewhere")


@pytest.mark.parametrize("query, message", [
    ({"since": "2026-13-01"}, "“2026-13-01” is not a date: enter one such as 2026-12-05."),
    ({"until": "yesterday"}, "“yesterday” is not a date"),
    ({"since": "2026-11-22", "until": "2026-11-20"}, "The last day (2026-11-20) is before the first (2026-11-22)."),
])
def test_a_bad_filter_says_what_is_wrong(manager: Client, query: dict[str, str], message: str) -> None:
    html = page(manager, "loop/lives/L1/", 400, **query)
    assert message in html and 'role="alert"' in html
    assert cells(html, 'data-stage="clicked"')[1] == "4"  # the rest of the page, unfiltered by the bad field


def test_a_bad_filter_in_zh_hans(manager: Client) -> None:
    manager.cookies["django_language"] = "zh-hans"
    html = page(manager, "loop/matrix/", 400, since="2026-13-01")
    assert "“2026-13-01”不是日期：请输入如 2026-12-05 的日期。" in html and "not a date" not in html
    assert "直播的份额" in page(manager, "loop/attribution/") and "成为分销员" in page(manager, "customers/v1/")


def test_an_unknown_live(manager: Client) -> None:
    assert "There is no live L9." in page(manager, "loop/lives/L9/", 404)
    assert "There is no live L9." in page(manager, "loop/matrix/", 400, live="L9")


def test_the_distributor_by_live_matrix_and_the_viewers_turned_distributors(manager: Client) -> None:
    html = page(manager, "loop/matrix/")
    # d1 brought 3 viewers to L1, v1's 200.00 paid (12%: 24.00) and recruited v1; d2 2 viewers and u4's 100.00
    assert cells(html, 'data-id="d1" data-live="L1"')[2:] == ["3", "2", "1", "CNY 200.00", "CNY 24.00", "CNY 0.00",
                                                              "1"]
    assert cells(html, 'data-id="d2" data-live="L1"')[2:] == ["2", "0", "1", "CNY 100.00", "CNY 12.00", "CNY 0.00",
                                                              "0"]
    # v1 joined at minute 100 under d1 and sold p-plain 50.00 to c1 at minute 210 (5%: 2.50)
    assert cells(html, 'data-id="v1"') == ["v1", "L1", "d1", "2026-11-20 21:40 +08:00", "1", "CNY 50.00", "CNY 2.50"]
    matrix = csv_of(manager, "loop/matrix/", csv="matrix")
    assert matrix[0] == ("distributor,live,viewers,qualified,orders,gmv,commission,team_commission,recruited,"
                         "currency")
    assert "d1,L1,3,2,1,200.00,24.00,0.00,1,CNY" in matrix
    assert csv_of(manager, "loop/matrix/", csv="converted")[1:] == [
        "v1,L1,d1,2026-11-20T21:40:00+08:00,1,50.00,2.50,CNY"]
    assert 'data-id="v1"' not in page(manager, "loop/matrix/", since="2026-11-21")


def test_the_attribution_report_and_the_shares(manager: Client) -> None:
    html = page(manager, "loop/attribution/")
    # paid: o1 200.00 and o4 100.00 on air through d1 and d2 (both), o3 50.00 through v1 with no live:
    # the live 300 / 2 = 150.00, the distributors 50 + 150 = 200.00: 42.9% to 57.1%
    for key, value in (("orders", "3"), ("gmv", "CNY 350.00"), ("live_only", "CNY 0.00"),
                       ("distributors_only", "CNY 50.00"), ("both", "CNY 300.00"), ("neither", "CNY 0.00"),
                       ("live_share", "CNY 150.00 (42.9%)"), ("distributor_share", "CNY 200.00 (57.1%)"),
                       ("last_click", "3 / 0 / 0")):
        assert cells(html, f'data-key="{key}"')[1] == value, key
    found = re.search(r'<svg class="chart" data-chart="shares-CNY".*?</svg>', html, re.S)
    assert found is not None
    svg = found.group(0)
    assert ">42.9%<" in svg and ">57.1%<" in svg and "docs/reports.md" in html
    assert cells(html, 'data-id="d1"')[1:] == ["1", "CNY 200.00", "1", "CNY 200.00", "0", "CNY 0.00", "CNY 24.00"]
    assert cells(html, 'data-id="v1"')[1:] == ["1", "CNY 50.00", "1", "CNY 50.00", "0", "CNY 0.00", "CNY 2.50"]
    shares = csv_of(manager, "loop/attribution/", csv="shares")
    assert shares[1] == "CNY,3,350.00,0.00,50.00,300.00,0.00,150.00,200.00,42.9,57.1,3,0,0"
    assert csv_of(manager, "loop/attribution/", csv="distributors")[1] == "d1,CNY,1,200.00,1,200.00,0,0.00,24.00"
    assert "No paid order in these days." in page(manager, "loop/attribution/", since="2026-11-21")


def test_the_distribution_fit_of_products_and_the_recommendations(manager: Client) -> None:
    html = page(manager, "loop/products/")
    # p-feat: o1 200 + o4 100, both through distributors on air, 24.00 + 12.00 commission: ROI 300 / 36 = 8.33;
    # nobody clicked a link to the product itself. p-plain: c1 clicked v1's link and bought (100%), 50.00, 2.50
    assert cells(html, 'data-id="p-feat"')[1:] == ["0", "0", "-", "2", "CNY 300.00", "CNY 300.00", "CNY 36.00",
                                                   "8.33", "CNY 300.00", "CNY 0.00", "yes"]
    assert cells(html, 'data-id="p-plain"')[1:] == ["1", "1", "100.0%", "1", "CNY 50.00", "CNY 50.00", "CNY 2.50",
                                                    "20.00", "CNY 0.00", "CNY 50.00", "no"]
    assert 'data-chart="fit"' in html
    reason = re.search(r'<li data-kind="feature_product">(.*?)</li>', html, re.S)
    assert reason is not None and reason.group(1) == (
        "p-plain sells through distributors (1 of 1 people who clicked a distributor&#x27;s link bought it; 50.00 CNY) "
        "but no live features it.")
    assert csv_of(manager, "loop/products/", csv="fit")[0].startswith("product,currency,clickers,link_buyers")
    recommended = csv_of(manager, "loop/products/", csv="recommendations")
    assert recommended[1].startswith("feature_product,p-plain,,,50.00,CNY,")


def test_a_persons_journey_unmasked_for_staff(manager: Client) -> None:
    html = page(manager, "customers/v1/")
    # v1: d1's link at minute -30 (and bound to d1), L1 from minute 0 for 10 minutes, o1 at minute 20, paid,
    # a distributor at minute 100 (c1's click on v1's link later is c1's, not v1's)
    steps = re.findall(r'<tr data-step="(\w+)">', html)
    assert steps == ["clicked", "bound", "entered", "watched", "ordered", "paid", "became_distributor"]
    assert cells(html, 'data-step="clicked"')[:4] == ["2026-11-20 19:30 +08:00", "clicked a link", "L1", "d1"]
    assert cells(html, 'data-step="ordered"') == ["2026-11-20 20:20 +08:00", "ordered", "L1", "d1", "o1",
                                                  "CNY 200.00", "-", "-"]
    assert cells(html, 'data-step="watched"')[-1] == "600"
    journey = csv_of(manager, "customers/v1/", csv="journey")
    assert journey[0] == "at,step,live,distributor,order,amount,currency,link,watched_seconds" and len(journey) == 8
    assert "Nothing recorded for this person in these days." in page(manager, "customers/v1/", since="2026-11-21")


def test_an_orders_attribution_and_its_commissions_with_provenance(manager: Client) -> None:
    html = page(manager, "orders/o1/")
    assert cells(html, 'data-key="paid_to"')[1] == "d1" and cells(html, 'data-key="last_click"')[1] == "d1"
    assert cells(html, 'data-key="live"')[1] == "L1 (on air)"
    assert cells(html, 'data-key="commission"')[1] == "CNY 24.00"
    # 10% featured on air + 2% in the live's first hour of 200.00, booked when the order was created
    entry = cells(html, 'data-beneficiary="d1" data-kind="commission"')
    assert entry[2:8] == ["d1", "commission", "1", "12%", "CNY 24.00", "pending"] and entry[-1] == "order.created"
    assert "There is no order o9." in page(manager, "orders/o9/", 404)


def test_a_products_distribution_figures(manager: Client) -> None:
    html = page(manager, "products/p-plain")  # as the Dashboard's action opens it, without the slash
    assert cells(html, 'data-currency="CNY"')[1:5] == ["1", "1", "100.0%", "1"]
    assert 'data-id="p-feat"' not in html and "p-feat" not in html.split("<main>")[1]
    assert csv_of(manager, "products/p-plain/", csv="fit")[1].startswith("p-plain,CNY,1,1,1.0000,1,50.00,50.00,2.50")
