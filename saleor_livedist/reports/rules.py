"""What the reports take from the active rules: the watch-time threshold of invite tasks, and when a silent
viewer stops counting."""
from __future__ import annotations

from typing import Any

DEFAULT_WATCHED_MINUTES = 5


def _ruleset() -> Any:
    from ..inbox.processing import rules_source

    return rules_source().current().ruleset


def watched_minutes(live: str | None = None) -> int:
    """The smallest `qualify.watched_minutes` of the invite tasks that count for `live` (any task's if none
    names it), else 5."""
    tasks = [t for t in _ruleset().tasks if t.qualify.watched_minutes is not None]
    for_live = [t for t in tasks if live is not None and t.scope == "live" and t.applies_to(live)]
    chosen = for_live or tasks
    return min((t.qualify.watched_minutes for t in chosen), default=DEFAULT_WATCHED_MINUTES)


def silent_after_seconds() -> int:
    return int(_ruleset().viewing.silent_after_seconds)
