"""Extension points for developers: custom conditions and custom reward actions, by decorator or entry point.

    from saleor_livedist.rules import registry

    @registry.condition("big_basket")
    def big_basket(line, params):          # line: saleor_livedist.core.facts.LineFacts
        return line.order_amount >= Decimal(params["min_amount"])

    @registry.action("double_points")
    def double_points(entry, params):      # entry: saleor_livedist.core.facts.ActionContext
        return entry.points * 2            # extra points granted to the beneficiary

Packages can also register from an entry point in the group `saleor_livedist.rules`; the entry point is loaded
(imported) once, before rule files are validated, so its decorators run.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from ..exceptions import ExtensionError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "saleor_livedist.rules"

ConditionFn = Callable[[Any, dict[str, Any]], bool]
ActionFn = Callable[[Any, dict[str, Any]], int | None]

_conditions: dict[str, ConditionFn] = {}
_actions: dict[str, ActionFn] = {}
_entry_points_loaded = False


def condition(name: str) -> Callable[[ConditionFn], ConditionFn]:
    """Register `fn(line_facts, params) -> bool` under `name` for use as `when: {custom: {name: params}}`."""

    def register(fn: ConditionFn) -> ConditionFn:
        _conditions[name] = fn
        return fn

    return register


def action(name: str) -> Callable[[ActionFn], ActionFn]:
    """Register `fn(action_context, params) -> int | None` (points to grant) for use as `actions: {name: params}`."""

    def register(fn: ActionFn) -> ActionFn:
        _actions[name] = fn
        return fn

    return register


def load_entry_points() -> None:
    """Import every `saleor_livedist.rules` entry point once; a broken one is logged, not fatal."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception:  # a third-party package must not take the engine down
            logger.exception("could not load rules extension %s from entry point %s", ep.name, ep.value)


def condition_names() -> list[str]:
    load_entry_points()
    return sorted(_conditions)


def action_names() -> list[str]:
    load_entry_points()
    return sorted(_actions)


def get_condition(name: str) -> ConditionFn:
    load_entry_points()
    try:
        return _conditions[name]
    except KeyError:
        raise ExtensionError(
            f"unknown custom condition {name!r}; known: {', '.join(condition_names()) or 'none registered'}"
        ) from None


def get_action(name: str) -> ActionFn:
    load_entry_points()
    try:
        return _actions[name]
    except KeyError:
        raise ExtensionError(
            f"unknown custom action {name!r}; known: {', '.join(action_names()) or 'none registered'}"
        ) from None
