"""Checks that need the whole rule set at once: unique ids, one file per policy section, bonuses that would pay
twice, names of tasks and custom extensions, team levels against compliance.max_levels, and what all levels
together can pay on one line."""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from . import limits, registry
from .build import SECTIONS, Entry
from .model import Compliance, Guards, RateRule, Task, When
from .structure import clip
from .yamldoc import Document, Path

Occurrence = tuple[Document, Path]  # where a section was defined
MAX_EXTENSION_NAME = 100  # as an id: a registered name is short, and every message may quote it
# Conditions a line (or the person paid) has one value of: two rules naming none in common never both match.
# Not collections: a product can be in several.
_SETS = ("products", "categories", "channels", "currencies", "lives", "ranks", "seller_ranks")


def check_set(entries: Sequence[Entry], sections: dict[str, list[Occurrence]]) -> None:
    """Report every cross-file problem on the documents involved."""
    _duplicate_ids(entries)
    _duplicate_sections(sections)
    _overlapping_bonuses([e for e in entries if e.kind == "bonus" and e.when is not None])
    _extension_names(entries)
    _task_references(entries)
    _team_levels(entries, sections.get("compliance", []))
    _line_total(entries, sections.get("compliance", []))
    _targets_within_guards(entries, sections.get("guards", []))


def _duplicate_ids(entries: Sequence[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        ident = entry.ident
        if ident is None:
            continue
        if ident in seen:
            first = seen[ident]
            entry.doc.report(entry.path + ("id",), "LD201", f"duplicate id {clip(ident)!r}: already used by the "
                             f"{first.kind_name} at {first.source}",
                             "ids must be unique across all rule files; rename one of them")
        else:
            seen[ident] = entry


def _duplicate_sections(sections: dict[str, list[Occurrence]]) -> None:
    for name in SECTIONS:
        places = sections.get(name, [])
        for doc, path in places[1:]:
            first_doc, first_path = places[0]
            line, column = first_doc.mark(first_path, key=True)
            doc.report(path, "LD202", f"{name!r} is already defined in {first_doc.path}:{line}:{column}; "
                       "a section can be defined in one file only", f"merge the two {name!r} sections into one",
                       key=True)


def _overlapping_bonuses(bonuses: list[Entry]) -> None:
    for index, later in enumerate(bonuses):
        for earlier in bonuses[:index]:
            windows = _shared_windows(earlier.when, later.when)  # type: ignore[arg-type]
            if windows:
                later.doc.report(
                    later.path + ("id",), "LD203",
                    f"{later.label} overlaps {earlier.label} ({earlier.source}): both can match the same line in "
                    f"{windows}, so the line would be paid both bonuses",
                    "make the windows meet without overlapping (e.g. to: 30 and from: 30), make the conditions "
                    "exclusive, or merge the two rules into one")


def _shared_windows(a: When, b: When) -> str:
    """A description of the overlapping windows when both rules can match one line, else ''."""
    for name in _SETS:
        mine, theirs = getattr(a, name), getattr(b, name)
        if mine and theirs and not mine & theirs:
            return ""
    for name in ("context", "featured"):
        mine, theirs = getattr(a, name), getattr(b, name)
        if mine is not None and theirs is not None and mine != theirs:
            return ""
    shared = []
    if a.live_minutes and b.live_minutes:
        if not _overlap(a.live_minutes, b.live_minutes):
            return ""
        shared.append(f"live_minutes [{a.live_minutes[0]}, {a.live_minutes[1]}) and "
                      f"[{b.live_minutes[0]}, {b.live_minutes[1]})")
    if a.between and b.between:
        if not _overlap(a.between, b.between):
            return ""
        shared.append(f"between [{a.between[0].isoformat()}, {a.between[1].isoformat()}) and "
                      f"[{b.between[0].isoformat()}, {b.between[1].isoformat()})")
    return " and ".join(shared)


def _overlap(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    return a[0] < b[1] and b[0] < a[1]  # half-open windows


def _extension_names(entries: Sequence[Entry]) -> None:
    registry.load_entry_points()  # a package's decorators must have run before we call a name unknown
    conditions, actions = registry.condition_names(), registry.action_names()
    for entry in entries:
        places: list[tuple[Path, str, list[str]]] = [(entry.path + ("when", "custom"), "condition", conditions)]
        for key in ("actions", ("each", "actions"), ("reward", "actions")):
            places.append((entry.path + ((key,) if isinstance(key, str) else key), "action", actions))
        for path, what, known in places:
            names = _get(entry.raw, path[len(entry.path):])
            if not isinstance(names, dict) or not entry.doc.is_clean(path):
                continue
            for name in names:
                if not isinstance(name, str) or not 1 <= len(name) <= MAX_EXTENSION_NAME:
                    entry.doc.report(path + (name,), "LD106", f"a custom {what}'s name is 1 to {MAX_EXTENSION_NAME} "
                                     f"characters, got {len(str(name))} in {entry.label}",
                                     f"use the name a developer registered with @registry.{what}(...)", key=True)
                elif name not in known:
                    entry.doc.report(path + (name,), "LD204" if what == "condition" else "LD205",
                                     f"unknown custom {what} {clip(name)!r} in {entry.label}",
                                     _known_hint(name, known, what), key=True)


def _known_hint(name: str, known: list[str], what: str) -> str:
    if not known:
        return f"no custom {what}s are registered; a developer registers one with @registry.{what}({name!r})"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return (f"did you mean {close[0]!r}? " if close else "") + f"known {what}s: {', '.join(known)}"


def _task_references(entries: Sequence[Entry]) -> None:
    tasks = sorted({e.ident for e in entries if e.kind == "task" and e.ident})
    for entry in entries:
        path = entry.path + ("when", "task_completed")
        name = _get(entry.raw, ("when", "task_completed"))
        if entry.kind in ("rate", "bonus", "team", "peer") and isinstance(name, str) and entry.doc.is_clean(path):
            if name not in tasks:
                close = difflib.get_close_matches(name, tasks, n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}? " if close else "") + (
                    f"known tasks: {', '.join(tasks)}" if tasks else "no tasks are defined in these rule files")
                entry.doc.report(path, "LD206", f"unknown task {clip(name)!r} in 'task_completed' of {entry.label}",
                                 hint)


def _team_levels(entries: Sequence[Entry], compliance: list[Occurrence]) -> None:
    limit = Compliance.max_levels
    said = f"{limit} (the default)"
    if compliance:
        doc, path = compliance[0]
        section = doc.data.get("compliance")
        if not isinstance(section, dict):
            return  # reported where it is written
        if "max_levels" in section:
            value = _whole(section["max_levels"])
            if value is None or not doc.is_clean(path + ("max_levels",)):
                return  # reported where it is written
            limit, said = value, str(value)
    for entry in entries:
        level = _whole(entry.raw.get("level", 2 if entry.kind == "peer" else None))
        path = entry.path + ("level",)
        if entry.kind == "team" and level is not None and entry.doc.is_clean(path) and limit < level <= 3:
            entry.doc.report(path, "LD208", f"{entry.label} pays level {level}, but compliance.max_levels is {said}",
                             f"raise compliance.max_levels to {level} (3 is the legal limit), or remove this rule")
        pool_levels = _whole(entry.raw.get("team_levels")) if entry.raw.get("share", "team") == "team" else None
        pool_path = entry.path + ("team_levels",)
        if entry.kind == "pool" and pool_levels is not None and entry.doc.is_clean(pool_path) and \
                limit < pool_levels <= 3:
            entry.doc.report(pool_path, "LD208", f"{entry.label} is shared by the sales of a team {pool_levels} levels "
                             f"deep, but compliance.max_levels is {said}: a team's sales below the distributor are "
                             "sales others made, and each level of them counts", f"lower team_levels to {limit} (or "
                             f"leave it out: it follows compliance.max_levels), or raise compliance.max_levels")
        if entry.kind == "peer" and level is not None and entry.doc.is_clean(path) and limit < level <= 3:
            where = path if "level" in entry.raw else entry.path + ("id",)
            entry.doc.report(where, "LD208", f"{entry.label} pays the upline at level {level}, but "
                             f"compliance.max_levels is {said}: a peer bonus on someone else's sale counts as that "
                             "upline's level", f"raise compliance.max_levels to {level} (3 is the legal limit), or "
                             "remove this rule")


def _line_total(entries: Sequence[Entry], compliance: list[Occurrence]) -> None:
    """Without an explicit compliance.max_line_percent, no line may be paid more than 100% in all (LD305)."""
    max_levels = Compliance.max_levels
    if compliance:
        doc, path = compliance[0]
        section = doc.data.get("compliance")
        if not isinstance(section, dict) or "max_line_percent" in section:
            return  # the merchant set the cap: it trims what is paid above it
        max_levels = _whole(section.get("max_levels")) or max_levels
    built: dict[str, list[Any]] = {"rate": [], "bonus": [], "team": [], "peer": [], "task": [], "pool": []}
    first: dict[str, Entry] = {}
    for entry in entries:
        if entry.kind in built and entry.built is not None:
            built[entry.kind].append(entry.built)
            if isinstance(entry.built, RateRule) and entry.kind == "rate":
                first.setdefault(entry.built.id, entry)
    rates, bonuses, levels = limits.terms(built["rate"], built["bonus"], built["team"],
                                          [t for t in built["task"] if isinstance(t, Task)], max_levels,
                                          built["peer"])
    # A pool is a percent of every paid line's amount, shared later among a rank: it adds to what a line pays.
    bonuses += [limits.Term(p.id, f"pool {p.id!r} ({p.percent}% of GMV)", p.percent, When(), 1) for p in built["pool"]]
    total, chosen = limits.worst_line(rates, bonuses, levels)
    if total <= limits.HUNDRED:
        return
    rate = first[chosen[0].rule]
    chosen = sorted(chosen, key=lambda t: t.level)  # the rate and its bonuses, then each upline level
    rate.doc.report(
        rate.path + ("id",), "LD305",
        f"one order line can be paid {total}% of its amount in all: {' + '.join(t.label for t in chosen)}; "
        "more than the line itself",
        "lower these percents or make their conditions exclusive (e.g. context: live and context: replay), or set "
        "compliance.max_line_percent to the most all levels may earn on one line (it trims the highest level first)")


def _targets_within_guards(entries: Sequence[Entry], guards: list[Occurrence]) -> None:
    """A live task whose target is above the daily invitee limit cannot complete during a live without staff
    approving held invitees one by one (LD211)."""
    limit: int | None = Guards.invitees_per_distributor_per_day
    said = f"{limit} (the default)"
    if guards:
        doc, path = guards[0]
        section = doc.data.get("guards")
        if not isinstance(section, dict) or not doc.is_clean(path):
            return  # reported where it is written
        if "invitees_per_distributor_per_day" in section:
            value = section["invitees_per_distributor_per_day"]
            limit, said = (None, "") if value == "unlimited" else (_whole(value), str(value))
    if limit is None:
        return
    for entry in entries:
        task = entry.built
        if entry.kind == "task" and isinstance(task, Task) and task.scope == "live" and (task.target or 0) > limit:
            entry.doc.report(entry.path + ("target",), "LD211",
                             f"{entry.label} needs {task.target} invitees, but guards.invitees_per_distributor_per_day "
                             f"is {said}: past it invitees are held for review, so no distributor can reach the "
                             "target in one live", "lower the target, or raise guards.invitees_per_distributor_per_day "
                             "(or set it to unlimited)")


def _whole(value: Any) -> int | None:
    """An integer the schema accepted (it allows 2.0 for 2), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data
