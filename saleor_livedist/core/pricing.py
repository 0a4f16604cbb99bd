"""Price an order's lines: build one fact per (line, level), ask the backend which rules match, pick and add
percents in Decimal. The result (shares per line) is fixed when the order is created."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..exceptions import ExtensionError
from ..rules import registry
from ..rules.backends import Matcher
from ..rules.compiler import CompiledRule, CompiledRules
from ..rules.model import RateRule
from .events import Line
from .records import PricedLine, Share

ZERO = Decimal(0)


@dataclass(frozen=True)
class Beneficiary:
    """One level of the chain for an order: who, and what the rules may test about them."""

    level: int
    distributor: str
    rank: str
    since_sale_s: int | None  # seconds since their last attributed sale, None if never
    tasks: tuple[str, ...]  # tasks they completed that apply to this order


@dataclass(frozen=True)
class OrderContext:
    order: str
    customer: str
    channel: str
    currency: str
    at: datetime
    context: str  # live | replay | none
    live: str | None
    live_seconds: int | None
    featured: frozenset[str]
    lines: tuple[Line, ...]

    @property
    def order_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class LineFacts:
    """What a custom condition sees: the order, the line and the beneficiary being priced."""

    order: OrderContext
    line: Line
    beneficiary: Beneficiary

    @property
    def order_amount(self) -> Decimal:
        return self.order.order_amount


def build_facts(ctx: OrderContext, chain: list[Beneficiary], compiled: CompiledRules) -> list[dict[str, Any]]:
    """One fact per line; what a rule may test about the beneficiary of level L is under keys ending in L."""
    common: dict[str, Any] = {
        "channel": ctx.channel, "currency": ctx.currency, "context": ctx.context,
        "at_ms": int(ctx.at.timestamp() * 1000),
    }
    if ctx.live is not None:
        common["live"] = ctx.live
    if ctx.live_seconds is not None:
        common["live_seconds"] = ctx.live_seconds
    for who in chain:
        n = who.level
        common[f"lv{n}"] = True
        common[f"rank{n}"] = who.rank
        common[f"tasks{n}"] = list(who.tasks)
        if who.since_sale_s is not None:
            common[f"since_sale_s{n}"] = who.since_sale_s
    facts: list[dict[str, Any]] = []
    for k, line in enumerate(ctx.lines):
        fact = dict(common)
        fact["k"] = k
        fact["product"] = line.product
        fact["featured"] = line.product in ctx.featured
        fact["collections"] = list(line.collections)
        if line.category is not None:
            fact["category"] = line.category
        for check in compiled.customs:
            for who in chain:
                fact[f"{check.key}_{who.level}"] = _custom(check.name, dict(check.params), LineFacts(ctx, line, who))
        facts.append(fact)
    return facts


def _custom(name: str, params: dict[str, Any], facts: LineFacts) -> bool:
    fn = registry.get_condition(name)
    try:
        return bool(fn(facts, params))
    except Exception as exc:  # a developer's extension failing must name itself, not look like our bug
        raise ExtensionError(f"custom condition {name!r} failed: {exc!r}") from exc


def _winner(rules: list[CompiledRule]) -> RateRule | None:
    best = max(rules, key=_precedence, default=None)
    return best.rule if best is not None else None


def _precedence(rule: CompiledRule) -> tuple[int, int, int, int]:
    return rule.precedence


def price_lines(
    ctx: OrderContext, chain: list[Beneficiary], compiled: CompiledRules, matcher: Matcher
) -> tuple[PricedLine, ...]:
    if not chain:
        return tuple(PricedLine(line=line, shares=()) for line in ctx.lines)
    matches = matcher.match(build_facts(ctx, chain, compiled))
    cap = compiled.ruleset.compliance.max_line_percent
    priced = []
    for line, matched_indices in zip(ctx.lines, matches):
        matched = [compiled.rules[i] for i in sorted(matched_indices)]
        shares = []
        total = ZERO
        for who in chain:
            share = _share(who, [r for r in matched if r.rule.level == who.level])
            if share is None:
                continue
            if cap is not None and total + share.percent > cap:
                # The cap trims the highest level first: the seller's own commission is never cut for an upline.
                allowed = cap - total
                if allowed <= ZERO:
                    continue
                share = Share(share.level, share.beneficiary, allowed, share.rule_ids + ("compliance:cap",),
                              share.actions)
            total += share.percent
            shares.append(share)
        priced.append(PricedLine(line=line, shares=tuple(shares)))
    return tuple(priced)


def _share(who: Beneficiary, matched: list[CompiledRule]) -> Share | None:
    if who.level == 1:
        base = _winner([r for r in matched if r.rule.kind == "rate"])
        if base is None:
            return None
        bonuses = [r.rule for r in matched if r.rule.kind == "bonus"]
        percent = base.percent + sum((b.percent for b in bonuses), ZERO)
        used = [base, *bonuses]
    else:
        winner = _winner([r for r in matched if r.rule.kind == "team"])
        if winner is None:
            return None
        percent, used = winner.percent, [winner]
    return Share(
        level=who.level, beneficiary=who.distributor, percent=percent,
        rule_ids=tuple(r.id for r in used), actions=tuple(a for r in used for a in r.actions),
    )


def explain_line(
    ctx: OrderContext, chain: list[Beneficiary], compiled: CompiledRules, matcher: Matcher
) -> list[dict[str, Any]]:
    """For `livedist rules explain`: per line and level, every rule of that level, matched or not and why."""
    if not chain:
        return []
    facts = build_facts(ctx, chain, compiled)
    out = []
    for fact, matched in zip(facts, matcher.match(facts)):
        for who in chain:
            rows = [
                {
                    "rule": rule.rule.id, "kind": rule.rule.kind, "percent": str(rule.rule.percent),
                    "matched": rule.index in matched,
                    "why": "" if rule.index in matched else _why_not(rule, fact),
                    "source": str(rule.rule.source),
                }
                for rule in compiled.rules
                if rule.rule.level == who.level
            ]
            out.append({"level": who.level, "fact": fact, "rules": rows})
    return out


def _why_not(rule: CompiledRule, fact: dict[str, Any]) -> str:
    from ..rules.backends import compile_predicate

    failed = []
    parts = rule.condition.get("$and", [rule.condition])
    for part in parts:
        if not compile_predicate(part)(fact):
            failed.append(_describe(part, fact))
    return "; ".join(failed)


def _describe(part: dict[str, Any], fact: dict[str, Any]) -> str:
    ((op, body),) = part.items()
    if op == "$or":
        keys = sorted({k for alt in body for k in (alt if "$iany" not in alt else alt["$iany"])})
        return f"{', '.join(keys)} is {', '.join(repr(fact.get(k)) for k in keys)}, none of the listed values"
    if op == "$iany":
        ((key, item),) = body.items()
        return f"{key} {fact.get(key)!r} does not contain {item['$i']!r}"
    if op.startswith("$"):
        ((key, bound),) = body.items()
        words = {"$gte": ">=", "$gt": ">", "$lte": "<=", "$lt": "<"}[op]
        return f"needs {key} {words} {bound}, is {fact.get(key, 'absent')!r}"
    return f"needs {op} = {body!r}, is {fact.get(op, 'absent')!r}"
