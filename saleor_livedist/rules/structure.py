"""Checks one parsed rule file against schema.json and says what is wrong in the merchant's words.

schema.json is the single source of truth for structure (editors read it too); this module only translates each
jsonschema error, by its keyword, path and the subschema it failed, into a Problem with a stable code and a hint.
"""
from __future__ import annotations

import difflib
import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .yamldoc import Document, Path

SCHEMA_ID = "livedist/v1"

# Range errors re-reported by hand with a semantic or compliance code (see build.py): the schema keeps the
# bounds so editors flag them, the loader explains them better.
_HAND_CHECKED = {
    ("percent", "exclusiveMinimum"), ("percent", "maximum"),
    ("maxLevels", "maximum"), ("teamLevel", "maximum"), ("peerLevel", "maximum"),
    ("poolLevels", "maximum"), ("joinFee", "maximum"),
}
_EXPECTED = {  # by $anchor: what a value of that kind looks like
    "percent": "a number (percent)",
    "money": "an amount (a number such as 9.90)",
    "stringList": "a name or a list of names",
    "dateTime": "a date and time with a UTC offset",
    "extensions": "a mapping of extension names to parameters",
    "params": "a mapping of parameters",
    "validDays": "a number of days or 'permanent'",
    "dailyLimit": "a whole number or 'unlimited'",
    "currency": "a 3-letter currency code in capitals",
    "id": "an id",
}
_TYPE_HINTS = {
    "percent": "write the percent as a number: 5 means 5%",
    "money": "write the amount as a number, e.g. 9.90",
    "stringList": "write one name, or a list such as [a, b]",
    "dateTime": "e.g. 2024-06-01T20:00:00+08:00",
    "extensions": "e.g. {big_basket: {min_amount: 100}}",
    "params": "e.g. {min_amount: 100}, or leave it empty",
    "validDays": "write a number of days such as 30, or permanent",
    "dailyLimit": "write a whole number such as 20, or unlimited",
    "currency": "write an ISO 4217 code such as CNY or USD",
    "integer": "write a whole number such as 7",
    "number": "write a number such as 2.5",
    "boolean": "write true or false",
    "string": "write text; quote it if it looks like a number or a date",
    "object": "write its keys indented under it, or as {key: value}",
    "array": "write one '- item' line per value under it, or [a, b]",
}
_EXAMPLES = {
    "qualify": "e.g. qualify: {watched_minutes: 5}",
    "each": "e.g. each: {points: 5}",
    "reward": "e.g. reward: {points: 50}",
}
_TYPE_NAMES = {
    "integer": "a whole number", "number": "a number", "boolean": "true or false", "string": "a string",
    "object": "a mapping", "array": "a list", "null": "empty",
}
_LISTS = {
    ("commission", "rates"): "commission rate rule",
    ("commission", "bonuses"): "commission bonus rule",
    ("commission", "team"): "commission team rule",
    ("commission", "peer"): "commission peer rule",
    ("tasks",): "task",
    ("promotions",): "promotion",
    ("pools",): "pool",
}


@cache
def schema() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def check_document(doc: Document) -> bool:
    """Report top-level and structural problems on `doc`. False when the file cannot be read as rules at all."""
    if doc.data is None:
        if not doc.problems:
            doc.problems.append(doc.problem_at(0, 0, "LD010", "the file is empty",
                                               f"a rule file starts with 'schema: {SCHEMA_ID}'"))
        return False
    if not isinstance(doc.data, dict):
        doc.report((), "LD011", f"the top level must be a mapping of sections, got {got(doc.data)}",
                   "start with 'schema: livedist/v1', then sections such as 'commission:' or 'tasks:'")
        return False
    if "schema" not in doc.data:  # not doc.report: the rest of the file is still checked
        doc.problems.append(doc.problem((), "LD012", f"missing 'schema: {SCHEMA_ID}'", f"add 'schema: {SCHEMA_ID}' "
                                        "as the first line; it names the format of the file"))
    elif doc.data["schema"] != SCHEMA_ID:
        value = doc.data["schema"]
        message = (f"unknown schema {clip(value)!r}; this version reads {SCHEMA_ID!r}" if isinstance(value, str)
                   else f"'schema' must be {SCHEMA_ID!r}, got {got(value)}")
        doc.report(("schema",), "LD013", message, f"write 'schema: {SCHEMA_ID}'")
        return False  # another format's keys would only produce noise
    if () in doc.bad:
        return True  # the data was cut short (LD007): every error would be about the cut
    parsed_bad = set(doc.bad)
    for error in _validator().iter_errors(doc.data):
        path = tuple(error.path)
        if path[:1] == ("schema",) or any(path[: len(bad)] == bad for bad in parsed_bad):
            continue  # reported above, or a value the parser already rejected
        _translate(doc, error, path)
    return True


def _translate(doc: Document, error: ValidationError, path: Path) -> None:
    keyword, anchor = error.validator, error.schema.get("$anchor")
    if (anchor, keyword) in _HAND_CHECKED:
        return
    name, value = value_name(path), error.instance
    if keyword == "additionalProperties":
        _unknown_keys(doc, error, path)
    elif keyword == "required":
        _missing_keys(doc, error, path)
    elif keyword == "maxLength" and anchor == "id":
        doc.report(path, "LD106", f"{name} is too long ({len(value)} characters; at most "
                   f"{error.validator_value})", "use a shorter id")
    elif keyword in ("type", "pattern") and anchor == "id":
        example = re.sub(r"[^a-z0-9_.-]+", "-", str(value).lower()).strip("-_.")[:100] or "direct"
        doc.report(path, "LD106", f"{name} must be lowercase letters, digits, '_', '.' and '-', starting with a "
                   f"letter or digit; got {got(value)}", f"e.g. {example!r}")
    elif keyword == "pattern" and anchor in ("validDays", "dailyLimit"):
        word = "permanent" if anchor == "validDays" else "unlimited"
        doc.report(path, "LD104", f"{name} must be {_EXPECTED[anchor]}, got {got(value)}",
                   _did_you_mean(value, [word]) or _TYPE_HINTS[anchor])
    elif keyword in ("type", "pattern", "maxLength"):
        doc.report(path, "LD102", f"{name} must be {expected(error)}, got {got(value)}", _type_hint(error))
    elif keyword in ("enum", "const"):
        options = error.validator_value if keyword == "enum" else [error.validator_value]
        doc.report(path, "LD104", f"{name} must be one of {', '.join(map(str, options))}; got {got(value)}",
                   _did_you_mean(value, options) or "pick one of the values listed")
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        _out_of_range(doc, error, path)
    elif keyword == "minItems":
        doc.report(path, "LD107", f"{name} must not be empty", "list at least one value, or remove the key")
    elif keyword == "minLength":
        doc.report(path, "LD107", f"{name} must not be empty",
                   "write a value (or remove the key, where it is optional)")
    elif keyword == "minProperties":
        keys = ", ".join(error.schema["properties"])
        doc.report(path, "LD107", f"{name} must give at least one of: {keys}",
                   _EXAMPLES.get(str(path[-1]) if path else "", "see docs/rules.md"))
    elif keyword == "dependentRequired":
        _task_pairs(doc, error, path)
    elif keyword == "anyOf" and anchor == "task":
        if "reward" in value:
            return  # it rewards something: "has 'reward' but no 'target'" says what is missing
        doc.report(path, "LD109", f"{owner_label(doc.data, path)} rewards nothing: give 'each' (a reward per "
                   "qualified invitee) or 'target' and 'reward'", "e.g. each: {points: 5}")
    else:  # every keyword schema.json uses is handled above; this keeps a new one from going unreported
        doc.report(path, "LD102", f"{name} is not valid here", "see docs/rules.md for this key")


def _unknown_keys(doc: Document, error: ValidationError, path: Path) -> None:
    valid = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key in valid:
            continue
        where = "at the top level" if not path else container(doc.data, path)
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        hint = (f"did you mean {close[0]!r}? " if close else "") + f"valid keys: {', '.join(valid)}"
        doc.report(path + (key,), "LD101", f"unknown key {clip(key)!r} {where}", hint, key=True)


def _missing_keys(doc: Document, error: ValidationError, path: Path) -> None:
    unknown = [key for key in error.instance if key not in error.schema.get("properties", {})]
    for key in error.validator_value:
        if key in error.instance or (path, key) == ((), "schema"):  # a missing schema is LD012
            continue
        if difflib.get_close_matches(key, unknown, n=1, cutoff=0.6):
            continue  # the misspelt key is reported as unknown, with this one as its suggestion
        examples = error.schema["properties"][key].get("examples") or ["..."]
        doc.report(path, "LD103", f"missing required key {key!r} {container(doc.data, path)}",
                   f"add '{key}', e.g. {key}: {inline_yaml(examples[0])}")


def _out_of_range(doc: Document, error: ValidationError, path: Path) -> None:
    bounds = {
        "minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than",
    }
    limit = _number(error.validator_value)
    low = error.schema.get("minimum", error.schema.get("exclusiveMinimum"))
    high = error.schema.get("maximum", error.schema.get("exclusiveMaximum"))
    hint = f"allowed: {_number(low)} to {_number(high)}" if low is not None and high is not None else ""
    if error.schema.get("$anchor") == "teamLevel":
        hint = "level 1 is the selling distributor: put its rate in 'commission.rates'"
    elif error.schema.get("$anchor") == "peerLevel":
        hint = "level 1 is the selling distributor, who is not their own peer: level 2 is the seller's upline"
    doc.report(path, "LD105", f"{value_name(path)} must be {bounds[error.validator]} {limit}, "
               f"got {_number(error.instance)}", hint)


def _task_pairs(doc: Document, error: ValidationError, path: Path) -> None:
    for key, needed in error.validator_value.items():
        for other in needed:
            if key in error.instance and other not in error.instance:
                doc.report(path + (key,), "LD109", f"{owner_label(doc.data, path)} has {key!r} but no {other!r}",
                           "a target reward needs both 'target' (how many invitees) and 'reward' (what it earns)",
                           key=True)


def expected(error: ValidationError) -> str:
    anchor = error.schema.get("$anchor")
    if anchor in _EXPECTED:
        return _EXPECTED[anchor]
    types = error.schema.get("type", "")
    types = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_NAMES.get(t, t) for t in types)


def _type_hint(error: ValidationError) -> str:
    anchor, value = error.schema.get("$anchor"), error.instance
    if value is None:
        return "give it a value, or remove the key"
    if anchor == "percent" and isinstance(value, str) and value.strip().endswith("%"):
        return f"write {value.strip().rstrip('%').strip()} without the '%' sign"
    if anchor in _TYPE_HINTS:
        return _TYPE_HINTS[anchor]
    types = error.schema.get("type", "")
    first = types[0] if isinstance(types, list) else types
    if first == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"write it in quotes: '{value}'"
    return _TYPE_HINTS.get(first, "")


def _did_you_mean(value: Any, options: list[Any]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(o) for o in options], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def owner(data: Any, path: Path) -> tuple[Path, str] | None:
    """The rule, task or promotion `path` is in, and its label such as "commission rate rule 'direct'"."""
    for prefix, kind in _LISTS.items():
        size = len(prefix)
        if path[:size] == prefix and len(path) > size and isinstance(path[size], int):
            item = _get(data, path[: size + 1])
            ident = item.get("id") if isinstance(item, dict) else None
            label = f"{kind} {clip(ident)!r}" if isinstance(ident, str) and ident else f"{kind} #{path[size] + 1}"
            return path[: size + 1], label
    return None


def owner_label(data: Any, path: Path) -> str:
    found = owner(data, path)
    return found[1] if found else "this item"


def container(data: Any, path: Path) -> str:
    """Where a key is: "in commission rate rule 'direct'", "in 'when' of task 'x'", "in 'binding'"."""
    found = owner(data, path)
    if found and found[0] == path:
        return f"in {found[1]}"
    local = f"in {value_name(path)}"
    return f"{local} of {found[1]}" if found else local


def value_name(path: Path) -> str:
    """How a message names the value at `path`: 'rate', or 'products' item 2."""
    if not path:
        return "the top level"
    last = path[-1]
    if isinstance(last, str):
        return repr(clip(last))
    parent = next((p for p in reversed(path) if isinstance(p, str)), "list")
    return f"{clip(parent)!r} item {last + 1}"


def got(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {clip(value)!r}"
    return "a list" if isinstance(value, list) else "a mapping"


def inline_yaml(value: Any) -> str:
    """A schema example as the merchant would write it: {watched_minutes: 5}, not JSON."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {inline_yaml(item)}" for key, item in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
