"""Builds the typed rules of one structurally checked file and checks what the schema cannot say: percent and
date ranges, windows, and the compliance limits of each rule (the merchant-facing codes LD108, LD2xx, LD3xx).

Each field is checked only where the schema found nothing wrong under it, so independent problems are all reported
while no check ever sees a value of the wrong type.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import (
    MAX_LEVELS_HARD_LIMIT, Binding, Compliance, Guards, InviteCoupon, Pool, Promotion, Qualify, RateRule, Redemption,
    Reward, Settlement, Source, Task, Join, Viewing, When,
)
from .structure import clip, owner_label
from .yamldoc import Document, Path

Extensions = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]

LEVELS_MESSAGE = f"at most {MAX_LEVELS_HARD_LIMIT} commission levels counting the selling distributor"
RULE_KINDS = {("commission", "rates"): "rate", ("commission", "bonuses"): "bonus", ("commission", "team"): "team",
              ("commission", "peer"): "peer"}
POOL_LEVELS_MESSAGE = ("a pool shared by team sales pays the team's head on sales others made, so every level of "
                      f"the team counts: {LEVELS_MESSAGE}")
PEER_LEVELS_MESSAGE = ("a peer bonus is paid to an upline on a sale someone else made, so that upline's level counts: "
                       f"{LEVELS_MESSAGE}")
SECTIONS = ("binding", "settlement", "viewing", "compliance", "join", "guards", "redemption", "invite_coupon")
KIND_NAMES = {
    "rate": "commission rate rule", "bonus": "commission bonus rule", "team": "commission team rule",
    "peer": "commission peer rule", "pool": "pool",
    "task": "task", "promotion": "promotion",
}


@dataclass
class Entry:
    """A rule, task or promotion as written, with its typed form once it is fully valid."""

    kind: str  # rate, bonus, team, task, promotion
    doc: Document
    path: Path
    raw: dict[str, Any]
    label: str  # e.g. "commission rate rule 'direct'", for messages
    built: RateRule | Task | Promotion | Pool | None = None
    when: When | None = None  # a rule's valid conditions, even when another part of it is wrong

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def ident(self) -> str | None:
        value = self.raw.get("id")
        return value if isinstance(value, str) and self.doc.is_clean(self.path + ("id",)) else None

    @property
    def source(self) -> Source:
        line, column = self.doc.mark(self.path + ("id",))
        return Source(self.doc.path, line, column)


def collect_entries(doc: Document, first_order: int) -> list[Entry]:
    """Every rule, task and promotion of `doc`, built when valid; `order` numbers continue from `first_order`."""
    entries: list[Entry] = []
    for prefix, kind in (*RULE_KINDS.items(), (("tasks",), "task"), (("promotions",), "promotion"),
                         (("pools",), "pool")):
        items = _get(doc.data, prefix)
        if not isinstance(items, list):
            continue
        for index, raw in enumerate(items):
            path = prefix + (index,)
            if isinstance(raw, dict):
                entry = Entry(kind, doc, path, raw, owner_label(doc.data, path))
                entry.built = _build(entry, first_order + len(entries))
                entries.append(entry)
    return entries


def _build(entry: Entry, order: int) -> RateRule | Task | Promotion | Pool | None:
    before = len(entry.doc.problems)
    if entry.kind in ("rate", "bonus", "team", "peer"):
        built: RateRule | Task | Promotion | Pool | None = _rate_rule(entry, order)
    elif entry.kind == "task":
        built = _task(entry)
    elif entry.kind == "pool":
        built = _pool(entry)
    else:
        built = _promotion(entry)
    clean = entry.doc.is_clean(entry.path) and len(entry.doc.problems) == before
    return built if clean else None


def _rate_rule(entry: Entry, order: int) -> RateRule | None:
    raw, path, doc = entry.raw, entry.path, entry.doc
    key = "add" if entry.kind == "bonus" else "rate"
    percent = percent_at(doc, path + (key,), raw.get(key), entry.label)
    when = entry.when = _when(doc, path + ("when",), raw.get("when"), entry.label)
    default_level = 2 if entry.kind == "peer" else 1
    # the schema allows 2.0 for 2
    level = int(raw.get("level", default_level)) if doc.is_clean(path + ("level",)) else default_level
    if entry.kind == "team" and level > MAX_LEVELS_HARD_LIMIT:
        doc.report(path + ("level",), "LD302", f"{entry.label} pays level {level}: {LEVELS_MESSAGE}",
                   "use level 2 (the seller's upline) or 3; more levels count as pyramid selling")
    if entry.kind == "peer" and level > MAX_LEVELS_HARD_LIMIT:
        doc.report(path + ("level",), "LD306", f"{entry.label} pays the upline at level {level}: "
                   f"{PEER_LEVELS_MESSAGE}", "use level 2 (the seller's upline) or 3; a bonus on sales further "
                   "down the line counts as pyramid selling")
    if percent is None or when is None or not doc.is_clean(path):
        return None
    return RateRule(
        id=raw["id"], kind=entry.kind, percent=percent, when=when,  # type: ignore[arg-type]
        source=entry.source, level=level, priority=int(raw.get("priority", 0)), order=order,
        actions=extensions(raw.get("actions")), same_rank=entry.kind == "peer" and bool(raw.get("same_rank", True)),
    )


def _when(doc: Document, path: Path, raw: dict[str, Any] | None, label: str) -> When | None:
    """The conditions, or None when invalid; the windows are checked even when a sibling key is wrong."""
    if raw is not None and not isinstance(raw, dict):
        return None
    raw = raw or {}
    minutes = raw.get("live_minutes")
    if minutes is not None and doc.is_clean(path + ("live_minutes",)) and minutes["to"] <= minutes["from"]:
        doc.report(path + ("live_minutes", "to"), "LD209", f"'live_minutes' of {label} is empty: 'to' "
                   f"({minutes['to']}) must be greater than 'from' ({minutes['from']})",
                   "the window is [from, to): from: 0, to: 60 is the first hour of the live")
    between = raw.get("between")
    window = _between(doc, path + ("between",), between, label) if doc.is_clean(path + ("between",)) else None
    if not doc.is_clean(path):
        return None
    return When(
        products=_names(raw.get("products")), collections=_names(raw.get("collections")),
        categories=_names(raw.get("categories")), channels=_names(raw.get("channels")),
        currencies=_names(raw.get("currencies")), lives=_names(raw.get("lives")),
        context=raw.get("context"), featured=raw.get("featured"),
        live_minutes=(int(minutes["from"]), int(minutes["to"])) if minutes else None,
        between=window, ranks=_names(raw.get("rank")), seller_ranks=_names(raw.get("seller_rank")),
        sold_within_days=int(raw["sold_within_days"]) if "sold_within_days" in raw else None,
        task_completed=raw.get("task_completed"), custom=extensions(raw.get("custom")),
    )


def _between(doc: Document, path: Path, raw: dict[str, str] | None, label: str) -> tuple[datetime, datetime] | None:
    """The absolute window; None when absent or reported."""
    if raw is None:
        return None
    start = datetime_at(doc, path + ("from",), raw["from"], label)
    end = datetime_at(doc, path + ("to",), raw["to"], label)
    if start is not None and end is not None and end <= start:
        doc.report(path + ("to",), "LD209", f"'between' of {label} is empty: 'to' must be later than 'from'",
                   "the window is [from, to), e.g. from: 2024-06-01T20:00:00+08:00, to: 2024-06-01T22:00:00+08:00")
        return None
    return (start, end) if start is not None and end is not None else None


def datetime_at(doc: Document, path: Path, text: str, label: str) -> datetime | None:
    key = f"{path[-1]!r} in {path[-2]!r} of {label}"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        doc.report(path, "LD108", f"{key} must be a date and time with a UTC offset, got {text!r}",
                   "e.g. 2024-06-01T20:00:00+08:00 (ISO 8601)")
        return None
    if value.utcoffset() is None:
        example = text if "T" in text or " " in text else f"{text}T00:00:00"
        doc.report(path, "LD108", f"{key} has no UTC offset: {text!r}",
                   f"add the offset, e.g. {example}+08:00, or Z for UTC")
        return None
    return value


def percent_at(doc: Document, path: Path, value: Any, label: str) -> Decimal | None:
    """The percent as Decimal (through str, never float arithmetic), or None when missing, invalid or reported."""
    if value is None or not doc.is_clean(path):
        return None
    percent = Decimal(str(value))
    if not 0 < percent <= 100:
        doc.report(path, "LD207", f"{path[-1]!r} of {label} must be more than 0 and at most 100 (percent), "
                   f"got {value}", "a percent of the net paid line amount: 5 means 5%")
        return None
    return percent


def _task(entry: Entry) -> Task | None:
    raw, path, doc = entry.raw, entry.path, entry.doc
    qualify_raw = raw.get("qualify")
    qualify = Qualify(
        entered=bool(qualify_raw.get("entered", False)), watched_minutes=qualify_raw.get("watched_minutes"),
        ordered=bool(qualify_raw.get("ordered", False)),
    ) if isinstance(qualify_raw, dict) and doc.is_clean(path + ("qualify",)) else None
    rewards = {key: _reward(doc, path + (key,), raw.get(key), entry.label) for key in ("each", "reward")}
    for key in ("each", "reward"):
        reward = rewards[key]
        if reward is not None and qualify is not None and reward.cash > 0 and not qualify.ordered:
            doc.report(path + (key, "cash"), "LD303", f"{entry.label} pays cash for invitees who need not buy: "
                       "no cash reward for recruiting without a purchase; use points",
                       "pay points or bonus_percent instead, or require a paid order with qualify: {ordered: true}")
    lives = _names(raw.get("lives")) if doc.is_clean(path + ("lives",)) else frozenset()
    if lives and raw.get("scope", "live") != "live":
        doc.report(path + ("lives",), "LD210", f"{entry.label} lists lives but its scope is "
                   f"{raw.get('scope')!r}: only a task counted per live can be limited to some lives",
                   "remove 'lives' to count across all lives, or set scope: live")
    if qualify is None or not doc.is_clean(path):
        return None
    return Task(
        id=raw["id"], scope=raw.get("scope", "live"), qualify=qualify, source=entry.source,
        each=rewards["each"], target=raw.get("target"), reward=rewards["reward"], lives=lives,
    )


def _reward(doc: Document, path: Path, raw: dict[str, Any] | None, label: str) -> Reward | None:
    if not isinstance(raw, dict) or not doc.is_clean(path):
        return None
    bonus = percent_at(doc, path + ("bonus_percent",), raw.get("bonus_percent"), label)
    return Reward(
        points=int(raw.get("points", 0)), bonus_percent=bonus if bonus is not None else Decimal(0),
        cash=Decimal(str(raw.get("cash", 0))), actions=extensions(raw.get("actions")),
    )


def _promotion(entry: Entry) -> Promotion | None:
    raw = entry.raw
    if not entry.doc.is_clean(entry.path):
        return None
    return Promotion(
        id=raw["id"], rank=raw["rank"], paying_invitees=int(raw["paying_invitees"]), source=entry.source,
        from_ranks=_names(raw.get("from_ranks")),
    )


def _pool(entry: Entry) -> Pool | None:
    """A pool bonus; a team share deeper than the legal levels is a compliance problem (LD307)."""
    raw, path, doc = entry.raw, entry.path, entry.doc
    percent = percent_at(doc, path + ("percent",), raw.get("percent"), entry.label)
    levels = raw.get("team_levels")
    if levels is not None and doc.is_clean(path + ("team_levels",)) and int(levels) > MAX_LEVELS_HARD_LIMIT:
        doc.report(path + ("team_levels",), "LD307", f"{entry.label} is shared by the sales of a team {int(levels)} "
                   f"levels deep: {POOL_LEVELS_MESSAGE}", "use team_levels 1 to 3, or share: own to share the pool "
                   "by each distributor's own sales")
    zone = raw.get("time_zone", "UTC")
    if doc.is_clean(path + ("time_zone",)) and isinstance(zone, str) and not known_zone(zone):
        doc.report(path + ("time_zone",), "LD212", f"the time_zone {clip(zone)!r} of {entry.label} is not a time "
                   "zone this server knows", "use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC")
    if percent is None or not doc.is_clean(path):
        return None
    return Pool(
        id=raw["id"], percent=percent, ranks=_names(raw["rank"]), source=entry.source,
        period=raw.get("period", "month"), share=raw.get("share", "team"),
        team_levels=int(levels) if levels is not None and raw.get("share", "team") == "team" else None,
        time_zone=zone,
    )


def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        return False
    return True


def build_section(doc: Document, name: str) -> Any:
    """The typed policy section `name` of `doc`, None when invalid; compliance and the join fee checked here."""
    raw, path = doc.data[name], (name,)
    if not doc.is_clean(path):
        return None
    if name == "binding":  # keys left out keep model.py's defaults
        given = {key: raw[key] for key in ("bind_on", "overwrite", "self_purchase") if key in raw}
        if "valid_days" in raw:
            given["valid_days"] = None if raw["valid_days"] == "permanent" else int(raw["valid_days"])
        return Binding(**given)
    if name == "settlement":
        return Settlement(**{key: int(value) for key, value in raw.items()})
    if name == "viewing":
        return Viewing(**{key: int(value) for key, value in raw.items()})
    if name == "compliance":
        return _compliance(doc, raw)
    if name == "guards":
        return _guards(doc, raw)
    if name in ("redemption", "invite_coupon"):
        from .rewards import build_invite_coupon, build_redemption

        return build_redemption(doc, raw) if name == "redemption" else build_invite_coupon(doc, raw)
    fee = Decimal(str(raw["fee"]))
    if fee > 0:
        doc.report(path + ("fee",), "LD304", f"join.fee is {raw['fee']}: no fee to become a distributor",
                   "remove 'join' or set fee: 0; charging to join is a mark of pyramid selling")
        return None
    return Join(upline_fallback=raw.get("upline_fallback", "none"))


def _guards(doc: Document, raw: dict[str, Any]) -> Guards | None:
    zone = raw.get("time_zone", Guards.time_zone)
    try:
        ZoneInfo(zone)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        doc.report(("guards", "time_zone"), "LD212", f"guards.time_zone {clip(zone)!r} is not a time zone this "
                   "server knows", "use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC")
        return None
    given: dict[str, Any] = {key: None if raw[key] == "unlimited" else int(raw[key]) for key in (
        "invitees_per_distributor_per_day", "clicks_per_source_per_day", "clicks_per_visitor_per_day") if key in raw}
    return Guards(invitees=raw.get("invitees", Guards.invitees), time_zone=zone, **given)


def _compliance(doc: Document, raw: dict[str, Any]) -> Compliance | None:
    levels = int(raw.get("max_levels", Compliance.max_levels))
    if levels > MAX_LEVELS_HARD_LIMIT:
        doc.report(("compliance", "max_levels"), "LD301", f"compliance.max_levels is {levels}: {LEVELS_MESSAGE}",
                   f"set max_levels to {MAX_LEVELS_HARD_LIMIT} or less")
        return None
    cap = raw.get("max_line_percent")
    percent = percent_at(doc, ("compliance", "max_line_percent"), cap, "'compliance'")
    if cap is not None and percent is None:
        return None
    return Compliance(max_levels=levels, max_line_percent=percent if cap is not None else Compliance.max_line_percent)


def extensions(raw: dict[str, Any] | None) -> Extensions:
    """Custom conditions or actions in a hashable, order-independent form."""
    return tuple(sorted((name, freeze(params or {})) for name, params in (raw or {}).items()))


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, freeze(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    return value


def _names(value: str | list[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset([value] if isinstance(value, str) else value)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data
