"""docs/extending.md is a runnable example: its Python blocks run in order here, asserts included."""
from __future__ import annotations

import re
from pathlib import Path

from saleor_livedist.rules import registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def test_extending_guide_runs() -> None:
    # The example registers extensions globally; put the registry back so other tests see it unchanged.
    saved = dict(registry._conditions), dict(registry._actions)
    try:
        run_guide()
    finally:
        registry._conditions.clear()
        registry._conditions.update(saved[0])
        registry._actions.clear()
        registry._actions.update(saved[1])


def run_guide() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    assert "engine" in namespace
