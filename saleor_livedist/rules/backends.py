"""Rule backends: which compiled rules match each fact. durable-rules is the default; Python must agree with it.

Both answer the same question for a batch of facts (one order's lines x levels): the indices of the
compiled rules whose condition holds. Arithmetic never happens here; it is done in Decimal by core.pricing.

durable-rules is used in the one pattern that survived every measured pitfall (shared/reference/durable-rules.md):
one Host per process with its timer threads disabled, a lock around every call, one constant session whose
state is deleted after each evaluation, facts made unique by a key, actions that only record which rule
fired, one ruleset registered per rules version (name@version) and freed when no longer used.
"""
from __future__ import annotations

import itertools
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
    """Translates a condition document into one Python expression over the fact `f`."""

    def __init__(self) -> None:
        self.names = 0

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
            return f"({item['$i']!r} in (f.get({key!r}) or ()))"
        if op == "$ex":
            ((key, _),) = body.items()
            return f"({key!r} in f)"
        if op in _COMPARE:
            ((key, bound),) = body.items()
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise ValueError(f"{op} needs a number, got {bound!r}")
            v = self._name()
            # A missing key or a non-number never satisfies a comparison, as in durable-rules.
            return (f"(({v} := f.get({key!r})) is not None and {v} is not True and {v} is not False "
                    f"and {v} {_COMPARE[op]} {bound!r})")
        if op.startswith("$"):
            raise ValueError(f"unsupported operator {op}")
        if isinstance(body, bool):
            return f"(f.get({op!r}) is {body!r})"
        if isinstance(body, str):
            return f"(f.get({op!r}) == {body!r})"
        if isinstance(body, (int, float)):
            v = self._name()
            return f"(({v} := f.get({op!r})) is not True and {v} is not False and {v} == {body!r})"
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
    name = "python"

    def __init__(self, compiled: CompiledRules):
        self._rules = [(rule.index, compile_predicate(rule.condition)) for rule in compiled.rules]

    def match(self, facts: list[dict[str, Any]]) -> list[set[int]]:
        rules = self._rules
        return [{i for i, pred in rules if pred(f)} for f in facts]

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- durable-rules

_host_lock = threading.Lock()
_host: Any = None
_names = itertools.count()


def _ignore(c: Any) -> None:
    pass


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
    name = "durable"

    def __init__(self, compiled: CompiledRules):
        self._host = _durable_host()
        self._lock = _host_lock
        self._fired: list[tuple[int, int]] = []
        self._name = f"livedist@{compiled.version}#{next(_names)}"
        # durable-rules rejects a whole batch (and runs no action) if one fact matches no rule, so one rule
        # matches every fact; its action records nothing.
        definition: dict[str, Any] = {"seen": {"all": [{"m": {"$ex": {"k": 1}}}], "run": _ignore}}
        for rule in compiled.rules:
            definition[f"r{rule.index}"] = {"all": [{"m": rule.condition}], "run": self._recorder(rule.index)}
        with self._lock:
            self._host.register_rulesets({self._name: definition})
            self._ruleset = self._host.get_ruleset(self._name)

    def _recorder(self, index: int) -> Callable[[Any], None]:
        fired = self._fired

        def record(c: Any) -> None:
            fired.append((c.m["k"], index))

        return record

    def match(self, facts: list[dict[str, Any]]) -> list[set[int]]:
        from durable.engine import MessageNotHandledException

        result: list[set[int]] = [set() for _ in facts]
        position = {f["k"]: n for n, f in enumerate(facts)}
        with self._lock:
            self._fired.clear()
            try:
                self._host.assert_facts(self._name, facts)
            except MessageNotHandledException:
                pass  # no rule matched any fact
            finally:
                self._ruleset.delete_state("0")
            for k, index in self._fired:
                result[position[k]].add(index)
            self._fired.clear()
        return result

    def close(self) -> None:
        import durable_rules_engine

        with self._lock:
            host = self._host
            ruleset = host._ruleset_directory.pop(self._name, None)
            if ruleset is not None:
                host._ruleset_list.remove(ruleset)
                durable_rules_engine.delete_ruleset(ruleset._handle)


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
