"""The zh-Hans message catalogue: every message translated, none fuzzy, placeholders kept, the committed .mo
compiled from the committed .po, Django serving it, and (where GNU gettext is installed) no message of the
source missing from it. Read with tests/i18n/po.py, so no gettext tool is needed for most of these."""
from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from saleor_livedist.i18n import LOCALE_DIR
from saleor_livedist.translations import GETTEXT_TOOLS, LOCALES
from tests.i18n.po import Entry, compiled_catalogue, placeholders, read_po

PACKAGE_DIR = LOCALE_DIR.parent
HINT = "run `livedist messages` and translate in saleor_livedist/locale (docs/translating.md)"


def po_path(locale: str = "zh_Hans") -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def messages(locale: str = "zh_Hans") -> list[Entry]:
    return [entry for entry in read_po(po_path(locale)) if entry.msgid]


def header(text: str) -> str:
    """The header's fields but the template's creation date, which msgfmt leaves out of the .mo."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("POT-Creation-Date:"))


def where(entry: Entry) -> str:
    return f"{po_path().name}:{entry.line}: {entry.msgid!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale: str) -> None:
    entries = messages(locale)
    assert len(entries) >= 30
    untranslated = [where(e) for e in entries if not e.translated]
    fuzzy = [where(e) for e in entries if e.fuzzy]
    assert not untranslated, f"untranslated: {untranslated}; {HINT}"
    assert not fuzzy, f"fuzzy (check the translation, then remove the flag): {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_english(locale: str) -> None:
    wrong = []
    for entry in messages(locale):
        source = placeholders(entry.msgid_plural if entry.msgid_plural is not None else entry.msgid)
        for index, text in entry.msgstr.items():
            if placeholders(text) != source:
                wrong.append(f"{where(entry)} [{index}] has {dict(placeholders(text))}, expected {dict(source)}")
    assert not wrong, wrong


def test_the_placeholder_reader_sees_what_python_formats() -> None:
    assert placeholders("%(n)d of %(max)d, %s, 100%% {name} {}") == {
        "%(n)d": 1, "%(max)d": 1, "%s": 1, "{name}": 1, "{}": 1}
    assert placeholders("%(n)s") != placeholders("%(n)d")
    assert not placeholders("{{literal}} 50%%")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_mo_is_compiled_from_the_committed_po(locale: str) -> None:
    with open(po_path(locale).with_suffix(".mo"), "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    expected = compiled_catalogue(read_po(po_path(locale)))
    actual = dict(mo._catalog)  # type: ignore[attr-defined]
    expected[""], actual[""] = header(expected[""]), header(actual[""])
    stale = sorted(str(k) for k in expected.keys() - actual.keys())
    extra = sorted(str(k) for k in actual.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    assert not (stale or extra or changed), (
        f"the .mo is out of date with the .po (run `livedist messages` or `django-admin compilemessages` in "
        f"saleor_livedist/): missing {stale[:5]}, extra {extra[:5]}, different {changed[:5]}")
    assert mo.info().get("language") == locale and mo.plural(5) == 0  # nplurals=1: one form for every count


def test_django_serves_the_catalogue_in_zh_hans_and_the_source_in_english() -> None:
    entry = next(e for e in messages() if e.msgid == "the body is not UTF-8")
    with translation.override("zh-hans"):
        assert translation.gettext(entry.msgid) == entry.msgstr[0]
    with translation.override("en"):
        assert translation.gettext(entry.msgid) == entry.msgid


@pytest.mark.skipif(any(shutil.which(tool) is None for tool in GETTEXT_TOOLS),
                    reason="GNU gettext (xgettext, msgmerge) is not installed: the source's messages cannot be "
                           "extracted here (.ci/run installs it)")
def test_every_message_of_the_source_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages on a copy of the package: the messages it finds are exactly the catalogue's."""
    copy = tmp_path / "saleor_livedist"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete",
                    "--add-location", "file", "-v", "0"], cwd=copy, env=env, check=True, timeout=300)
    extracted = {e.key() for e in read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po") if e.msgid}
    catalogue = {e.key() for e in messages()}
    assert not extracted - catalogue, f"messages of the source missing from the catalogue: " \
                                      f"{sorted(extracted - catalogue)[:10]}; {HINT}"
    assert not catalogue - extracted, f"messages no longer in the source: {sorted(catalogue - extracted)[:10]}; {HINT}"


def test_the_po_reader_reads_context_plurals_escapes_flags_and_skips_obsolete(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(r"""msgid ""
msgstr "Language: zh_Hans\n"

#, python-format
msgctxt "status"
msgid "live"
msgstr "直播中"

#, fuzzy
msgid ""
"say \"hi\"\n"
"twice"
msgstr "说\"你好\"\n两次"

msgid "%(n)d event"
msgid_plural "%(n)d events"
msgstr[0] "%(n)d 个事件"

#~ msgid "gone"
#~ msgstr "没了"
""", encoding="utf-8")
    header, live, hi, events = read_po(po)
    assert header.msgid == "" and live.key() == "status\x04live" and "python-format" in live.flags
    assert hi.msgid == 'say "hi"\ntwice' and hi.fuzzy and hi.msgstr == {0: '说"你好"\n两次'}
    assert events.msgid_plural == "%(n)d events" and events.msgstr == {0: "%(n)d 个事件"}
    assert compiled_catalogue([header, live, hi, events]) == {
        "": "Language: zh_Hans\n", "status\x04live": "直播中", ("%(n)d event", 0): "%(n)d 个事件"}
