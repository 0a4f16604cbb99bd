"""The leaderboard widget in a real headless Chromium: it renders masked names, and after new orders it
redraws itself with the ranks changed (checked in the page and on screenshots)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from saleor_livedist.inbox import processing
from tests.browser import needs_chromium, wait_for
from tests.integration.test_api import join, user
from tests.integration.test_lives import order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
    pytest.mark.window(360, 420),
]


def names(driver: Any) -> list[str]:
    return [li.get_attribute("data-name") for li in driver.find_elements("css selector", "#rows li[data-name]")]


def test_the_widget_redraws_with_new_ranks_after_orders(live_server: Any, browser: Any, tmp_path: Path) -> None:
    from django.test import Client

    from saleor_livedist.models import LiveSession

    client, amy, ben = Client(), user("amy"), user("ben")
    join(client, amy)
    join(client, ben)
    now = timezone.now()
    LiveSession.objects.create(id="l3", title="Night market", scheduled_start=now, status="live", actual_start=now)
    for event in [
        {"id": "ls", "type": "live.scheduled", "at": now.isoformat(), "live": "l3", "starts_at": now.isoformat(),
         "products": ["p-dress"]},
        {"id": "st", "type": "live.started", "at": now.isoformat(), "live": "l3"},
        {"id": "k1", "type": "link.clicked", "at": now.isoformat(), "distributor": "user:%d" % amy.pk,
         "visitor": "v1", "target": {"live": "l3"}},
        {"id": "k2", "type": "link.clicked", "at": now.isoformat(), "distributor": "user:%d" % ben.pk,
         "visitor": "v2", "target": {"live": "l3"}},
    ]:
        processing.submit(event)
    order("v1", "o1", "p-dress")  # amy leads with 100.00
    browser.get(f"{live_server.url}/widget/leaderboard/l3/")
    wait_for(lambda: names(browser) == ["a***@example.com", "b***@example.com"])
    before = tmp_path / "before.png"
    browser.save_screenshot(str(before))
    order("v2", "o2", "p-dress")
    order("v2", "o3", "p-dress")  # ben overtakes with 200.00
    wait_for(lambda: names(browser) == ["b***@example.com", "a***@example.com"])
    after = tmp_path / "after.png"
    browser.save_screenshot(str(after))
    assert before.read_bytes() != after.read_bytes()  # what a viewer sees changed, not just the DOM
    wait_for(lambda: "CNY 200.00" in browser.find_element("css selector", "#rows li:first-child").text)


def test_an_unknown_live_has_no_widget(client: Any) -> None:
    assert client.get("/widget/leaderboard/nope/").status_code == 404


def test_the_sandbox_admin_is_styled_in_a_browser(live_server: Any, browser: Any, tmp_path: Path) -> None:
    """The admin was unstyled (its static files were not served): in a real browser its stylesheet applies."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    browser.get(f"{live_server.url}/admin/login/")
    header = browser.find_element("css selector", "#header")
    # base.css gives the header a background colour; unstyled, it is transparent
    assert header.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    browser.find_element("name", "username").send_keys("boss")
    browser.find_element("name", "password").send_keys("pw")
    browser.find_element("css selector", "input[type=submit]").click()
    wait_for(lambda: "Site administration" in browser.page_source)
    browser.save_screenshot(str(tmp_path / "admin.png"))


def test_the_widget_in_chinese(live_server: Any, browser: Any, tmp_path: Path) -> None:
    """?lang=zh-Hans (an OBS browser source sends no useful Accept-Language): the page and the rows the script
    draws are in the catalogue's Chinese."""
    from django.test import Client

    from saleor_livedist.models import LiveSession
    from tests.i18n.test_translated import zh

    client, amy = Client(), user("amy")
    join(client, amy)
    now = timezone.now()
    LiveSession.objects.create(id="l4", title="Night market", scheduled_start=now, status="live", actual_start=now)
    for event in [
        {"id": "ls", "type": "live.scheduled", "at": now.isoformat(), "live": "l4", "starts_at": now.isoformat(),
         "products": ["p-dress"]},
        {"id": "st", "type": "live.started", "at": now.isoformat(), "live": "l4"},
        {"id": "k1", "type": "link.clicked", "at": now.isoformat(), "distributor": "user:%d" % amy.pk,
         "visitor": "v1", "target": {"live": "l4"}},
    ]:
        processing.submit(event)
    order("v1", "o1", "p-dress")
    browser.get(f"{live_server.url}/widget/leaderboard/l4/?lang=zh-Hans")
    wait_for(lambda: names(browser) == ["a***@example.com"])
    meta = zh("%%(orders)s orders · %%(invited)s invited · %%(qualified)s qualified").replace("%%", "%")
    row = browser.find_element("css selector", "#rows li:first-child .meta").text
    assert row == meta % {"orders": 1, "invited": 1, "qualified": 0}
    assert browser.title == zh("%(title)s · leaderboard", title="Night market")
    browser.save_screenshot(str(tmp_path / "zh.png"))
    assert browser.find_element("css selector", "html").get_attribute("lang") == "zh-hans"
