"""schema.json is what editors read: it must document every key and reject every key it does not know."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema

from saleor_livedist.rules import structure
from saleor_livedist.rules.model import Binding, Compliance, Join, Settlement, Viewing
from saleor_livedist.rules.structure import schema

# Keywords the loader translates into merchant messages (structure._translate); a new one needs a translation.
TRANSLATED = {
    "type", "pattern", "maxLength", "minLength", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
    "required", "additionalProperties", "minItems", "minProperties", "dependentRequired", "anyOf",
}
ANNOTATIONS = {"$schema", "$ref", "$defs", "$anchor", "title", "description", "default", "examples", "format",
               "properties", "items"}


def subschemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "$defs", "dependentRequired"):
                for item in value.values():
                    yield from subschemas(item)
            elif key in ("items", "additionalProperties"):
                yield from subschemas(value)
            elif key == "anyOf":
                for item in value:
                    yield from subschemas(item)


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_property_has_a_title_and_a_description() -> None:
    for node in subschemas(schema()):
        for name, prop in node.get("properties", {}).items():
            assert prop.get("title") and prop.get("description"), name


def test_every_mapping_with_fixed_keys_rejects_unknown_keys() -> None:
    for node in subschemas(schema()):
        if "properties" in node:
            assert node.get("additionalProperties") is False, sorted(node["properties"])


def test_every_keyword_is_translated_into_a_message() -> None:
    used = {key for node in subschemas(schema()) for key in node}
    assert used - ANNOTATIONS <= TRANSLATED


def test_the_anchors_the_loader_relies_on_exist() -> None:
    anchors = {node["$anchor"] for node in subschemas(schema()) if "$anchor" in node}
    relied_on = set(structure._EXPECTED) | {anchor for anchor, _ in structure._HAND_CHECKED} | {"task"}
    assert relied_on <= anchors


def test_documented_defaults_are_the_models() -> None:
    sections = schema()["properties"]
    for name, model in (("binding", Binding()), ("settlement", Settlement()), ("compliance", Compliance()),
                        ("viewing", Viewing()), ("join", Join())):
        for key, prop in sections[name]["properties"].items():
            if "default" in prop:
                expected = getattr(model, key)
                assert prop["default"] == expected or (key == "valid_days" and expected is None), (name, key)
