"""Compile a RuleSet into condition documents in durable-rules' JSON condition language.

Both backends evaluate exactly these documents: durable-rules natively, the Python backend through a small
interpreter. A fact is one order line with, for each level L of the chain, the beneficiary's keys suffixed
by L (lv1, rank1, since_sale_s1, tasks1, same_rank2, ...); see core.pricing.build_facts. The seller's rank is
rank1 whichever level a rule pays.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .model import RateRule, RuleSet, When

Condition = dict[str, Any]


@dataclass(frozen=True)
class CustomCheck:
    key: str  # prefix of the fact keys holding the result per level, e.g. "x0" -> x0_1, x0_2
    name: str
    params: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class CompiledRule:
    index: int
    rule: RateRule
    condition: Condition
    precedence: tuple[int, int, int, int]  # RateRule.precedence(), computed once


@dataclass(frozen=True)
class CompiledRules:
    ruleset: RuleSet
    rules: tuple[CompiledRule, ...]
    customs: tuple[CustomCheck, ...]
    levels: tuple[int, ...]  # levels that have at least one rule
    # core.pricing's memo: the shares that follow from one set of matched rules (derived data, not compared)
    terms_cache: dict[tuple[int, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> str:
        return self.ruleset.version


def _any_of(key: str, values: frozenset[str]) -> Condition:
    options = [{key: v} for v in sorted(values)]
    return options[0] if len(options) == 1 else {"$or": options}


def _any_item(key: str, values: frozenset[str]) -> Condition:
    options = [{"$iany": {key: {"$i": v}}} for v in sorted(values)]
    return options[0] if len(options) == 1 else {"$or": options}


def epoch_ms(value: Any) -> int:
    return int(value.timestamp() * 1000) if not isinstance(value, int) else value


def compile_when(when: When, level: int, custom_keys: dict[tuple[str, Any], str],
                 same_rank: bool = False) -> Condition:
    """Item conditions test the line; beneficiary conditions test the level's own keys (rank2, tasks1...)."""
    parts: list[Condition] = [{f"lv{level}": True}]
    if when.products:
        parts.append(_any_of("product", when.products))
    if when.categories:
        parts.append(_any_of("category", when.categories))
    if when.collections:
        parts.append(_any_item("collections", when.collections))
    if when.channels:
        parts.append(_any_of("channel", when.channels))
    if when.currencies:
        parts.append(_any_of("currency", when.currencies))
    if when.lives:
        parts.append(_any_of("live", when.lives))
    if when.context is not None:
        parts.append({"context": when.context})
    if when.featured is not None:
        parts.append({"featured": when.featured})
    if when.live_minutes is not None:
        start, end = when.live_minutes
        parts += [{"$gte": {"live_seconds": start * 60}}, {"$lt": {"live_seconds": end * 60}}]
    if when.between is not None:
        start, end = when.between
        parts += [{"$gte": {"at_ms": epoch_ms(start)}}, {"$lt": {"at_ms": epoch_ms(end)}}]
    if when.ranks:
        parts.append(_any_of(f"rank{level}", when.ranks))
    if when.seller_ranks:
        parts.append(_any_of("rank1", when.seller_ranks))
    if when.sold_within_days is not None:
        parts.append({"$lte": {f"since_sale_s{level}": when.sold_within_days * 86400}})
    if when.task_completed is not None:
        parts.append({"$iany": {f"tasks{level}": {"$i": when.task_completed}}})
    for name, params in when.custom:
        parts.append({f"{custom_keys[(name, params)]}_{level}": True})
    if same_rank:  # last: the item conditions right after lvL are what the Python backend indexes
        parts.append({f"same_rank{level}": True})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def task_bonus_rules(ruleset: RuleSet, start_order: int) -> list[RateRule]:
    """A task whose reward has bonus_percent becomes a bonus rule that holds once the task is completed."""
    rules = []
    for n, task in enumerate(ruleset.tasks):
        if task.reward is not None and task.reward.bonus_percent > Decimal(0):
            rules.append(RateRule(
                id=f"task:{task.id}", kind="bonus", percent=task.reward.bonus_percent,
                when=When(task_completed=task.id), source=task.source, order=start_order + n,
            ))
    return rules


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    rules = list(ruleset.rate_rules())
    rules += task_bonus_rules(ruleset, start_order=max((r.order for r in rules), default=0) + 1)
    custom_keys: dict[tuple[str, Any], str] = {}
    for rule in rules:
        for name, params in rule.when.custom:
            custom_keys.setdefault((name, params), f"x{len(custom_keys)}")
    compiled = tuple(
        CompiledRule(index=i, rule=rule,
                     condition=compile_when(rule.when, rule.level, custom_keys, rule.kind == "peer" and rule.same_rank),
                     precedence=rule.precedence())
        for i, rule in enumerate(rules)
    )
    customs = tuple(CustomCheck(key=key, name=name, params=params) for (name, params), key in custom_keys.items())
    levels = tuple(sorted({r.level for r in rules if r.level <= ruleset.compliance.max_levels}))
    return CompiledRules(ruleset=ruleset, rules=compiled, customs=customs, levels=levels)
