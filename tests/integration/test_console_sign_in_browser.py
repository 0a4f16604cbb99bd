"""The console's sign-in inside the Dashboard's iframe, in a real headless Chromium: a stand-in for the Dashboard
frames a console page and posts it the handshake with the token, as Saleor's Dashboard does; the page exchanges
it at app/session for the console's cookie and reloads signed in. A forged token leaves the page refusing, with
the reason. The plugin's endpoint is served here with a test issuer (tests/integration/test_console_tokens.py)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from saleor_livedist.web.endpoints import handle, sandbox_authenticate
from tests.browser import needs_chromium
from tests.integration.test_console_tokens import HOST, OTHER_KEY, token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
    pytest.mark.window(360, 420),
]

DASHBOARD = """<!doctype html><title>Dashboard</title>
<iframe id="app" name="app" style="width: 900px; height: 600px"
        src="/plugins/global/saleor_livedist/console/?id=QXBwOjM%3D&theme=light"></iframe>
<script>
  var frame = document.getElementById("app");
  frame.addEventListener("load", function () {
    frame.contentWindow.postMessage({type: "handshake", payload: {token: TOKEN, version: 1}}, location.origin);
  });
</script>"""


@csrf_exempt
def plugin(request: HttpRequest, path: str) -> HttpResponse:
    return handle(request, path, sandbox_authenticate, app=HOST)


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse(DASHBOARD.replace("TOKEN", json.dumps(request.GET["token"])))


urlpatterns = [
    re_path(r"^plugins/global/saleor_livedist/(?P<path>.*)$", plugin),
    re_path(r"^dashboard/$", dashboard),
]


def frame_text(driver: Any, wanted: str, seconds: float = 20) -> str:
    """The app frame's text once it shows `wanted`: the sign-in page reloads the frame after the handshake, so a
    read can meet the page being replaced; it is read again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        driver.switch_to.default_content()
        driver.switch_to.frame("app")
        try:
            text = driver.find_element("tag name", "body").text
        except (StaleElementReferenceException, NoSuchElementException):  # the frame reloaded while read
            time.sleep(0.2)
            continue
        if wanted in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{wanted!r} not in the frame: {text!r}")


def test_the_dashboards_handshake_signs_the_staff_member_in_to_the_console(
        live_server: Any, browser: Any, settings: Any, tmp_path: Path) -> None:
    from urllib.parse import quote

    settings.ROOT_URLCONF = __name__
    browser.get(f"{live_server.url}/dashboard/?token={quote(token())}")
    text = frame_text(browser, "Wang Fang")  # the console's layout names the signed-in staff member
    assert "/plugins/global/saleor_livedist/console/" in browser.execute_script("return location.pathname")
    browser.save_screenshot(str(tmp_path / "console-signed-in.png"))
    assert "Distributors" in text or "分销员" in text
    cookie = browser.get_cookie("livedist_console")
    assert cookie is not None and cookie["path"] == "/plugins/global/saleor_livedist/console/"
    assert cookie["httpOnly"] and cookie["sameSite"] == "None" and cookie["secure"]


def test_a_forged_token_leaves_the_page_refusing_with_the_reason(
        live_server: Any, browser: Any, settings: Any) -> None:
    from urllib.parse import quote

    settings.ROOT_URLCONF = __name__
    browser.get(f"{live_server.url}/dashboard/?token={quote(token(key=OTHER_KEY))}")
    frame_text(browser, "not valid")
    assert browser.get_cookie("livedist_console") is None
