"""Reads one rule file into plain data (dict/list/str/int/float/bool/None) plus the line:column of every key and
value, turning every way a file can be unreadable into a Problem instead of an exception.

We compose ruamel.yaml's position-carrying node graph and build the values ourselves rather than using a loader:
that keeps the position of everything (also inside aliases), reports every duplicate key instead of the first,
keeps timestamps as the text the merchant wrote (we parse them with their offset later) and bounds what hostile
input can cost (alias bombs, huge integers, deep nesting).

Parsing is linear in the size of the file: we use ruamel's safe (pure-Python) scanner, because its round-trip
scanner collects comments one character at a time (a 1 MB comment line took 13.6 s; bench/bench_rules.py).
The file's size itself is bounded by the loader (MAX_FILE_BYTES).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from ..exceptions import Problem

Path = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line and column

MAX_DEPTH = 40  # the format nests 7 deep; anything far deeper is a mistake or an attack
MAX_ALIAS_VALUES = 20_000  # values that aliases may expand to (a "billion laughs" file is a few lines long)
MAX_EXCERPT = 200  # characters of the offending line shown with a problem
MAX_INT = 2**63  # no count, day or amount in a rule file comes near; keeps str()/json of values cheap

_TAG = "tag:yaml.org,2002:"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class Document:
    """One parsed file. `keys` maps a path to where its key was written, `values` to where its value starts."""

    path: str
    text: str
    data: Any = None
    keys: dict[Path, Mark] = field(default_factory=dict)
    values: dict[Path, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    bad: set[Path] = field(default_factory=set)  # paths already reported: later checks stay quiet there
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = _LINE_BREAK.split(self.text)

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """Where `path` was written; the nearest written ancestor when the path itself is absent."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if key and path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (0, 0))

    def problem(self, path: Path, code: str, message: str, hint: str = "", *, key: bool = False) -> Problem:
        line, column = self.mark(path, key=key)
        return self.problem_at(line, column, code, message, hint)

    def problem_at(self, line: int, column: int, code: str, message: str, hint: str = "") -> Problem:
        excerpt = self.lines[line - 1].rstrip() if 0 < line <= len(self.lines) else ""
        if len(excerpt) > MAX_EXCERPT:  # a minified or generated line: show the start, or nothing past it
            excerpt = excerpt[:MAX_EXCERPT] + "…" if column <= MAX_EXCERPT else ""
        # control characters would garble a terminal; one replacement character each keeps the caret aligned
        excerpt = "".join(ch if ch == "\t" or ch.isprintable() else "\ufffd" for ch in excerpt)
        return Problem(self.path, line, column, code, message, hint, excerpt)

    def report(self, path: Path, code: str, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.problem(path, code, message, hint, key=key))
        self.bad.add(path)

    def is_clean(self, path: Path) -> bool:
        """True when nothing at or under `path` was reported, and the data was not cut short (`()` is bad)."""
        return () not in self.bad and not any(bad[: len(path)] == path for bad in self.bad)


def read_document(path: str, content: str | bytes) -> Document:
    """Parse one file; problems are in `doc.problems`, never raised."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _not_utf8(path, content, exc)
    doc = Document(path, content.removeprefix("\ufeff"))
    try:
        root = _compose_single(doc)
        if root is not None:
            doc.data = _Builder(doc).build(root)
    except RecursionError:  # ruamel's composer recurses once per nesting level
        doc.problems.append(doc.problem_at(0, 0, "LD008", f"nested too deeply (more than {MAX_DEPTH} levels)",
                                           "flatten the file; rule files nest a few levels only"))
    except ReaderError as exc:  # a control character or another one YAML forbids
        line, column = _position(doc.text, exc.position)
        doc.problems.append(doc.problem_at(line, column, "LD004", f"YAML syntax error: character "
                                           f"#x{exc.character:04x} is not allowed in a YAML file",
                                           "remove the character; is this a binary file?"))
    except MarkedYAMLError as exc:
        doc.problems.append(_syntax_problem(doc, exc))
    except YAMLError as exc:  # ruamel's other errors carry no position
        doc.problems.append(doc.problem_at(0, 0, "LD004", f"YAML syntax error: {exc}",
                                           "check indentation and quoting"))
    return doc


def _not_utf8(path: str, content: bytes, exc: UnicodeDecodeError) -> Document:
    doc = Document(path, content.decode("utf-8", errors="replace"))
    line_start = content.rfind(b"\n", 0, exc.start) + 1
    line = content.count(b"\n", 0, exc.start) + 1
    column = len(content[line_start:exc.start].decode("utf-8", errors="replace")) + 1  # in characters, as shown
    doc.problems.append(doc.problem_at(line, column, "LD003", "the file is not UTF-8 text: invalid byte "
                                       f"0x{content[exc.start:exc.start + 1].hex()}",
                                       "save the file as UTF-8 (the editor's 'encoding' setting)"))
    return doc


def _compose_single(doc: Document) -> Node | None:
    yaml = YAML(typ="safe", pure=True)  # not "rt": see the module docstring
    documents: Iterator[Node] = yaml.compose_all(doc.text)
    root = next(documents, None)
    extra = next(documents, None)
    if extra is not None:
        doc.problems.append(doc.problem_at(extra.start_mark.line + 1, extra.start_mark.column + 1, "LD005",
                                           "more than one YAML document in the file",
                                           "remove the '---' separator, or put each part in its own file"))
    return root


def _syntax_problem(doc: Document, exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark if exc.problem_mark is not None else exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = str(exc.problem or exc.context or "invalid YAML")
    if "'\\t'" in problem:
        return doc.problem_at(line, column, "LD004", "YAML syntax error: a tab character cannot be used here",
                              "indent with spaces; YAML does not allow tabs")
    if problem == "mapping values are not allowed here":  # the most common one: an unquoted ': ' in a value
        return doc.problem_at(line, column, "LD004", "YAML syntax error: ': ' cannot appear in an unquoted value",
                              "put the value in quotes, or check the indentation of this line")
    hint = "check indentation and quoting around this point"
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        hint = f"{exc.context}, which started at line {exc.context_mark.line + 1}, " \
               f"column {exc.context_mark.column + 1}"
    return doc.problem_at(line, column, "LD004", f"YAML syntax error: {problem}", hint)


def _position(text: str, offset: int) -> Mark:
    before = text[:offset]
    breaks = list(_LINE_BREAK.finditer(before))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, offset - line_start + 1


class _Builder:
    """Turns a node graph into plain data, recording positions and reporting bad nodes on the document."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.built: set[int] = set()  # ids of the nodes built once: meeting one again is an alias (or a merge)
        self.expanding = 0  # > 0 while building a value again through an alias
        self.expanded = 0  # values built through aliases; an honest file's own values are not counted
        self.active: set[int] = set()  # ids of the collection nodes being built: an alias to one is a cycle
        self.exhausted = False

    def build(self, root: Node) -> Any:
        self.doc.values[()] = _mark(root)
        return self.node(root, ())

    def node(self, node: Node, path: Path) -> Any:
        repeat = id(node) in self.built
        self.built.add(id(node))
        self.expanding += repeat
        try:
            return self.built_node(node, path)
        finally:
            self.expanding -= repeat

    def over_alias_limit(self, path: Path) -> bool:
        """Count one value built through an alias; True (reported once) past MAX_ALIAS_VALUES."""
        if not self.expanding:
            return False
        self.expanded += 1
        if self.expanded <= MAX_ALIAS_VALUES:
            return False
        if not self.exhausted:  # one problem, not one per value past the limit
            self.exhausted = True
            self.doc.report(path[:1], "LD007", f"the file expands to more than {MAX_ALIAS_VALUES} values "
                            "(through anchors and aliases)", "use fewer aliases; write the values out", key=True)
            self.doc.bad.add(())  # the data is cut short: checking it would only report the cuts
        return True

    def built_node(self, node: Node, path: Path) -> Any:
        if self.over_alias_limit(path):
            return None
        if len(path) > MAX_DEPTH:
            self.doc.report(path, "LD008", f"nested too deeply (more than {MAX_DEPTH} levels)",
                            "flatten the file; rule files nest a few levels only")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:  # reported at the key holding the alias: the node's own mark is the anchor's
            self.doc.report(path, "LD007", f"alias *{node.anchor} refers to a value that contains it",
                            "an alias cannot point at one of its own parents", key=True)
            return None
        if node.tag not in (_TAG + "map", _TAG + "seq"):
            return self.unsupported_tag(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def sequence(self, node: SequenceNode, path: Path) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.doc.values.setdefault(path + (index,), _mark(item))
            items.append(self.node(item, path + (index,)))
        return items

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":  # `<<: *defaults`: own keys win, whatever their order
                merged.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in result:  # the first one stays and is checked; the repeat is reported and ignored
                first = self.doc.keys.get(path + (key,), (0, 0))
                self.doc.problems.append(self.doc.problem_at(
                    *_mark(key_node), "LD110", f"duplicate key {key!r} (first at line {first[0]})",
                    "a key may appear once in a mapping; remove or merge one of them"))
                continue
            self.record(path + (key,), key_node, value_node)
            result[key] = self.node(value_node, path + (key,))
        for source in merged:
            if not isinstance(source, MappingNode):
                self.doc.report(path, "LD102", "'<<' must merge a mapping", "write '<<: *anchor' where "
                                "the anchor names a mapping")
                continue
            if id(source) in self.active:
                self.doc.report(path, "LD007", f"alias *{source.anchor} refers to a value that contains it",
                                "an alias cannot point at one of its own parents")
                continue
            self.expanding += 1  # a merge copies the mapping's values, as an alias does
            self.active.add(id(source))
            try:
                if self.over_alias_limit(path):
                    continue
                for key, value in self.mapping(source, path).items():
                    result.setdefault(key, value)
            finally:
                self.active.discard(id(source))
                self.expanding -= 1
        return result

    def record(self, path: Path, key_node: Node, value_node: Node) -> None:
        self.doc.keys.setdefault(path, _mark(key_node))
        empty = isinstance(value_node, ScalarNode) and value_node.value == "" and not value_node.style
        # an empty value's node is placed at the next token, often on the next line: point at the key instead
        self.doc.values.setdefault(path, _mark(key_node) if empty else _mark(value_node))

    def key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            line, column = _mark(node)
            self.doc.problems.append(self.doc.problem_at(line, column, "LD102", "a key must be a name, "
                                                         "not a list or a mapping", "write 'name: value'"))
            self.doc.bad.add(path)
            return None
        return str(node.value)  # `1:` or `true:` as a key is the name the merchant typed

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        tag, text = node.tag, node.value
        if tag in (_TAG + "str", _TAG + "timestamp"):  # timestamps stay text: parsed later with their offset
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            return self.unreadable(path, text, "true or false")
        if tag == _TAG + "int":
            number = _parse_int(text)
            if number is None:
                return self.unreadable(path, text, "a whole number")
            if abs(number) >= MAX_INT:
                self.doc.report(path, "LD009", f"the number {_clip(text)} is too large", "use a smaller number")
                return None
            return number
        if tag == _TAG + "float":
            value = _parse_float(text)
            if value is None:
                return self.unreadable(path, text, "a number")
            if not math.isfinite(value):
                self.doc.report(path, "LD009", f"{_clip(text)} is not a finite number",
                                "rule files use ordinary numbers such as 2.5")
                return None
            return value
        return self.unsupported_tag(node, path)

    def unreadable(self, path: Path, text: str, expected: str) -> None:
        self.doc.report(path, "LD009", f"cannot read {_clip(text)!r} as {expected}",
                        "remove the explicit '!!' tag or fix the value")

    def unsupported_tag(self, node: Node, path: Path) -> None:
        tag = node.tag.replace(_TAG, "!!")
        self.doc.report(path, "LD006", f"unsupported YAML tag {_clip(tag)!r}",
                        "remove the tag; rule files use plain YAML values")


def _mark(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_int(text: str) -> int | None:
    cleaned = text.replace("_", "")
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned.lstrip("+-").lower()
    if len(digits) > 40:  # past MAX_INT anyway; never hand int() a string it would refuse or take long on
        return sign * MAX_INT
    try:
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if digits.startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    cleaned = text.replace("_", "").lower()
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    if cleaned in special:
        return special[cleaned]
    try:
        return float(cleaned)
    except ValueError:
        return None
