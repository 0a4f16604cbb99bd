import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from saleor_livedist.inbox import processing
from saleor_livedist.rules.loader import default_rules_dir
from tests.browser import chromium


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test's client calls from 127.0.0.1: each test starts with the endpoints' rate-limit and daily
    counters (kept in the per-process cache) at zero, as a new day would."""
    cache.clear()


@pytest.fixture
def rules_with(settings: Any, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """The default rules plus policy sections of the test's own: rules_with(guards="invitees: anyone")."""
    def use(**sections: str) -> None:
        rules = tmp_path / "rules"
        if not rules.exists():
            shutil.copytree(default_rules_dir(), rules)
        for name, body in sections.items():
            (rules / f"{name}.yaml").write_text(f"schema: livedist/v1\n{name}:\n{textwrap.indent(body, '  ')}\n")
        settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules)}
        processing.reset_rules_source()

    yield use
    processing.reset_rules_source()


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A headless Chromium (tests/browser.py), its window sized by the test's `window(width, height)` mark."""
    window = request.node.get_closest_marker("window")
    yield from chromium(*(window.args if window else ()))
