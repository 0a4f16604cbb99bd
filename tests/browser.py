"""A real headless Chromium for the pages' tests (Debian's chromium and chromedriver; .ci/run installs them).

Tests use the `browser` fixture (tests/integration/conftest.py), at 1400x1000 unless the test or its module is
marked `@pytest.mark.window(width, height)`, and mark their module with `needs_chromium`."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)")

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=en-US")


def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium with a window of the given size, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], Any], driver: Any = None, seconds: float = 30) -> None:
    """Until `condition()` holds; a page still loading or redrawing (no such element yet, or a stale one) is read
    again. On time out, the assertion shows the start of the page when a driver is given."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (NoSuchElementException, StaleElementReferenceException):
            pass
        time.sleep(0.2)
    shows = f"; it shows: {driver.page_source[:2000]}" if driver is not None else ""
    raise AssertionError(f"the page did not get there in time{shows}")


def shown(driver: Any, css: str) -> str:
    """The text a person sees in the element (hidden text is left out by the browser)."""
    element = driver.find_element("css selector", css)
    assert element.is_displayed()
    return str(element.text)
