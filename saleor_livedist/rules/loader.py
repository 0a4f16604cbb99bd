"""Reads a merchant's rule files into a RuleSet, or raises RuleFileError listing every problem in every file.

    from saleor_livedist.rules.loader import load_rules
    rules = load_rules("rules/")          # a directory (its *.yaml and *.yml, by name) or files; None: the defaults

Whatever bytes come in, the only exception is RuleFileError: each step reports Problems instead of raising, and
an unexpected failure is reported as LD099 rather than escaping.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import Problem, RuleFileError
from .build import SECTIONS, Entry, build_section, collect_entries
from .model import Binding, Compliance, Guards, Join, RuleSet, Settlement, Viewing
from .semantics import Occurrence, check_set
from .structure import check_document
from .yamldoc import Document, read_document

logger = logging.getLogger(__name__)

RULE_FILE_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: rule files are a few kilobytes; docs/rules.md (LD014)
PathArg = str | os.PathLike[str]
T = TypeVar("T")

# A file that says what it is. Problems in any other file are told by position and code only, so that pointing
# the rules directory (e.g. in the plugin's configuration) at other files never echoes what they contain.
_DECLARES_SCHEMA = re.compile(r"""^[-{ \t]*["']?schema["']?[ \t]*:[ \t]*["']?livedist/""", re.MULTILINE)
_CONTENT_FREE_CODES = {"LD001", "LD002", "LD010", "LD012", "LD014", "LD015"}


def default_rules_dir() -> Path:
    """The rule files shipped with the package (the project's rules/ directory)."""
    return Path(__file__).resolve().parent.parent / "default_rules"


def load_rules(paths: PathArg | Sequence[PathArg] | None = None) -> RuleSet:
    """Load a directory (its *.yaml and *.yml, sorted by name, not recursive) or files; None loads the defaults.

    Paths in problems and sources are as given: pass relative paths to get relative messages.
    """
    contents, problems = _read(paths)
    return _load(contents, problems)


def load_rules_and_texts(
    paths: PathArg | Sequence[PathArg] | None, extra: Mapping[str, str | bytes]
) -> tuple[RuleSet, dict[str, bytes]]:
    """Load files or directories together with rule documents given as {name: content} (tasks staff publish
    from the database): one rule set, validated as a whole. Returns it with every document's content."""
    contents, problems = _read(paths)
    for name, content in extra.items():
        contents[str(name)] = content.encode("utf-8") if isinstance(content, str) else content
    return _load(contents, problems), contents


def load_rules_from_texts(files: Mapping[str, str | bytes]) -> RuleSet:
    """Load rule files given as {path: content}; the paths only name the files in messages and set their order."""
    return _load({str(path): content for path, content in files.items()}, [])


def check_rules(paths: PathArg | Sequence[PathArg] | None = None) -> list[Problem]:
    """Every problem in the rule files, sorted; empty when they are valid."""
    try:
        load_rules(paths)
    except RuleFileError as exc:
        return exc.problems
    return []


def rules_version(data: Sequence[Any]) -> str:
    """The first 16 hex digits of sha256 over canonical JSON of the files' parsed data, in file order.

    Key order, comments, quoting and layout do not change it; any change of meaning does.
    """
    canonical = json.dumps(list(data), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]


def _read(paths: PathArg | Sequence[PathArg] | None) -> tuple[dict[str, bytes], list[Problem]]:
    if paths is None:
        paths = [default_rules_dir()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    contents: dict[str, bytes] = {}
    problems: list[Problem] = []
    if not paths:
        problems.append(Problem("", 0, 0, "LD002", "no rule files given", "pass a directory or rule files"))
    for given in paths:
        name = os.fspath(given)
        try:
            if not Path(name).is_dir():
                _read_file(name, contents, problems)
                continue
            found = sorted(p.name for p in Path(name).iterdir() if p.suffix in RULE_FILE_SUFFIXES)
        except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
            problems.append(Problem(name, 0, 0, "LD001", f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                                    "check that the path exists and can be read"))
            continue
        if not found:
            problems.append(Problem(name, 0, 0, "LD002", "no rule files (*.yaml, *.yml) in this directory",
                                    "add rule files, or point at the directory that has them"))
        for file_name in found:
            _read_file(os.path.join(name, file_name), contents, problems)
    return contents, problems


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _read_file(path: str, contents: dict[str, bytes], problems: list[Problem]) -> None:
    """Read one regular file of at most MAX_FILE_BYTES, or add the problem. A FIFO, a device (also behind a
    symlink, e.g. to /dev/zero) or a socket is refused from its stat, and opened non-blocking in case it was
    swapped in between, so reading rules never hangs or reads without end."""
    def refuse(code: str, message: str, hint: str) -> None:
        problems.append(Problem(path, 0, 0, code, message, hint))

    try:
        if (problem := _not_readable(os.stat(path))) is not None:
            return refuse(*problem)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as file:
            if (problem := _not_readable(os.fstat(fd))) is not None:
                return refuse(*problem)
            data = file.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        return refuse("LD001", f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                      "check that the file exists and can be read")
    if len(data) > MAX_FILE_BYTES:  # it grew after the stat
        return refuse(*_too_large())
    contents[path] = data


def _not_readable(status: os.stat_result) -> tuple[str, str, str] | None:
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "a special file")
        return ("LD014", f"not a regular file ({kind}): rule files are plain text files",
                "remove it from the rules directory, or point at the rule files themselves")
    if status.st_size > MAX_FILE_BYTES:
        return _too_large()
    return None


def _too_large() -> tuple[str, str, str]:
    return ("LD015", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB",
            "rule files are a few kilobytes; split it, or remove what is not rules")


def _load(contents: Mapping[str, str | bytes], problems: list[Problem]) -> RuleSet:
    docs: list[Document] = []
    for path, content in sorted(contents.items()):
        if len(content) > MAX_FILE_BYTES:  # also documents given as text (staff's, from the database)
            problems.append(Problem(path, 0, 0, *_too_large()))
            continue
        stand_in = Document(path, "")  # carries the problem if reading itself fails
        docs.append(_guarded(stand_in, read_document, path, content) or stand_in)
    entries: list[Entry] = []
    occurrences: dict[str, list[Occurrence]] = {}
    sections: dict[str, Any] = {}
    for doc in docs:
        if not _guarded(doc, check_document, doc):
            continue
        entries += _guarded(doc, collect_entries, doc, len(entries)) or []
        for name in SECTIONS:
            if name in doc.data:
                occurrences.setdefault(name, []).append((doc, (name,)))
                sections.setdefault(name, _guarded(doc, build_section, doc, name))
    if docs:
        _guarded(docs[0], check_set, entries, occurrences)
    for doc in docs:
        _withhold_contents(doc)
    problems = list(dict.fromkeys(problems + [p for doc in docs for p in doc.problems]))
    if problems:
        raise RuleFileError(problems)
    return _rule_set(docs, entries, sections)


def _withhold_contents(doc: Document) -> None:
    """In a file that does not declare `schema: livedist/...`, keep each problem's position and code but not the
    message, excerpt or hint, which may quote the file."""
    if _DECLARES_SCHEMA.search(doc.text):
        return
    doc.problems[:] = [problem if problem.code in _CONTENT_FREE_CODES else replace(
        problem, excerpt="", message="a problem at this position (not shown: the file does not start with "
        "'schema: livedist/v1', and the contents of other files are never repeated)",
        hint="if this is a rule file, add 'schema: livedist/v1' as its first line to see the details",
    ) for problem in doc.problems]
    doc.problems[:] = [replace(problem, excerpt="") for problem in doc.problems]


def _rule_set(docs: list[Document], entries: list[Entry], sections: dict[str, Any]) -> RuleSet:
    def built(kind: str) -> tuple[Any, ...]:
        return tuple(entry.built for entry in entries if entry.kind == kind)

    binding, settlement, compliance = sections.get("binding"), sections.get("settlement"), sections.get("compliance")
    return RuleSet(
        version=rules_version([doc.data for doc in docs]),
        rates=built("rate"), bonuses=built("bonus"), team=built("team"), peer=built("peer"),
        tasks=built("task"), promotions=built("promotion"), pools=built("pool"),
        binding=binding or Binding(), settlement=settlement or Settlement(), compliance=compliance or Compliance(),
        viewing=sections.get("viewing") or Viewing(),
        join=sections.get("join") or Join(),
        guards=sections.get("guards") or Guards(),
        redemption=sections.get("redemption"), invite_coupon=sections.get("invite_coupon"),
        files=tuple(doc.path for doc in docs),
    )


def _guarded(doc: Document, step: Callable[..., T], *args: Any) -> T | None:
    """Run one step; a bug in it becomes an LD099 problem on `doc`, because callers rely on RuleFileError only."""
    try:
        return step(*args)
    except Exception as exc:
        logger.exception("internal error while checking rule file %s", doc.path)
        doc.problems.append(Problem(doc.path, 0, 0, "LD099", f"internal error while checking this file "
                                    f"({type(exc).__name__})", "please report this, with the file, to the developers"))
        return None
