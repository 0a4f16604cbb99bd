"""The golden corpus: every invalid case gives exactly the messages in its .expected file (written by hand), and
every valid file loads and also validates against the published schema."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from saleor_livedist.exceptions import RuleFileError
from saleor_livedist.rules.loader import load_rules
from saleor_livedist.rules.structure import schema
from saleor_livedist.rules.yamldoc import read_document

from .conftest import HERE, INVALID_DIR, VALID_DIR

INVALID_CASES = sorted(p.stem for p in INVALID_DIR.glob("*.expected"))
VALID_FILES = sorted(p.name for p in VALID_DIR.glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(INVALID_CASES) >= 25
    assert len(VALID_FILES) >= 6
    assert sum((INVALID_DIR / case).is_dir() for case in INVALID_CASES) >= 3


@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID_DIR)  # paths in messages are relative to the corpus directory
    target = case if Path(case).is_dir() else f"{case}.yaml"
    expected = (INVALID_DIR / f"{case}.expected").read_text(encoding="utf-8").rstrip("\n")
    with pytest.raises(RuleFileError) as raised:
        load_rules(target)
    assert str(raised.value) == expected


def test_every_code_is_in_the_corpus() -> None:
    documented = _documented_codes()
    seen = {
        line.rsplit("[", 1)[1].rstrip("]")
        for case in INVALID_CASES
        for line in (INVALID_DIR / f"{case}.expected").read_text(encoding="utf-8").splitlines()
        if not line.startswith(" ") and line.endswith("]")
    }
    # tested in test_loader.py: LD099 (a bug in the loader), LD015 (a file over 1 MiB, not kept in the repository)
    assert documented - {"LD099", "LD015"} == seen


@pytest.mark.parametrize("name", VALID_FILES)
def test_valid_file_loads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID_DIR)
    ruleset = load_rules(name)
    assert ruleset.files == (name,)
    assert len(ruleset.version) == 16


@pytest.mark.parametrize("name", VALID_FILES)
def test_valid_file_validates_against_the_schema(name: str) -> None:
    doc = read_document(name, (VALID_DIR / name).read_bytes())
    assert not doc.problems
    jsonschema.validate(doc.data, schema(), cls=jsonschema.Draft202012Validator)


def test_schema_invalid_corpus_files_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema is the source of truth for structure: whatever it rejects, the loader rejects too."""
    monkeypatch.chdir(INVALID_DIR)
    validator = jsonschema.Draft202012Validator(schema())
    rejected_by_schema = 0
    for path in sorted(INVALID_DIR.rglob("*.y*ml")):
        relative = str(path.relative_to(INVALID_DIR))
        if not path.is_file():
            continue
        doc = read_document(relative, path.read_bytes())
        if doc.problems or validator.is_valid(doc.data):
            continue
        rejected_by_schema += 1
        with pytest.raises(RuleFileError):
            load_rules(relative)
    assert rejected_by_schema >= 15


def test_default_rules_validate_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for path in sorted((HERE.parents[1] / "rules").glob("*.yaml")):
        assert validator.is_valid(read_document(path.name, path.read_bytes()).data), path


def _documented_codes() -> set[str]:
    text = (HERE.parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    return {word.strip("`|* ") for word in text.split() if word.strip("`|* ").startswith("LD")
            and word.strip("`|* ")[2:].isdigit() and len(word.strip("`|* ")) == 5}


def test_schema_json_is_published_verbatim() -> None:
    packaged = (HERE.parents[1] / "saleor_livedist" / "rules" / "schema.json").read_bytes()
    assert (HERE.parents[1] / "docs" / "rules.schema.json").read_bytes() == packaged
    json.loads(packaged)
