"""The two backends, fact by fact: random compiled rule sets against random facts whose numbers sit on and
around the rules' boundaries. Also the durable-rules usage pattern: reloads, many orders, no state left."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_livedist.exceptions import EngineUnavailable
from saleor_livedist.rules.backends import DurableMatcher, PythonMatcher, durable_available, make_matcher
from saleor_livedist.rules.compiler import CompiledRules, compile_rules, epoch_ms
from saleor_livedist.rules.model import RuleSet
from tests.builders import T0, default_rules
from tests.strategies import CATEGORIES, COLLECTIONS, LIVES, PRODUCTS, rulesets

needs_durable = pytest.mark.skipif(not durable_available(),
                                   reason="durable-rules does not import on this Python (3.13)")


def boundaries(compiled: CompiledRules) -> dict[str, list[int]]:
    """Every number a rule compares with, and its neighbours."""
    found: dict[str, set[int]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for op, body in node.items():
                if op in ("$gte", "$gt", "$lte", "$lt"):
                    ((key, bound),) = body.items()
                    found.setdefault(key, set()).update({bound - 1, bound, bound + 1})
                else:
                    walk(body)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for rule in compiled.rules:
        walk(rule.condition)
    return {k: sorted(v) for k, v in found.items()}


@st.composite
def facts_for(draw: st.DrawFn, compiled: CompiledRules) -> list[dict[str, Any]]:
    edges = boundaries(compiled)

    def number(key: str, default: list[int]) -> int:
        return draw(st.sampled_from(edges.get(key, default)))

    facts = []
    for k in range(draw(st.integers(1, 4))):
        fact: dict[str, Any] = {
            "k": k, "product": draw(st.sampled_from(PRODUCTS)), "channel": draw(st.sampled_from(["default", "b2b"])),
            "currency": draw(st.sampled_from(["CNY", "USD"])), "context": draw(st.sampled_from(["live", "replay", "none"])),
            "featured": draw(st.booleans()), "collections": draw(st.lists(st.sampled_from(COLLECTIONS), unique=True)),
            "at_ms": number("at_ms", [epoch_ms(T0)]),
        }
        if draw(st.booleans()):
            fact["category"] = draw(st.sampled_from(CATEGORIES))
        if draw(st.booleans()):
            fact["live"] = draw(st.sampled_from(LIVES))
            fact["live_seconds"] = number("live_seconds", [0, 3600])
        for level in range(1, draw(st.integers(1, 3)) + 1):
            fact[f"lv{level}"] = True
            fact[f"rank{level}"] = draw(st.sampled_from(["distributor", "leader"]))
            fact[f"same_rank{level}"] = fact[f"rank{level}"] == fact["rank1"]
            fact[f"tasks{level}"] = draw(st.lists(st.sampled_from(["t0", "t1"]), unique=True))
            if draw(st.booleans()):
                fact[f"since_sale_s{level}"] = number(f"since_sale_s{level}", [86400])
        facts.append(fact)
    return facts


@needs_durable
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rulesets(), data=st.data())
def test_backends_match_the_same_rules_for_every_fact(rules: RuleSet, data: st.DataObject) -> None:
    compiled = compile_rules(rules)
    durable = DurableMatcher(compiled)
    try:
        for _ in range(5):
            facts = data.draw(facts_for(compiled))
            assert durable.match(facts) == PythonMatcher(compiled).match(facts)
    finally:
        durable.close()


@needs_durable
def test_durable_matcher_leaves_no_state_and_survives_many_reloads() -> None:
    compiled = compile_rules(default_rules())
    fact = {"k": 0, "lv1": True, "rank1": "distributor", "tasks1": [], "product": "p", "channel": "c",
            "currency": "CNY", "context": "live", "featured": True, "collections": [], "at_ms": 0, "live_seconds": 60}
    expected = PythonMatcher(compiled).match([fact])
    for n in range(300):  # 300 rule versions registered and freed: no name clash, no lost result
        matcher = DurableMatcher(compiled)
        for _ in range(5):
            assert matcher.match([dict(fact)]) == expected  # the same fact again: no MessageObservedException
        matcher.close()
    assert expected == [{i for i, r in enumerate(compiled.rules) if r.rule.id in ("direct", "live-featured",
                                                                               "first-live-hour")}]


@needs_durable
def test_durable_matcher_keeps_order_ids_apart_beyond_1024_sessions() -> None:
    """One constant session, cleared after each evaluation: 5,000 distinct orders never share state."""
    compiled = compile_rules(default_rules())
    matcher = make_matcher("durable", compiled)
    base = {"lv1": True, "rank1": "distributor", "tasks1": [], "channel": "c", "currency": "CNY",
            "context": "none", "featured": False, "collections": [], "at_ms": 0}
    for n in range(5000):
        facts = [dict(base, k=0, product=f"p{n}"), dict(base, k=1, product=f"q{n}", lv2=True, rank2="leader",
                                                           tasks2=[])]
        got = matcher.match(facts)
        assert [{compiled.rules[i].rule.id for i in s} for s in got] == [{"direct"}, {"direct", "leader-level-2"}]
    matcher.close()


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(EngineUnavailable, match="choose one of: durable, python"):
        make_matcher("drools", compile_rules(default_rules()))


def test_between_bounds_are_half_open() -> None:
    """A window [from, to) on absolute dates: the start instant is in, the end instant is out."""
    from saleor_livedist.rules.model import RateRule, Source, When

    start, end = T0, T0 + timedelta(hours=1)
    rules = RuleSet(version="t", rates=(RateRule("w", "rate", 1, When(between=(start, end)), Source("x", 1, 1)),))
    matcher = PythonMatcher(compile_rules(rules))
    fact = {"k": 0, "lv1": True}
    assert matcher.match([dict(fact, at_ms=epoch_ms(start))]) == [{0}]
    assert matcher.match([dict(fact, at_ms=epoch_ms(end) - 1)]) == [{0}]
    assert matcher.match([dict(fact, at_ms=epoch_ms(end))]) == [set()]


class _Name(str):
    """A product id that is a str subclass: the index must not assume plain strings."""


@st.composite
def odd_facts(draw: st.DrawFn, compiled: CompiledRules) -> list[dict[str, Any]]:
    """facts_for, plus keys missing or holding values no rule names (None, a number, a str subclass)."""
    facts = draw(facts_for(compiled))
    for fact in facts:
        for key in ("product", "category"):
            choice = draw(st.integers(0, 5))
            if choice == 0:
                fact.pop(key, None)
            elif choice == 1:
                fact[key] = None
            elif choice == 2:
                fact[key] = 7
            elif choice == 3 and key in fact and fact[key] is not None:
                fact[key] = _Name(fact[key])
        if draw(st.booleans()):
            fact["lv1"] = draw(st.sampled_from([False, 1, "yes"]))
    return facts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rulesets(), data=st.data())
def test_python_matcher_index_tests_a_fact_as_every_predicate_would(rules: RuleSet, data: st.DataObject) -> None:
    """The Python backend only evaluates the rules a fact can match (by level, product, category); the answer
    is the one of evaluating every rule's predicate on every fact."""
    from saleor_livedist.rules.backends import compile_predicate

    compiled = compile_rules(rules)
    matcher = PythonMatcher(compiled)
    predicates = [(rule.index, compile_predicate(rule.condition)) for rule in compiled.rules]
    for _ in range(5):
        facts = data.draw(odd_facts(compiled))
        assert matcher.match(facts) == [{i for i, test in predicates if test(f)} for f in facts]
