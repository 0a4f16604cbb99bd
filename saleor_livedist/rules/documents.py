"""Rule documents written by the program rather than a merchant: an invite task staff publish for one live
(see live_room/published_tasks.py) is kept and loaded as such a document, so it goes through the same
validation as a file."""
from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

from ruamel.yaml import YAML


def task_document(live_id: str, task_id: str, description: str = "", watched_minutes: int | None = None,
                  entered: bool = False, ordered: bool = False, target: int | None = None,
                  reward_points: int = 0, reward_bonus_percent: Decimal | None = None,
                  each_points: int = 0) -> str:
    """The rule document (YAML) for one live's task. Values are written as given: the loader judges them."""
    qualify: dict[str, Any] = {}
    if watched_minutes is not None:
        qualify["watched_minutes"] = watched_minutes
    if entered:
        qualify["entered"] = True
    if ordered:
        qualify["ordered"] = True
    task: dict[str, Any] = {"id": task_id}
    if description:
        task["description"] = description
    task.update({"scope": "live", "lives": [live_id], "qualify": qualify})
    if each_points:
        task["each"] = {"points": each_points}
    if target is not None:
        task["target"] = target
        reward: dict[str, Any] = {}
        if reward_points:
            reward["points"] = reward_points
        if reward_bonus_percent:
            reward["bonus_percent"] = Decimal(reward_bonus_percent)
        task["reward"] = reward
    out = StringIO()
    out.write("# Published by staff for one live (saleor-livedist).\n")
    _yaml().dump({"schema": "livedist/v1", "tasks": [task]}, out)
    return out.getvalue()


def _yaml() -> YAML:
    """A dumper that writes a Decimal as a plain YAML number, digit for digit (the loader reads it exactly)."""
    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = False
    dumper.allow_unicode = True
    dumper.representer.add_representer(
        Decimal, lambda rep, value: rep.represent_scalar("tag:yaml.org,2002:float", format(value, "f")))
    return dumper
