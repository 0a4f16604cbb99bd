"""The data loop's pages in a real headless Chromium on the sandbox, after the sample live session: staff sign in,
go from the navigation to the live's funnel page, and see its funnel drawn (an SVG) with the numbers the report
gives in the table beside it; a screenshot of the page is kept in the test's tmp dir."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saleor_livedist.reports.filters import ReportFilter
from saleor_livedist.reports.funnel import live_funnel
from tests.browser import needs_chromium, shown, wait_for
from tests.integration.test_console_browser import people, sign_in  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]

STAGES = ("clicked", "entered", "watched", "ordered", "paid", "became_distributors")


def test_staff_open_a_lives_funnel_from_the_navigation(live_server: Any, browser: Any, people: Any,  # noqa: F811 (the fixture)
                                                       tmp_path: Path) -> None:
    total = live_funnel(ReportFilter(live="live-1"))[0]
    assert total.clicked >= 3 and total.paid >= 1  # the sample session: several people came through links and paid
    sign_in(browser, live_server.url)
    browser.find_element("link text", "Data loop").click()
    wait_for(lambda: "Data loop" in browser.find_element("css selector", "h2").text, browser)
    browser.find_element("link text", "live-1").click()
    wait_for(lambda: "Live live-1: data loop" in browser.find_element("css selector", "h2").text, browser)

    chart = browser.find_element("css selector", 'svg[data-chart="funnel"]')
    assert chart.is_displayed() and chart.size["width"] > 300
    assert len(chart.find_elements("css selector", "rect")) == len(STAGES)
    for stage in STAGES:
        row = shown(browser, f'#funnel-total tr[data-stage="{stage}"]')
        assert row.endswith(" " + str(getattr(total, stage))), (stage, row)
    assert "Watched 5 min or more" in shown(browser, "#funnel-total")
    assert browser.find_element("css selector", 'svg[data-chart="minutes-CNY"] polyline').is_displayed()
    assert "CNY" in shown(browser, "#minutes-CNY")
    assert shown(browser, "#board tbody tr").startswith("1 ")
    browser.save_screenshot(str(tmp_path / "live-funnel.png"))
    assert (tmp_path / "live-funnel.png").stat().st_size > 20_000  # a drawn page, not a blank one
