"""The console in a real headless Chromium on the sandbox, after the sample live session: staff sign in through
the admin's login page, read distributors and the ledger (amounts worked out by hand, checked in what the
page shows), and ban a distributor with the page's own form."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saleor_livedist.inbox import processing
from saleor_livedist.models import DistributorBan
from saleor_livedist.sandbox import demo
from tests.browser import needs_chromium, shown, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


@pytest.fixture
def people() -> Any:
    processing.reset_rules_source()
    yield demo.play()[0]
    processing.reset_rules_source()


def sign_in(driver: Any, url: str) -> None:
    driver.get(url + "/console/distributors/")
    assert "Sign in as staff to use the console." in shown(driver, "main")
    driver.find_element("link text", "Sign in").click()
    driver.find_element("name", "username").send_keys("boss")
    driver.find_element("name", "password").send_keys("demo")  # the demo's staff account
    driver.find_element("css selector", "input[type=submit]").click()
    wait_for(lambda: driver.current_url.endswith("/console/distributors/")
             and "Distributors" in driver.find_element("css selector", "h2").text, driver)


def test_staff_read_distributors_and_the_ledger_and_ban_one(live_server: Any, browser: Any, people: Any,
                                                            tmp_path: Path) -> None:
    sign_in(browser, live_server.url)
    bob = shown(browser, f'tr[data-id="{people["bob"]}"]')
    # bob's balances as `livedist demo` prints them: pending 49.86, approved 58.76, reversed 41.35
    assert "bob (b***@example.com)" in bob and "leader" in bob
    assert "CNY 49.86" in bob and "CNY 58.76" in bob and "CNY 41.35" in bob
    assert "bob (b***@example.com)" in shown(browser, f'tr[data-id="{people["carol"]}"]')  # carol's upline
    nav = browser.find_element("css selector", "nav a.here")
    assert nav.text == "Distributors" and nav.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    browser.save_screenshot(str(tmp_path / "distributors.png"))
    assert (tmp_path / "distributors.png").stat().st_size > 20_000  # a drawn page, not a blank one

    browser.get(live_server.url + "/console/ledger/?order=o-201")
    ledger = shown(browser, "#ledger")
    # 14% (10 live + 2 first hour + 2 task) of 399.00 = 55.86; 100.00 refunded later takes 14.00 off;
    # alice, bob's upline, 2% = 7.98 and 2.00 off
    for text in ("CNY 55.86", "CNY -14.00", "CNY 7.98", "CNY -2.00", "14%", "order.created", "order.refunded"):
        assert text in ledger, text
    browser.save_screenshot(str(tmp_path / "ledger.png"))

    browser.get(live_server.url + "/console/distributors/?q=bob")
    row = browser.find_element("css selector", f'tr[data-id="{people["bob"]}"]')
    row.find_element("name", "reason").send_keys("fake orders")
    row.find_element("css selector", "form.ban button").click()
    wait_for(lambda: "is banned." in browser.find_element("css selector", "main").text, browser)
    assert "Banned" in shown(browser, f'tr[data-id="{people["bob"]}"]')
    assert "fake orders" in shown(browser, f'tr[data-id="{people["bob"]}"]')
    assert DistributorBan.objects.get(distributor=people["bob"]).reason == "fake orders"
    browser.save_screenshot(str(tmp_path / "banned.png"))
