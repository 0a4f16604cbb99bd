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
                                                                           ("d2", 0, Decimal("0"), 2)]


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
