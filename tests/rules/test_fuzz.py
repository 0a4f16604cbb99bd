"""Whatever comes in, the loader returns a RuleSet or raises RuleFileError, never another exception and never an
internal error (LD099); and whatever it accepts also satisfies the published schema."""
from __future__ import annotations

import copy
import io
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from saleor_livedist.exceptions import RuleFileError
from saleor_livedist.rules.loader import load_rules_from_texts
from saleor_livedist.rules.model import RuleSet
from saleor_livedist.rules.structure import schema
from saleor_livedist.rules.yamldoc import read_document

from .conftest import VALID_DIR

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID_TEXTS = {p.name: p.read_text(encoding="utf-8-sig") for p in sorted(VALID_DIR.glob("*.yaml"))}
VALID_DATA = {name: read_document(name, text).data for name, text in VALID_TEXTS.items()}
VALIDATOR = jsonschema.Draft202012Validator(schema())


def collect(data: Any) -> tuple[set[str], list[Any]]:
    """Every key and every leaf value of the valid corpus: mutations built from them reach deep checks."""
    keys: set[str] = set()
    leaves: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            leaves.append(node)

    walk(data)
    return keys, leaves


KEYS, LEAVES = collect(list(VALID_DATA.values()))
UNIQUE_LEAVES = list({repr(leaf): leaf for leaf in LEAVES}.values())  # ids, percents, dates, enum values
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20),
    st.sampled_from(UNIQUE_LEAVES),
)
names = st.one_of(st.sampled_from(sorted(KEYS)), st.text(min_size=1, max_size=12))
structures = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4), max_leaves=20)


def dump(data: Any) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.dump(data, out)
    return out.getvalue()


def assert_loads_or_reports(files: dict[str, str | bytes]) -> RuleSet | None:
    try:
        rules = load_rules_from_texts(files)
    except RuleFileError as exc:
        assert not [p for p in exc.problems if p.code == "LD099"], str(exc)
        assert exc.problems
        return None
    for name, content in files.items():  # accepted: the schema must agree
        doc = read_document(name, content)
        assert VALIDATOR.is_valid(doc.data), name
    return rules


def containers(data: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) for every place in `data` that holds a value."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((data, key))
            found += containers(value)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.append((data, index))
            found += containers(value)
    return found


@st.composite
def mutated_corpus_file(draw: st.DrawFn) -> str:
    data = copy.deepcopy(VALID_DATA[draw(st.sampled_from(sorted(VALID_DATA)))])
    for _ in range(draw(st.integers(1, 3))):
        places = containers(data)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["rename", "replace", "delete", "swap"]))
        if action == "rename" and isinstance(container, dict):
            container[draw(names)] = container.pop(key)
        elif action == "replace":
            container[key] = draw(structures)
        elif action == "swap":
            other, other_key = draw(st.sampled_from(places))
            container[key], other[other_key] = copy.deepcopy(other[other_key]), copy.deepcopy(container[key])
        else:
            del container[key]
    return dump(data)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(content: bytes) -> None:
    assert_loads_or_reports({"a.yaml": content})


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(content: str) -> None:
    assert_loads_or_reports({"a.yaml": content})


@FUZZ
@given(mutated_corpus_file())
def test_mutated_corpus_files(content: str) -> None:
    assert_loads_or_reports({"a.yaml": content})


@FUZZ
@given(st.sampled_from(sorted(VALID_TEXTS)), st.data())
def test_truncated_and_spliced_corpus_files(name: str, data: st.DataObject) -> None:
    text = VALID_TEXTS[name]
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    insert = data.draw(st.text(alphabet=" \t\n:-[]{}&*!|>'\"#,?%@`0aZ.", max_size=4))
    assert_loads_or_reports({"a.yaml": text[:start] + insert + text[end:]})


@FUZZ
@given(structures, st.sampled_from([None, "commission", "tasks", "promotions", "binding", "compliance"]))
@example([{"lives": False}], "tasks")  # once LD099: a task's wrong-typed 'lives' reached the builder
def test_generated_yaml_structures(value: Any, section: str | None) -> None:
    document = value if section is None else {"schema": "livedist/v1", section: value}
    assert_loads_or_reports({"a.yaml": dump(document)})


@settings(FUZZ, max_examples=100)  # two files per example: fewer examples for the same time
@given(st.lists(mutated_corpus_file(), min_size=2, max_size=2))
def test_mutated_sets_of_files(contents: list[str]) -> None:
    assert_loads_or_reports({f"{index}.yaml": text for index, text in enumerate(contents)})


WRONG_VALUES = [None, False, -1, "x", [], [False, "x"], {}, {"id": False}]  # one of each type, and mixed lists


@pytest.mark.parametrize("name", sorted(VALID_DATA))
def test_every_place_of_the_corpus_with_every_wrong_type(name: str) -> None:
    """Exhaustive where the random tests sample: each value of each valid file replaced in turn by values of every
    other type (`lives: false` in a task once made the checker fail with LD099)."""
    data = VALID_DATA[name]
    for index in range(len(containers(data))):
        for wrong in WRONG_VALUES:
            mutated = copy.deepcopy(data)
            container, key = containers(mutated)[index]
            container[key] = copy.deepcopy(wrong)
            assert_loads_or_reports({"a.yaml": dump(mutated)})


YAML_PIECES = ["&a ", "*a", "<<: *a", "<<: [*a]", "!!str ", "!!int ", "!!binary ", "!!set ", "!!omap ", "? ", "- ",
               ": ", "{", "}", "[", "]", ",", "|", ">", "'", '"', "\\", "#", "%YAML 1.1\n", "---\n", "...\n",
               "\u2028", "\u0085", "\r", "\t", "\ufeff", "0x1F", "0o17", "1e400", "1_000", ".inf", "~", "yes",
               "2024-13-45", "\n", "  ", "id", "rate", "tasks", "lives", "when", "schema: livedist/v1"]


@FUZZ
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=40))
def test_yaml_features_in_any_order(pieces: list[str]) -> None:
    assert_loads_or_reports({"a.yaml": "".join(pieces)})


@FUZZ
@given(st.sampled_from(sorted(VALID_TEXTS)), st.lists(st.sampled_from(YAML_PIECES), min_size=1, max_size=6),
       st.data())
def test_yaml_features_spliced_into_corpus_files(name: str, pieces: list[str], data: st.DataObject) -> None:
    text = VALID_TEXTS[name]
    for piece in pieces:
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + piece + text[at:]
    assert_loads_or_reports({"a.yaml": text})
