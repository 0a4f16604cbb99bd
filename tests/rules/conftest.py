"""Fixtures shared by the rule-file tests."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from saleor_livedist.rules import registry

HERE = Path(__file__).parent
VALID_DIR = HERE / "valid"
INVALID_DIR = HERE / "invalid"

# The corpus names these; hints list them, so they are pinned rather than taken from whatever else registered.
CONDITIONS = ["big_basket", "weekend"]
ACTIONS = ["double_points"]


@pytest.fixture(autouse=True)
def known_extensions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "condition_names", lambda: list(CONDITIONS))
    monkeypatch.setattr(registry, "action_names", lambda: list(ACTIONS))
    yield
