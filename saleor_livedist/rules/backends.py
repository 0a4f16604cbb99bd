"""Rule backends: which compiled rules match each fact. durable-rules is the default; Python must agree with it.

Both answer the same question for a batch of facts (one order's lines x levels): the indices of the
compiled rules whose condition holds. Arithmetic never happens here; it is done in Decimal by core.pricing.

durable-rules is used in the one pattern that survived every measured pitfall (shared/reference/durable-rules.md):
one Host per process with its timer threads disabled, a lock around every call, one constant session whose
state is deleted after each evaluation, facts made unique by a key, a catch-all rule so that no batch is
rejected, fired rules only recorded (never anything written to the session), one ruleset registered per rules
version (name@version) and freed when no longer used.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ..exceptions import EngineUnavailable
from .compiler import CompiledRules, Condition

BACKENDS = ("durable", "python")


class Matcher(Protocol):
    name: str

    def match(self, facts: list[dict[str, Any]]) -> list[set[int]]:
        """For each fact (each carrying a unique int 'k'), the indices of the matching compiled rules."""

    def close(self) -> None: ...


# ---------------------------------------------------------------- Python: an interpreter of the same conditions

Predicate = Callable[[dict[str, Any]], bool]


class _Source:
    """Translates a condition document into one Python expression over the fact `f`; `get` is how the
    expression reads a key (f.get, or a local bound to it)."""

    def __init__(self, get: str = "f.get") -> None:
        self.names = 0
        self.get = get

    def expr(self, condition: Condition) -> str:
        if len(condition) != 1:
            return "(" + " and ".join(self.expr({k: v}) for k, v in condition.items()) + ")"
        ((op, body),) = condition.items()
        if op == "$and":
            return "(" + " and ".join(self.expr(c) for c in body) + ")"
        if op == "$or":
            return "(" + " or ".join(self.expr(c) for c in body) + ")"
        if op == "$iany":
            ((key, item),) = body.items()
            return f"({item['$i']!r} in ({self.get}({key!r}) or ()))"
        if op == "$ex":
            ((key, _),) = body.items()
            return f"({key!r} in f)"
        if op in _COMPARE:
            ((key, bound),) = body.items()
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise ValueError(f"{op} needs a number, got {bound!r}")
            v = self._name()
            # A missing key or a non-number never satisfies a comparison, as in durable-rules.
            return (f"(({v} := {self.get}({key!r})) is not None and {v} is not True and {v} is not False "
                    f"and {v} {_COMPARE[op]} {bound!r})")
        if op.startswith("$"):
            raise ValueError(f"unsupported operator {op}")
        if isinstance(body, bool):
            return f"({self.get}({op!r}) is {body!r})"
        if isinstance(body, str):
            return f"({self.get}({op!r}) == {body!r})"
        if isinstance(body, (int, float)):
            v = self._name()
            return f"(({v} := {self.get}({op!r})) is not True and {v} is not False and {v} == {body!r})"
        raise ValueError(f"unsupported value {body!r}")

    def _name(self) -> str:
        self.names += 1
        return f"v{self.names}"


_COMPARE = {"$gte": ">=", "$gt": ">", "$lte": "<=", "$lt": "<"}


def compile_predicate(condition: Condition) -> Predicate:
    """Turn one durable-rules condition document into a Python predicate with the same meaning.

    The document becomes the source of a single lambda: no interpretation per fact, which keeps the Python
    backend an order of magnitude faster than durable-rules while meaning exactly the same."""
    source = f"lambda f: bool({_Source().expr(condition)})"
    return eval(compile(source, "<livedist-rule>", "eval"), {"__builtins__": {"bool": bool}})  # noqa: S307


class PythonMatcher:
    """All the rules as one generated Python function per rule set, with the same meaning as compile_predicate.

    A fact only evaluates the rules that can match it: the rules paying level L sit behind one test of the key
    lvL (every compiled condition starts with it), and rules naming products (else categories) sit in a
    dictionary keyed by those values, so 200 product rules cost one lookup per line, not 200 tests."""

    name = "python"

    def __init__(self, compiled: CompiledRules):
        self._match_fact = _compile_matcher(compiled)

    def match(self, facts: list[dict[str, Any]]) -> list[set[int]]:
        match_fact = self._match_fact
        return [match_fact(f) for f in facts]

    def close(self) -> None:
        pass


_LEVEL_KEY = re.compile(r"lv[0-9]+")
_INDEXED_KEYS = ("product", "category")


def _parts(condition: Condition) -> list[Condition]:
    if len(condition) == 1 and "$and" in condition:
        return list(condition["$and"])
    return [condition]


def _equal_to_one_of(part: Condition, key: str) -> set[str] | None:
    """The strings `key` must equal for this part to hold ({key: v} or an $or of such), else None."""
    if len(part) != 1:
        return None
    ((op, body),) = part.items()
    if op == key and isinstance(body, str):
        return {body}
    if op == "$or" and body and all(len(alt) == 1 and isinstance(alt.get(key), str) for alt in body):
        return {alt[key] for alt in body}
    return None


class _Group:
    """The rules of one level: tested on every fact of that level, or found by product or category."""

    def __init__(self) -> None:
        self.always: list[tuple[int, list[Condition]]] = []
        self.by_value: dict[str, dict[str, list[tuple[int, list[Condition]]]]] = {k: {} for k in _INDEXED_KEYS}


def _compile_matcher(compiled: CompiledRules) -> Callable[[dict[str, Any]], set[int]]:
    unindexed: list[tuple[int, list[Condition]]] = []
    groups: dict[str, _Group] = {}
    for rule in compiled.rules:
        parts = _parts(rule.condition)
        # The first part of a compiled condition is {lvL: True}: it becomes the test of the level's group. The
        # next part, when it names products (else categories), becomes a dictionary lookup. The rule's function
        # still tests every part but the first, in order, so a fact is tested as compile_predicate tests it.
        guard = next(iter(parts[0].items())) if len(parts[0]) == 1 else None
        if guard is None or not _LEVEL_KEY.fullmatch(guard[0]) or guard[1] is not True:
            unindexed.append((rule.index, parts))
            continue
        group = groups.setdefault(guard[0], _Group())
        rest = parts[1:]
        for indexed in _INDEXED_KEYS:
            values = _equal_to_one_of(rest[0], indexed) if rest else None
            if values is not None:
                for value in values:
                    group.by_value[indexed].setdefault(value, []).append((rule.index, rest))
                break
        else:
            group.always.append((rule.index, rest))
    namespace: dict[str, Any] = {"__builtins__": {}, "_str": str, "_set": set}
    source = _Source("g")
    lines = ["def match_fact(f):", "    g = f.get", "    hits = _set()", "    add = hits.add"]

    def tests(rules: list[tuple[int, list[Condition]]], indent: str) -> list[str]:
        out = []
        for index, parts in rules:
            condition = " and ".join(source.expr(p) for p in parts) if parts else "True"
            out.append(f"{indent}if {condition}:\n{indent}    add({index})")
        return out

    lines += tests(unindexed, "    ")
    for n, (key, group) in enumerate(sorted(groups.items())):
        lines.append(f"    if g({key!r}) is True:")
        lines += tests(group.always, "        ") or ["        pass"]
        for indexed, by_value in group.by_value.items():
            if not by_value:
                continue
            table = f"_{indexed}_{n}"
            namespace[table] = {value: _bucket(rules) for value, rules in by_value.items()}
            namespace[table + "_all"] = _bucket([r for rules in by_value.values() for r in rules])
            lines += [
                f"        v = g({indexed!r})",
                "        if v is not None:",  # the key is absent: no equality on it holds
                f"            test = {table}.get(v) if v.__class__ is _str else {table}_all",
                "            if test is not None:",
                "                test(f, add)",
            ]
    lines.append("    return hits")
    exec(compile("\n".join(lines), "<livedist-rules>", "exec"), namespace)  # noqa: S102
    return namespace["match_fact"]  # type: ignore[no-any-return]


def _bucket(rules: list[tuple[int, list[Condition]]]) -> Callable[..., None]:
    """A function adding the index of each of these rules whose remaining parts hold."""
    source = _Source("g")
    body = [f"    if {' and '.join(source.expr(p) for p in parts)}:\n        add({index})" for index, parts in rules]
    local: dict[str, Any] = {}
    exec(compile("def test(f, add):\n    g = f.get\n" + "\n".join(body), "<livedist-rules>", "exec"),  # noqa: S102
         {"__builtins__": {}}, local)
    return local["test"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- durable-rules

_host_lock = threading.Lock()
_host: Any = None
_names = itertools.count()


def _ignore(c: Any) -> None:
    pass  # actions are not run through durable.engine; see DurableMatcher


def _durable_host() -> Any:
    global _host
    try:
        from durable import engine
    except ImportError as exc:  # the C extension did not build or import (e.g. Python 3.13)
        raise EngineUnavailable(
            f"durable-rules cannot be imported ({exc}); use the 'python' backend (LIVEDIST['ENGINE'] = 'python' "
            "or --engine python)"
        ) from exc

    class QuietHost(engine.Host):
        def _run(self) -> None:
            # No timer threads: they steal synchronous calls and we use no timers.
            pass

    with _host_lock:
        if _host is None:
            _host = QuietHost()
        return _host


class DurableMatcher:
    """durable-rules decides which rules match; its C core is driven directly (assert_facts, then one
    complete_and_start_action per fired rule) rather than through durable.engine's Python action machinery,
    which per fired rule built closures, read the clock twice and serialised the session state twice. Our
    actions only record (fact, rule), so none of that is needed; the pattern is otherwise unchanged."""

    name = "durable"

    def __init__(self, compiled: CompiledRules):
        self._host = _durable_host()
        import durable_rules_engine

        self._engine = durable_rules_engine
        self._lock = _host_lock
        self._name = f"livedist@{compiled.version}#{next(_names)}"
        # durable-rules rejects a whole batch (and runs no action) if one fact matches no rule, so one rule
        # matches every fact; nothing is recorded for it.
        definition: dict[str, Any] = {_SEEN: {"all": [{"m": {"$ex": {"k": 1}}}], "run": _ignore}}
        self._rule_of: dict[str, int] = {}
        for rule in compiled.rules:
            definition[f"r{rule.index}"] = {"all": [{"m": rule.condition}], "run": _ignore}
            self._rule_of[f"r{rule.index}"] = rule.index
        # Facts are sent with only the keys some rule tests (and 'k'): a rule never sees another key, so the
        # result is the same, and less JSON goes to durable-rules and comes back with each fired rule.
        self._keys = _tested_keys(compiled)
        if self._keys is not None:
            self._keys -= {"k"}  # sent first, separately
        with self._lock:
            self._host.register_rulesets({self._name: definition})
            self._ruleset = self._host.get_ruleset(self._name)
            self._handle = self._ruleset._handle

    def match(self, facts: list[dict[str, Any]]) -> list[set[int]]:
        from durable.engine import MessageObservedException

        keys = self._keys
        # 'k' first: durable-rules hands each fired rule's fact back as it was sent, so 'k' can be read off
        # the start of the message (see _fired)
        sent = facts if keys is None else [{"k": f["k"], **{k: v for k, v in f.items() if k in keys}}
                                           for f in facts]
        payload = _to_json(sent)
        result: list[set[int]] = [set() for _ in facts]
        position = {f["k"]: n for n, f in enumerate(facts)}
        engine, handle, rule_of = self._engine, self._handle, self._rule_of
        with self._lock:
            state = None
            try:
                code, state = engine.assert_facts(handle, payload)
                if code == _OBSERVED:
                    raise MessageObservedException(sent)
                if code == _NOT_HANDLED:
                    return result  # no rule matched any fact (cannot happen with the catch-all, kept for safety)
                if code == _DEFERRED:
                    state = 0  # as durable.engine does
                started = engine.start_action_for_state(handle, state)
                message = started[1] if started else None
                while message:
                    if not message.startswith(_SEEN_PREFIX):
                        name, k = _fired(message)
                        result[position[k]].add(rule_of[name])
                    message = engine.complete_and_start_action(handle, state)
            except BaseException:
                if state is not None:
                    with contextlib.suppress(Exception):  # the first error is the one to report
                        engine.abandon_action(handle, state)
                raise
            finally:
                engine.delete_state(handle, "0")
        return result

    def close(self) -> None:
        with self._lock:
            host = self._host
            ruleset = host._ruleset_directory.pop(self._name, None)
            if ruleset is not None:
                host._ruleset_list.remove(ruleset)
                self._engine.delete_ruleset(ruleset._handle)


_SEEN = "seen"
_SEEN_PREFIX = '{"seen":'  # how durable-rules starts the message of an action of the rule named 'seen'
_NOT_HANDLED, _OBSERVED, _DEFERRED = 1, 2, 3  # durable-rules' result codes of assert_facts
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # as durable.engine serialises, without a new encoder per call
_FIRED = re.compile(r'\{"(r[0-9]+)":\{"m":\{"k": ([0-9]+)[,}]')


def _fired(message: str) -> tuple[str, int]:
    """(rule name, fact 'k') of a fired rule's message, {"r3":{"m":{"k": 0, ...}}}: read off its start, or
    parsed as JSON when it does not start that way."""
    found = _FIRED.match(message)
    if found is not None:
        return found[1], int(found[2])
    ((name, frame),) = json.loads(message).items()
    return name, frame["m"]["k"]


def _tested_keys(compiled: CompiledRules) -> frozenset[str] | None:
    """Every fact key some condition tests, plus 'k'; None if a condition has an operator not known here."""
    keys = {"k"}

    def walk(condition: Condition) -> bool:
        for op, body in condition.items():
            if op in ("$and", "$or"):
                if not all(walk(c) for c in body):
                    return False
            elif op in ("$iany", "$ex", *_COMPARE):
                keys.update(body)
            elif op.startswith("$"):
                return False
            else:
                keys.add(op)
        return True

    return frozenset(keys) if all(walk(rule.condition) for rule in compiled.rules) else None


def durable_available() -> bool:
    try:
        _durable_host()
    except EngineUnavailable:
        return False
    return True


def default_backend() -> str:
    return "durable" if durable_available() else "python"


def make_matcher(name: str | None, compiled: CompiledRules) -> Matcher:
    """`name` None: the ENGINE setting, else durable-rules where it imports, else Python."""
    if name is None:
        from ..conf import get_setting

        name = get_setting("ENGINE") or default_backend()
    if name == "durable":
        return DurableMatcher(compiled)
    if name == "python":
        return PythonMatcher(compiled)
    raise EngineUnavailable(f"unknown rule backend {name!r}; choose one of: {', '.join(BACKENDS)}")
