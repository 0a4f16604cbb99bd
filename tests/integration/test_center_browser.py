"""The distributor's center in a real headless Chromium at a phone's size (390 x 844): the storefront opens it with
the customer's token in the URL's fragment, the page signs in (the token leaves the address bar), shows the
distributor's links with their QR codes and what they converted, gets a new link, and a tag added to a customer
shows on the customer's card; in Simplified Chinese too."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.identity import of_user
from saleor_livedist.models import CustomerTag, LiveSession, ShareLink
from saleor_livedist.web.endpoints import sandbox_token
from tests.i18n.test_translated import zh
from tests.integration.test_api import a_live, join, user
from tests.browser import CHROMEDRIVER, CHROMIUM, FLAGS, needs_chromium, shown, wait_for
from tests.integration.test_center import bought_through

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]
PHONE = (390, 844)


@pytest.fixture
def phone() -> Any:
    """Chromium emulating a phone (its viewport, pixel ratio and touch), not only a narrow window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 3.0, "touch": True}})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_a_distributor_signs_in_with_a_token_sees_links_with_qr_codes_and_tags_a_customer(
        live_server: Any, phone: Any, tmp_path: Path) -> None:
    amy, ben = user("amy"), user("ben")
    join(Client(), amy)
    for live, title in (("L1", "Night market"), ("L2", "Autumn dresses")):
        a_live(live)
        LiveSession.objects.create(id=live, title=title, scheduled_start=timezone.now())
    bought_through(amy, ben, "live", "L1", "o1", "200.00")

    phone.get(f"{live_server.url}/center/#token={sandbox_token(amy)}")
    wait_for(lambda: phone.current_url.endswith("/center/links/") and phone.find_elements("css selector", ".link"),
             phone)
    assert "token" not in phone.current_url
    link = ShareLink.objects.get(distributor=of_user(amy), kind="live", target="L1")
    card = shown(phone, f"#link-{link.id}")
    assert "Night market" in card and "USD 200.00" in card
    figures = {name: phone.find_element("css selector", f"#link-{link.id} .{name}").text
               for name in ("clicks", "orders", "gmv")}
    assert figures == {"clicks": "1", "orders": "1", "gmv": "USD 200.00"}
    qr = phone.find_element("css selector", f"#link-{link.id} .qr svg")
    assert qr.is_displayed() and qr.size["width"] >= 100 and qr.find_elements("css selector", "path")
    width = phone.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page is {width}px wide on a {PHONE[0]}px phone"
    phone.save_screenshot(str(tmp_path / "links.png"))
    assert (tmp_path / "links.png").stat().st_size > 20_000

    offer = next(form for form in phone.find_elements("css selector", "form.shareable")
                 if "Autumn dresses" in form.text)
    offer.find_element("css selector", "button").click()
    wait_for(lambda: ShareLink.objects.filter(distributor=of_user(amy), target="L2").exists()
             and phone.find_elements("css selector", ".link[data-target=L2] .qr svg"), phone)
    poster = ShareLink.objects.get(target="L2")
    phone.get(f"{live_server.url}/center/links/{poster.id}/poster.svg")
    assert "Autumn dresses" in phone.page_source

    phone.get(f"{live_server.url}/center/people/")
    person = phone.find_element("css selector", ".person[data-stage=bought]")
    assert "b***@example.com" in person.text and "ben@example.com" not in phone.page_source
    person.find_element("name", "tag").send_keys("VIP")
    person.find_element("css selector", "form.add-tag button").click()
    wait_for(lambda: "VIP" in phone.find_element("css selector", ".person[data-stage=bought] .tags").text, phone)
    assert list(CustomerTag.objects.values_list("distributor", "tag")) == [(of_user(amy), "VIP")]
    phone.save_screenshot(str(tmp_path / "people.png"))

    phone.get(f"{live_server.url}/center/earnings/?lang=zh-Hans")
    assert zh("Earnings") in shown(phone, "main h2") and "USD 10.00" in shown(phone, ".totals")
    assert zh("Rule that paid it") in shown(phone, "#entries") and "direct (5%)" in shown(phone, "#entries")
