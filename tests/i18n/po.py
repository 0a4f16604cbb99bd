"""A small reader of gettext .po files, enough to check the package's catalogue without GNU gettext: entries
with their context, plural forms, flags and line; the catalogue they compile to, keyed as Python's
gettext.GNUTranslations keys a .mo; the placeholders a message carries."""
from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CONTEXT_SEPARATOR = "\x04"  # msgctxt and msgid are joined by EOT in a .mo
# printf-style placeholders as Python formats them: %(name)s, %(n)d, %s, %.2f (but not %%), and {name} / {}.
PERCENT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")
BRACES = re.compile(r"(?<!\{)\{(?P<field>[^{}]*)\}(?!\})")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular message
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}{CONTEXT_SEPARATOR}{self.msgid}"


def read_po(path: Path) -> list[Entry]:
    """Every entry of the file, the header (msgid "") first; obsolete entries (#~) are left out. An entry ends
    where a comment or a msgctxt/msgid follows its msgstr."""
    entries: list[Entry] = []
    current, target = Entry(), None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        starts_entry = line.startswith("#") or line.split(" ", 1)[0] in ("msgctxt", "msgid")
        if starts_entry and current.msgstr:
            entries.append(current)
            current, target = Entry(), None
        if line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if target is None:
                raise ValueError(f"{path}:{number}: a string continues no keyword")
            _append(current, target, _unquote(line, path, number))
        else:
            keyword, _, rest = line.partition(" ")
            current.line = current.line or number
            target = _target(keyword, path, number)
            _append(current, target, _unquote(rest, path, number), start=True)
    if current.msgstr:
        entries.append(current)
    return entries


def _target(keyword: str, path: Path, number: int) -> tuple[str, int]:
    match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
    if match:
        return "msgstr", int(match.group(1))
    if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
        return keyword, 0
    raise ValueError(f"{path}:{number}: unknown keyword {keyword!r}")


def _append(entry: Entry, target: tuple[str, int], text: str, start: bool = False) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text
    else:
        setattr(entry, name, ("" if start else getattr(entry, name) or "") + text)


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")
    return ast.literal_eval(text)  # C escapes (\n, \t, \", \\) read as Python's


def compiled_catalogue(entries: list[Entry]) -> dict[object, str]:
    """What msgfmt keeps (translated entries that are not fuzzy), keyed as GNUTranslations._catalog is: a
    singular by its msgid, a plural form by (msgid, index), with the context joined in front."""
    catalogue: dict[object, str] = {}
    for entry in entries:
        if not entry.translated or (entry.fuzzy and entry.msgid):
            continue
        if entry.msgid_plural is None:
            catalogue[entry.key()] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                catalogue[(entry.key(), index)] = text
    return catalogue


def placeholders(text: str) -> Counter[str]:
    """The %-style and {}-style placeholders of a message, with their conversion (%% is not one)."""
    found: Counter[str] = Counter()
    for match in PERCENT.finditer(text):
        if match.group("type") != "%":
            found[f"%({match.group('name')}){match.group('type')}" if match.group("name") is not None
                  else f"%{match.group('type')}"] += 1
    for match in BRACES.finditer(text):
        found["{" + match.group("field") + "}"] += 1
    return found
