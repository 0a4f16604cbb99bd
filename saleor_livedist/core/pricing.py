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


@dataclass(slots=True, unsafe_hash=True)
class Beneficiary:
    """One level of the chain for an order: who, and what the rules may test about them."""

    level: int
    distributor: str
    rank: str
    since_sale_s: int | None  # seconds since their last attributed sale, None if never
    tasks: tuple[str, ...]  # tasks they completed that apply to this order


@dataclass(slots=True, unsafe_hash=True)
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


def _level_keys(level: int) -> tuple[str, str, str, str, str]:
    return f"lv{level}", f"rank{level}", f"tasks{level}", f"since_sale_s{level}", f"same_rank{level}"


_LEVEL_KEYS = {level: _level_keys(level) for level in range(1, 4)}


def build_facts(ctx: OrderContext, chain: list[Beneficiary], compiled: CompiledRules) -> list[dict[str, Any]]:
    """One fact per line; what a rule may test about the beneficiary of level L is under keys ending in L, and
    same_rankL says whether they have the seller's (level 1's) rank, for peer bonuses."""
    common: dict[str, Any] = {
        "channel": ctx.channel, "currency": ctx.currency, "context": ctx.context,
        "at_ms": int(ctx.at.timestamp() * 1000),
    }
    if ctx.live is not None:
        common["live"] = ctx.live
    if ctx.live_seconds is not None:
        common["live_seconds"] = ctx.live_seconds
    seller_rank = chain[0].rank if chain else None
    for who in chain:
        lv, rank, tasks, since, same = _LEVEL_KEYS.get(who.level) or _level_keys(who.level)
        common[lv] = True
        common[rank] = who.rank
        common[same] = who.rank == seller_rank
        common[tasks] = list(who.tasks)
        if who.since_sale_s is not None:
            common[since] = who.since_sale_s
    facts: list[dict[str, Any]] = []
    featured = ctx.featured
    customs = compiled.customs
    for k, line in enumerate(ctx.lines):
        product = line.product
        fact = {**common, "k": k, "product": product, "featured": product in featured,
                "collections": list(line.collections)}
        if line.category is not None:
            fact["category"] = line.category
        for check in customs:
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


Term = tuple[Decimal, tuple[str, ...], tuple[Any, ...]]  # (percent, rule ids, actions)
Terms = dict[int, Term]  # level -> its commission (level 1) or team rule
PEER = "peer"  # Share.kind of a peer bonus (平级奖); "" is a level's commission or team rule
_TERMS_CACHE_LIMIT = 4096


def _terms(compiled: CompiledRules, matched: tuple[int, ...]) -> tuple[Terms, tuple[int, Term] | None]:
    """What each level earns when exactly these rules match a line: level 1 the winning rate plus every bonus,
    a team level its winning team rule; and the peer bonus, (level, term) for the nearest level with a matching
    peer rule. Winners by precedence, ties to the first in index order."""
    base: CompiledRule | None = None
    bonuses: list[RateRule] = []
    team: dict[int, CompiledRule] = {}
    peer: CompiledRule | None = None
    for i in matched:
        compiled_rule = compiled.rules[i]
        rule = compiled_rule.rule
        if rule.level == 1:
            if rule.kind == "rate":
                if base is None or compiled_rule.precedence > base.precedence:
                    base = compiled_rule
            elif rule.kind == "bonus":
                bonuses.append(rule)
        elif rule.kind == "team":
            best = team.get(rule.level)
            if best is None or compiled_rule.precedence > best.precedence:
                team[rule.level] = compiled_rule
        elif rule.kind == PEER:
            if peer is None or (-rule.level, compiled_rule.precedence) > (-peer.rule.level, peer.precedence):
                peer = compiled_rule
    terms: Terms = {}
    if base is not None:
        used = [base.rule, *bonuses]
        terms[1] = (base.rule.percent + sum((b.percent for b in bonuses), ZERO), tuple(r.id for r in used),
                    tuple(a for r in used for a in r.actions))
    for level, winner in team.items():
        terms[level] = (winner.rule.percent, (winner.rule.id,), winner.rule.actions)
    return terms, ((peer.rule.level, (peer.rule.percent, (peer.rule.id,), ())) if peer is not None else None)


def price_lines(
    ctx: OrderContext, chain: list[Beneficiary], compiled: CompiledRules, matcher: Matcher
) -> tuple[PricedLine, ...]:
    if not chain:
        return tuple(PricedLine(line=line, shares=()) for line in ctx.lines)
    matches = matcher.match(build_facts(ctx, chain, compiled))
    cap = compiled.ruleset.compliance.max_line_percent
    cache = compiled.terms_cache  # the same few sets of matched rules come back line after line
    priced = []
    same: dict[tuple[int, ...], tuple[Share, ...]] = {}  # lines of this order matching the same rules: one tuple
    for line, matched_indices in zip(ctx.lines, matches):
        key = tuple(sorted(matched_indices))
        shares = same.get(key)
        if shares is None:
            found = cache.get(key)
            if found is None:
                if len(cache) >= _TERMS_CACHE_LIMIT:
                    cache.clear()
                found = cache[key] = _terms(compiled, key)
            terms, peer = found
            out: list[Share] = []
            if cap is None:  # no compliance cap: each level's term as it is (what _add_share does without one)
                for who in chain:
                    level = who.level
                    term = terms.get(level)
                    if term is not None:
                        out.append(Share(level, who.distributor, term[0], term[1], term[2], ""))
                    if peer is not None and peer[0] == level:
                        term = peer[1]
                        out.append(Share(level, who.distributor, term[0], term[1], term[2], PEER))
            else:  # within the cap, as _add_share does it; past the cap, _add_share trims
                total = ZERO
                for who in chain:
                    level = who.level
                    term = terms.get(level)
                    if term is not None:
                        after = total + term[0]
                        if after > cap:
                            total = _add_share(out, who, term, "", total, cap)
                        else:
                            out.append(Share(level, who.distributor, term[0], term[1], term[2], ""))
                            total = after
                    if peer is not None and peer[0] == level:
                        term = peer[1]
                        after = total + term[0]
                        if after > cap:
                            total = _add_share(out, who, term, PEER, total, cap)
                        else:
                            out.append(Share(level, who.distributor, term[0], term[1], term[2], PEER))
                            total = after
            shares = same[key] = tuple(out)
        priced.append(PricedLine(line, shares))
    return tuple(priced)


def _add_share(shares: list[Share], who: Beneficiary, term: Term, kind: str, total: Decimal,
               cap: Decimal | None) -> Decimal:
    """Append who's share for `term` within the cap; the new total of the line's percents."""
    percent, rule_ids, actions = term
    if cap is not None and total + percent > cap:
        # The cap trims the highest level first: the seller's own commission is never cut for an upline (and a
        # level's team rule is paid before its peer bonus).
        allowed = cap - total
        if allowed <= ZERO:
            return total
        percent, rule_ids = allowed, rule_ids + ("compliance:cap",)
    shares.append(Share(who.level, who.distributor, percent, rule_ids, actions, kind))
    return total + percent


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
