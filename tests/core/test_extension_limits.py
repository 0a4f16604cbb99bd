"""What a developer's custom action may return: None or a whole number of points within +-10^9 (the points
column's range); anything else is an ExtensionError naming the action, never a grant."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from saleor_livedist.exceptions import ExtensionError
from saleor_livedist.rules import registry
from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts
from tests.builders import Stream, points, run

RETURNS: dict[str, Any] = {}
TASK = """schema: livedist/v1
tasks:
  - id: watcher
    scope: live
    qualify: {watched_minutes: 5}
    each: {actions: {test_bonus: {}}}
"""


@pytest.fixture(autouse=True)
def _bonus_action() -> Any:
    """Registered for these tests only: other tests list the registered names in their messages."""
    registry.action("test_bonus")(lambda ctx, params: RETURNS["value"])
    yield
    registry._actions.pop("test_bonus", None)


def outcome(value: Any) -> int:
    from pathlib import Path

    files = {p.name: p.read_text() for p in Path(default_rules_dir()).glob("*.yaml")}
    files["tasks.yaml"] = TASK
    RETURNS["value"] = value
    s = Stream()
    s.distributor("bob")
    s.live("L1", start=0, end=60)
    s.click("bob", "v1", minute=-5, live="L1")
    s.watch("L1", "v1", start=1, minutes=6)
    return points(run(s, "python", load_rules_from_texts(files)), "bob")


@pytest.mark.parametrize(("value", "granted"), [(None, 0), (7, 7), (Decimal("3"), 3), (-10**9, -10**9)])
def test_whole_points_within_the_limit_are_granted(value: Any, granted: int) -> None:
    assert outcome(value) == granted


@pytest.mark.parametrize("value", [10**9 + 1, 10**100, 2.5, float("nan"), True, "5", Decimal("1.5")])
def test_anything_else_is_an_error_naming_the_action(value: Any) -> None:
    with pytest.raises(ExtensionError, match="custom action 'test_bonus' returned"):
        outcome(value)
