"""The reports (saleor_livedist/reports) on real PostgreSQL, over small streams fed through the inbox as Saleor's
hooks feed them. Every expected figure is worked out by hand from the stream and the default rules (5% direct,
10% for a featured product on air, +2% in a live's first hour, 5% from a replay)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from saleor_livedist.inbox import processing
from saleor_livedist.models import LiveSession, ReportLine
from saleor_livedist.reports.export import header, to_csv
from saleor_livedist.reports.facts import refresh
from saleor_livedist.reports.filters import ReportFilter
from saleor_livedist.reports.funnel import FunnelRow, live_funnel, live_leaderboard, live_minutes
from saleor_livedist.reports.matrix import ConvertedRow, MatrixRow, converted_viewers, distributor_live_matrix
from tests.builders import T0, Stream

pytestmark = pytest.mark.django_db

L1 = ReportFilter(live="L1")


def feed(s: Stream) -> None:
    """Through the inbox, as the hooks hand events over."""
    s.events()  # the live's end goes in on time
    for event in s.raw:
        processing.submit(event, process=False)
    processing.process_pending()


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def live_stream() -> Stream:
    """Live L1 on air from minute 0 to 90, featuring p-feat. d1 brings v1, v2, v3; d2 brings v3 (bound to d1
    already) and an anonymous visitor who registers as u4. v1 watches 10 minutes, v2 3, v3 6; u4 never joins.
    v1 buys p-feat 200.00 at minute 20 (paid, d1 earns 12%: 24.00); u4 buys p-feat 100.00 at minute 50 (paid,
    d2 earns 12%: 12.00); v3 orders p-plain 100.00 at minute 70 and never pays. v1 becomes a distributor at
    minute 100 (upline d1) and sells p-plain 50.00 to c1 through a product link at minute 210 (5%: 2.50)."""
    s = Stream()
    s.distributor("d1")
    s.distributor("d2")
    s.live("L1", products=("p-feat",), start=0, end=90)
    for n, viewer in enumerate(("v1", "v2", "v3")):
        s.click("d1", viewer, minute=-30 + n, live="L1")
    s.click("d2", "v3", minute=-20, live="L1")
    s.click("d2", "vis-4", minute=-19, live="L1")
    s.watch("L1", "v1", start=0, minutes=10)
    s.watch("L1", "v2", start=1, minutes=3)
    s.watch("L1", "v3", start=2, minutes=6)
    s.order("o1", "v1", minute=20, lines=[("p-feat", "200.00")])
    s.add("customer.registered", 45, customer="u4", visitor="vis-4")
    s.order("o4", "u4", minute=50, lines=[("p-feat", "100.00")])
    s.order("o2", "v3", minute=70, paid=False, lines=[("p-plain", "100.00")])
    s.add("distributor.joined", 100, customer="v1")
    s.click("v1", "c1", minute=200, product="p-plain")
    s.order("o3", "c1", minute=210, lines=[("p-plain", "50.00")])
    return s


def test_the_funnel_per_distributor_and_in_total() -> None:
    feed(live_stream())
    rows = live_funnel(L1, now=minute(400))
    assert rows == [
        # clicked, entered, watched 5 min, ordered, paid, became distributors
        FunnelRow("L1", None, 4, 3, 2, 3, 2, 1, watched_minutes=5),  # v1, v2, v3, u4: v3 counted once
        FunnelRow("L1", "d1", 3, 3, 2, 2, 1, 1, watched_minutes=5),  # v1 v2 v3; v1 v3 watched; v1 v3 ordered
        FunnelRow("L1", "d2", 2, 1, 1, 2, 1, 0, watched_minutes=5),  # v3 and u4 (the visitor, stitched)
    ]


def test_the_funnel_threshold_and_date_range() -> None:
    feed(live_stream())
    longer = live_funnel(L1, watched_minutes=7, now=minute(400))
    assert [(r.distributor, r.watched, r.watched_minutes) for r in longer] == [(None, 1, 7), ("d1", 1, 7),
                                                                               ("d2", 0, 7)]
    early = live_funnel(ReportFilter(live="L1", until=minute(55)), now=minute(400))  # o2 (minute 70) left out
    assert [(r.distributor, r.ordered, r.paid) for r in early] == [(None, 2, 2), ("d1", 1, 1), ("d2", 1, 1)]
    late_clicks = live_funnel(ReportFilter(live="L1", since=minute(-25)), now=minute(400))  # d1's clicks left out
    assert [(r.distributor, r.clicked) for r in late_clicks] == [(None, 2), ("d2", 2)]
    with pytest.raises(ValueError, match="one live"):
        live_funnel(ReportFilter())


def test_gmv_and_commission_over_the_live_minutes() -> None:
    feed(live_stream())
    rows = live_minutes(L1)
    assert [r.minute for r in rows] == list(range(90))  # minutes 0-89 of a 90-minute live
    assert rows[0].at == T0 and rows[20].at == minute(20)
    busy = [(r.minute, r.orders, r.paid_orders, r.gmv, r.commission) for r in rows if r.orders]
    assert busy == [(20, 1, 1, Decimal("200.00"), Decimal("24.00")), (50, 1, 1, Decimal("100.00"), Decimal("12.00")),
                    (70, 1, 0, Decimal("0.00"), Decimal("0.00"))]
    assert {r.currency for r in rows} == {"CNY"}
    assert live_minutes(ReportFilter(live="L1", channel="elsewhere")) == []


def test_a_refund_and_a_cancel_reach_the_minutes() -> None:
    s = live_stream()
    s.add("order.refunded", 300, order="o1", lines=[{"line": "1", "amount": "50.00"}])
    s.add("order.cancelled", 301, order="o4")
    feed(s)
    busy = {r.minute: (r.gmv, r.commission) for r in live_minutes(L1) if r.orders}
    # 200 - 50 kept, 12% of 150 = 18.00 (24.00 pending, then an adjustment of -6.00); o4 reversed: nothing
    assert busy == {20: (Decimal("150.00"), Decimal("18.00")), 50: (Decimal("0.00"), Decimal("0.00")),
                    70: (Decimal("0.00"), Decimal("0.00"))}
    assert not ReportLine.objects.filter(order="o4", kept__gt=0).exists()


def test_a_whole_refund_and_a_payment_that_came_before_its_order() -> None:
    s = live_stream()
    s.add("order.refunded", 300, order="o4")  # no lines: the whole order
    feed(s)
    processing.submit({"id": "early-pay", "type": "order.paid", "at": minute(41).isoformat(), "order": "o5"},
                      process=False)
    processing.process_pending()
    assert live_minutes(L1)[40].orders == 0  # paid, but not created yet: nothing to report
    processing.submit({"id": "late-create", "type": "order.created", "at": minute(40).isoformat(), "order": "o5",
                       "customer": "v2", "channel": "default", "currency": "CNY",
                       "lines": [{"line": "1", "product": "p-feat", "category": "cat", "quantity": 1,
                                  "amount": "10.00"}]}, process=False)
    processing.process_pending()
    rows = {r.minute: (r.orders, r.paid_orders, r.gmv, r.commission) for r in live_minutes(L1) if r.orders}
    # o4 refunded whole: kept 0, commission reversed; o5 (v2, bound to d1): 12% of 10.00 = 1.20
    assert rows[50] == (1, 1, Decimal("0.00"), Decimal("0.00"))
    assert rows[40] == (1, 1, Decimal("10.00"), Decimal("1.20"))


def test_the_leaderboard_is_the_live_rooms() -> None:
    feed(live_stream())
    board = live_leaderboard(L1)
    assert [(r.rank, r.orders, r.gmv, r.invited) for r in board] == [(1, 1, Decimal("200.00"), 3),
                                                                    (2, 1, Decimal("100.00"), 2)]
    assert {r.name for r in board} == {"visitor"}  # masked: no identity is shown


def test_the_distributor_by_live_matrix() -> None:
    feed(live_stream())
    assert distributor_live_matrix() == [
        MatrixRow("d1", "L1", viewers=3, qualified=2, orders=1, gmv=Decimal("200.00"), commission=Decimal("24.00"),
                  team_commission=Decimal("0.00"), recruited=1, currency="CNY"),
        MatrixRow("d2", "L1", viewers=2, qualified=0, orders=1, gmv=Decimal("100.00"), commission=Decimal("12.00"),
                  team_commission=Decimal("0.00"), recruited=0, currency="CNY"),
    ]


def test_the_matrix_filters() -> None:
    feed(live_stream())
    LiveSession.objects.create(id="L1", title="L1", channel="default", scheduled_start=T0)
    assert [r.distributor for r in distributor_live_matrix(ReportFilter(channel="default"))] == ["d1", "d2"]
    assert distributor_live_matrix(ReportFilter(channel="elsewhere")) == []
    assert distributor_live_matrix(ReportFilter(live="L2")) == []
    assert distributor_live_matrix(ReportFilter(since=minute(60))) == []  # L1 started before
    # Orders placed before minute 30 only: d2's sale drops out, d2's viewers stay.
    early = distributor_live_matrix(ReportFilter(until=minute(30)))
    assert [(r.distributor, r.orders, r.gmv, r.viewers) for r in early] == [("d1", 1, Decimal("200.00"), 3),
                                                                           ("d2", 0, Decimal(0), 2)]


def test_viewers_turned_distributors_and_what_they_sold() -> None:
    feed(live_stream())
    assert converted_viewers() == [
        ConvertedRow("v1", "L1", brought_by="d1", joined_at=minute(100), orders=1, gmv=Decimal("50.00"),
                     commission=Decimal("2.50"), currency="CNY"),
    ]
    assert converted_viewers(ReportFilter(live="L2")) == []


def test_csv_of_the_funnel_and_the_matrix(settings: object) -> None:
    settings.LIVEDIST = {"DISPLAY_TIME_ZONE": "Asia/Shanghai"}  # type: ignore[attr-defined]
    feed(live_stream())
    funnel = to_csv(live_funnel(L1, now=minute(400)))
    assert funnel.splitlines() == [
        "live,distributor,clicked,entered,watched,ordered,paid,became_distributors,watched_minutes",
        "L1,,4,3,2,3,2,1,5", "L1,d1,3,3,2,2,1,1,5", "L1,d2,2,1,1,2,1,0,5"]
    matrix = to_csv(distributor_live_matrix()).splitlines()
    assert matrix[1] == "d1,L1,3,2,1,200.00,24.00,0.00,1,CNY"
    converted = to_csv(converted_viewers()).splitlines()
    assert converted[1] == "v1,L1,d1,2026-11-20T21:40:00+08:00,1,50.00,2.50,CNY"
    settings.LIVEDIST = {"DISPLAY_TIME_ZONE": "UTC"}  # type: ignore[attr-defined]
    assert to_csv(converted_viewers()).splitlines()[1].split(",")[3] == "2026-11-20T13:40:00+00:00"
    assert to_csv([], header(MatrixRow)).splitlines() == [",".join(header(MatrixRow))]


def test_report_lines_follow_the_orders_as_they_change() -> None:
    feed(live_stream())
    assert refresh() == 4  # o1, o2, o3, o4: one line each, computed when a report first reads them
    assert refresh() == 0  # nothing is marked now
    processing.submit({"id": "late-pay", "type": "order.paid", "at": minute(80).isoformat(), "order": "o2"},
                      process=False)
    processing.process_pending()
    assert ReportLine.objects.get(order="o2").paid_at is None  # marked; computed when a report reads
    live_minutes(L1)
    assert ReportLine.objects.get(order="o2").paid_at == minute(80)
    assert refresh() == 0


# ---------------------------------------------------------------------- attribution, journey, products


def attribution_stream() -> Stream:
    """live_stream, plus: v3 pays o2 (p-plain 100.00, bound to d1, last click d2, d1 an assist; 5% to d1: 5.00);
    w9 joins L1 with no link and buys p-feat 80.00 on air (the live's alone); c9 buys p-plain 30.00 with no
    click and no live (the store's own)."""
    s = live_stream()
    s.add("order.paid", 75, order="o2")
    s.watch("L1", "w9", start=25, minutes=10)
    s.order("o8", "w9", minute=30, lines=[("p-feat", "80.00")])
    s.order("o9", "c9", minute=300, lines=[("p-plain", "30.00")])
    return s


def test_orders_by_binding_last_click_and_assists() -> None:
    from saleor_livedist.reports.attribution import AttributionRow, attribution_by_distributor

    feed(attribution_stream())
    d = Decimal
    assert attribution_by_distributor() == [
        AttributionRow("d1", "CNY", 2, d("300.00"), 1, d("200.00"), 1, d("100.00"), d("29.00")),  # o1 o2; o1; o2
        AttributionRow("d2", "CNY", 1, d("100.00"), 2, d("200.00"), 0, d("0.00"), d("12.00")),  # o4; o4 o2
        AttributionRow("v1", "CNY", 1, d("50.00"), 1, d("50.00"), 0, d("0.00"), d("2.50")),  # o3
    ]
    early = attribution_by_distributor(ReportFilter(until=minute(60)))  # o1 and o4 only
    assert [(r.distributor, r.bound_orders, r.last_click_orders, r.assisted_orders) for r in early] == [
        ("d1", 1, 1, 0), ("d2", 1, 1, 0)]
    assert attribution_by_distributor(ReportFilter(channel="elsewhere")) == []


def test_the_live_and_the_distributors_shares() -> None:
    from saleor_livedist.reports.attribution import GmvShares, gmv_shares

    feed(attribution_stream())
    d = Decimal
    # Paid: o1 200 + o4 100 + o2 100 (live and a distributor), o3 50 (a distributor), o8 80 (the live), o9 30.
    # Live: 80 + 400 / 2 = 280; distributors: 50 + 200 = 250; 280 / 530 = 52.8%.
    assert gmv_shares() == [GmvShares("CNY", 6, d("560.00"), d("80.00"), d("50.00"), d("400.00"), d("30.00"),
                                      d("280.00"), d("250.00"), d("52.8"), d("47.2"), 3, 1, 0)]
    (none_to_live,) = gmv_shares(joint_live_share=Decimal(0))
    assert (none_to_live.live_share, none_to_live.distributor_share, none_to_live.live_percent) == (
        d("80.00"), d("450.00"), d("15.1"))
    (only_l1,) = gmv_shares(L1)  # o1, o4, o2, o8: 280 of 480
    assert (only_l1.gmv, only_l1.live_share, only_l1.distributor_share, only_l1.live_percent) == (
        d("480.00"), d("280.00"), d("200.00"), d("58.3"))
    with pytest.raises(ValueError):
        gmv_shares(joint_live_share=Decimal("1.5"))


def journey_stream(amy: str, bea: str) -> Stream:
    """Amy (a distributor) shares L1 with an anonymous visitor, who watches 6 minutes, signs up as Bea at minute
    8, buys p-feat 150.00 at minute 20 (30.00 refunded at minute 200) and becomes a distributor at minute 300."""
    s = Stream()
    s.distributor(amy)
    s.live("L1", products=("p-feat",), start=0, end=90)
    s.click(amy, "vis-j", minute=-10, live="L1")
    s.watch("L1", "vis-j", start=0, minutes=6)
    s.add("customer.registered", 8, customer=bea, visitor="vis-j")
    s.order("o-j", bea, minute=20, lines=[("p-feat", "150.00")])
    s.add("order.refunded", 200, order="o-j", lines=[{"line": "1", "amount": "30.00"}])
    s.add("distributor.joined", 300, customer=bea)
    return s


def _people() -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    amy = users.create(username="amy", email="amy@example.com", first_name="Amy", last_name="Lee")
    bea = users.create(username="bea", email="bea@example.com")
    return f"user:{amy.pk}", f"user:{bea.pk}"


def test_a_persons_journey_masked_and_as_staff_see_it() -> None:
    from saleor_livedist.reports.journey import JourneyStep, journey

    amy, bea = _people()
    feed(journey_stream(amy, bea))
    masked = "a***@example.com"
    expected = [
        JourneyStep(minute(-10), "clicked", "L1", masked, None, None, "", "live:L1", None),
        JourneyStep(minute(-10), "bound", None, masked, None, None, "", "", None),
        JourneyStep(minute(0), "entered", "L1", None, None, None, "", "", None),
        JourneyStep(minute(6), "watched", "L1", None, None, None, "", "", 360),
        JourneyStep(minute(20), "ordered", "L1", masked, "o-j", Decimal("150.00"), "CNY", "", None),
        JourneyStep(minute(21), "paid", "L1", masked, "o-j", Decimal("120.00"), "CNY", "", None),
        JourneyStep(minute(300), "became_distributor", None, masked, None, None, "", "", None),
    ]
    assert journey(bea) == expected
    assert journey("vis-j") == expected  # the visitor id is the same person
    staff = journey(bea, masked=False)
    assert {s.distributor for s in staff} - {None} == {"Amy Lee (a***@example.com)"}
    assert [s.step for s in journey(bea, ReportFilter(since=minute(15)))] == ["ordered", "paid", "became_distributor"]
    assert [s.step for s in journey(bea, L1)] == ["clicked", "entered", "watched", "ordered", "paid"]
    assert [s.step for s in journey(bea, ReportFilter(channel="elsewhere"))] == [
        "clicked", "bound", "entered", "watched", "became_distributor"]  # orders are the channel's
    assert journey("nobody") == []
    lines = to_csv(journey(bea)).splitlines()
    assert lines[0] == "at,step,live,distributor,order,amount,currency,link,watched_seconds"
    assert lines[6] == "2026-11-20T12:21:00+00:00,paid,L1,a***@example.com,o-j,120.00,CNY,,"


def test_product_distribution_fit() -> None:
    from saleor_livedist.reports.products import ProductFit, product_fit

    feed(live_stream())
    d = Decimal
    # p-feat: o1 200 (24.00) + o4 100 (12.00), on air, featured; p-plain: o3 50 (2.50) from c1, who clicked
    # v1's link to it (1 of 1); o2 is not paid.
    assert product_fit() == [
        ProductFit("p-feat", "CNY", 0, 0, None, 2, d("300.00"), d("300.00"), d("36.00"), d("8.3333"), d("300.00"),
                   d("0.00"), True),
        ProductFit("p-plain", "CNY", 1, 1, d("1.0000"), 1, d("50.00"), d("50.00"), d("2.50"), d("20.0000"),
                   d("0.00"), d("50.00"), False),
    ]
    early = product_fit(ReportFilter(until=minute(30)))  # o1 only; c1's click is later
    assert [(p.product, p.lines, p.gmv, p.clickers) for p in early] == [("p-feat", 1, d("200.00"), 0)]
    assert product_fit(ReportFilter(channel="elsewhere")) == [
        ProductFit("p-plain", "", 1, 0, d("0.0000"), 0, d("0"), d("0"), d("0"), None, d("0"), d("0"), False)]


def recommendation_stream() -> Stream:
    """live_stream, plus d3, who shares only a product link (p-plain) with k1; k1 joins L1 without a link and
    buys p-feat 100.00 on air, paying d3 (12%)."""
    s = live_stream()
    s.distributor("d3")
    s.click("d3", "k1", minute=-100, product="p-plain")
    s.watch("L1", "k1", start=30, minutes=5)
    s.order("o-k", "k1", minute=32, lines=[("p-feat", "100.00")])
    return s


def test_recommendations_say_why_in_english_and_chinese() -> None:
    from django.utils import translation

    from saleor_livedist.reports.products import Recommendation, recommendations

    feed(recommendation_stream())
    with translation.override("en"):
        found = recommendations()
    assert found == [
        Recommendation("feature_product", "p-plain", None, None, Decimal("50.00"), "CNY",
                       "p-plain sells through distributors (1 of 2 people who clicked a distributor's link bought "
                       "it; 50.00 CNY) but no live features it."),
        Recommendation("share_live", None, "L1", "d3", Decimal("100.00"), "CNY",
                       "Customers of visitor bought 100.00 CNY from live L1 (1 of them), but visitor brought no "
                       "viewers to it: its links would reach people who already buy there."),
    ]
    assert recommendations(min_conversion=Decimal("0.6"))[0].kind == "share_live"  # p-plain converts at 0.5
    assert [r.kind for r in recommendations(ReportFilter(live="L2"))] == ["feature_product"]  # nor in L2
    with translation.override("zh-hans"):
        chinese = recommendations()
    assert [r.kind for r in chinese] == ["feature_product", "share_live"]
    assert "p-plain" in chinese[0].reason and "50.00" in chinese[0].reason and "分销" in chinese[0].reason
    assert "L1" in chinese[1].reason and "100.00" in chinese[1].reason and "直播" in chinese[1].reason
