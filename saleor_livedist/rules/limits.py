"""The most a rule set can pay on one order line, all levels together: the worst case of a rate, every bonus that
can hold with it, task bonuses and one team rule per level, for the check that a set stays within 100% (LD305).

Rules hold together unless their conditions cannot hold on one line: different products, categories, channels,
currencies, lives or contexts (a line has one of each), windows that do not meet, featured and not featured.
Collections never exclude each other (a product can be in several), and conditions on people (rank, sales,
tasks) or custom ones are assumed to hold: the result is never less than what can really be paid.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from .model import RateRule, Task, When

CONTEXTS = frozenset({"live", "replay", "none"})
HUNDRED = Decimal(100)
_BUDGET = 200_000  # search steps; past them the most found so far is reported (sets that large are unheard of)


@dataclass(frozen=True)
class Term:
    """One rule's part of a line's total."""

    rule: str  # the rule's (or task's) id
    label: str  # for messages: "rate 'direct' (5%)"
    percent: Decimal
    when: When
    level: int


@dataclass(frozen=True)
class _Line:
    """What the rules chosen so far require of one line; None: anything."""

    products: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    lives: frozenset[str] | None = None
    seller_ranks: frozenset[str] | None = None  # level 1 rules are about one person, the seller
    contexts: frozenset[str] = CONTEXTS
    featured: bool | None = None
    live_minutes: tuple[int, int] | None = None
    between: tuple[datetime, datetime] | None = None


def _with(line: _Line, term: Term) -> _Line | None:
    """The line that satisfies both, or None if no line can."""
    w = term.when
    changes: dict[str, object] = {}
    wanted_sets = [(name, getattr(w, name)) for name in ("products", "categories", "channels", "currencies", "lives")]
    if term.level == 1:
        wanted_sets.append(("seller_ranks", w.ranks))  # a level-1 rule's rank is the seller's
    wanted_sets.append(("seller_ranks", w.seller_ranks))
    for name, wanted in wanted_sets:
        if wanted:
            have = changes.get(name, getattr(line, name))
            both = wanted if have is None else have & wanted  # type: ignore[operator]
            if not both:
                return None
            changes[name] = both
    contexts = line.contexts
    if w.context is not None:
        contexts &= {w.context}
    if w.live_minutes is not None or w.featured:
        contexts &= {"live"}  # minutes after the start and featured products exist only on air
    if w.lives:
        contexts &= {"live", "replay"}  # an order is attributed to a live on air or from its replay
    if not contexts:
        return None
    changes["contexts"] = contexts
    if w.featured is not None:
        if line.featured is not None and line.featured != w.featured:
            return None
        changes["featured"] = w.featured
    for name in ("live_minutes", "between"):
        window, have = getattr(w, name), getattr(line, name)
        if window is not None:
            if have is not None:
                window = (max(window[0], have[0]), min(window[1], have[1]))  # type: ignore[type-var]
                if not window[0] < window[1]:
                    return None
            changes[name] = window
    return replace(line, **changes)  # type: ignore[arg-type]


PEER_GROUP = 99  # the key of the peer rules in terms()' levels: one peer bonus per line, whatever its level


def terms(rates: Sequence[RateRule], bonuses: Sequence[RateRule], team: Sequence[RateRule], tasks: Sequence[Task],
          max_levels: int, peer: Sequence[RateRule] = ()) -> tuple[list[Term], list[Term], dict[int, list[Term]]]:
    """(rates, bonuses with the task bonuses, team rules by level up to max_levels and the peer rules up to it
    under PEER_GROUP) as terms."""
    rate_terms = [Term(r.id, f"rate {r.id!r} ({r.percent}%)", r.percent, r.when, 1) for r in rates]
    bonus_terms = [Term(b.id, f"bonus {b.id!r} ({b.percent}%)", b.percent, b.when, 1) for b in bonuses]
    for task in tasks:
        if task.reward is not None and task.reward.bonus_percent > 0:
            when = When(context="live", lives=task.lives) if task.scope == "live" else When()
            bonus_terms.append(Term(task.id, f"task {task.id!r} (bonus_percent {task.reward.bonus_percent}%)",
                                    task.reward.bonus_percent, when, 1))
    levels: dict[int, list[Term]] = {}
    for t in team:
        if t.level <= max_levels:
            levels.setdefault(t.level, []).append(Term(t.id, f"level {t.level} rule {t.id!r} ({t.percent}%)",
                                                       t.percent, t.when, t.level))
    for p in peer:
        if p.level <= max_levels:
            levels.setdefault(PEER_GROUP, []).append(Term(p.id, f"level {p.level} peer bonus {p.id!r} ({p.percent}%)",
                                                          p.percent, p.when, p.level))
    return rate_terms, bonus_terms, levels


def worst_line(rates: list[Term], bonuses: list[Term], levels: dict[int, list[Term]]) -> tuple[Decimal, list[Term]]:
    """The most that can be paid on one line, and the rules that pay it. Bonuses are paid only with a rate."""
    bonuses = sorted(bonuses, key=lambda t: -t.percent)
    groups = [sorted(levels[level], key=lambda t: -t.percent) for level in sorted(levels)]
    tail = [sum((b.percent for b in bonuses[i:]), Decimal(0)) for i in range(len(bonuses) + 1)]
    group_tail = [sum((max(t.percent for t in g) for g in groups[i:]), Decimal(0)) for i in range(len(groups) + 1)]
    best: tuple[Decimal, list[Term]] = (Decimal(0), [])
    steps = 0

    def search(i: int, line: _Line, total: Decimal, chosen: list[Term]) -> None:
        """Team levels first (one rule or none each), then each bonus in or out."""
        nonlocal best, steps
        steps += 1
        if steps > _BUDGET or total + group_tail[min(i, len(groups))] + tail[max(i - len(groups), 0)] <= best[0]:
            return  # nothing better down this branch
        if i < len(groups):
            for term in groups[i]:
                joined = _with(line, term)
                if joined is not None:
                    search(i + 1, joined, total + term.percent, chosen + [term])
            search(i + 1, line, total, chosen)
            return
        k = i - len(groups)
        if k == len(bonuses):
            best = (total, chosen)
            return
        joined = _with(line, bonuses[k])
        if joined is not None:
            search(i + 1, joined, total + bonuses[k].percent, chosen + [bonuses[k]])
        search(i + 1, line, total, chosen)

    for rate in sorted(rates, key=lambda t: -t.percent):
        line = _with(_Line(), rate)
        if line is not None:
            search(0, line, rate.percent, [rate])
    return best
