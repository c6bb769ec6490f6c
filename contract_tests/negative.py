"""Invalid requests derived from a request schema and one valid body.

Each variant breaks exactly one documented rule (a required key removed, a value of the wrong
type, a value outside an enum or a range, a too-short string or list) and is kept only if the
schema itself rejects the result, so every variant is invalid by the contract's own words.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

Path = tuple[str | int, ...]
_WRONG_TYPE = {"string": 12345, "integer": "7", "number": "7.5", "boolean": "yes",
               "array": "not-an-array", "object": ["not", "an", "object"]}
_UNDOCUMENTED = "undocumented-value"


@dataclass(frozen=True)
class Violation:
    kind: str
    path: Path
    body: Any

    @property
    def label(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<body>"
        return f"{self.kind}:{where}"


def violations(schema: Mapping[str, Any], body: Any) -> list[Violation]:
    """One variant per broken rule, deduplicated by label, all rejected by `schema`."""
    validator = Draft202012Validator(dict(schema))
    found: dict[str, Violation] = {}
    for kind, path, variant in _variants(schema, body):
        violation = Violation(kind, path, variant)
        if violation.label not in found and not validator.is_valid(variant):
            found[violation.label] = violation
    return list(found.values())


def _variants(schema: Mapping[str, Any], value: Any) -> Iterator[tuple[str, Path, Any]]:
    for kind, replacement in _replacements(schema, value):
        yield kind, (), replacement
    if isinstance(value, dict):
        yield from _object_variants(schema, value)
    elif isinstance(value, list) and value and isinstance(schema.get("items"), Mapping):
        for kind, path, new in _variants(schema["items"], value[0]):
            yield kind, (0, *path), [new, *value[1:]]


def _object_variants(schema: Mapping[str, Any], value: dict[str, Any]) -> Iterator[tuple[str, Path, Any]]:
    for key in schema.get("required", []):
        if key in value:
            yield "missing", (key,), {k: v for k, v in value.items() if k != key}
    for key, sub in schema.get("properties", {}).items():
        if key in value and isinstance(sub, Mapping):
            for kind, path, new in _variants(sub, value[key]):
                yield kind, (key, *path), {**value, key: new}


def _replacements(schema: Mapping[str, Any], value: Any) -> Iterator[tuple[str, Any]]:
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _WRONG_TYPE:
        yield "wrong-type", _WRONG_TYPE[kind]
    if "enum" in schema or "const" in schema:
        yield "unknown-enum", _UNDOCUMENTED if isinstance(value, str) else 987654
    yield from _range_replacements(schema, value)


def _range_replacements(schema: Mapping[str, Any], value: Any) -> Iterator[tuple[str, Any]]:
    if "minimum" in schema:
        yield "below-minimum", schema["minimum"] - 1
    if "maximum" in schema:
        yield "above-maximum", schema["maximum"] + 1
    if schema.get("minLength", 0) >= 1:
        yield "too-short", ""
    if "maxLength" in schema:
        yield "too-long", "x" * (schema["maxLength"] + 1)
    if schema.get("minItems", 0) >= 1:
        yield "too-few-items", []
    if "maxItems" in schema and isinstance(value, list) and value:
        yield "too-many-items", value[:1] * (schema["maxItems"] + 1)
    if "pattern" in schema and isinstance(value, str):
        probe = "#not matching#"
        if not re.search(schema["pattern"], probe):
            yield "pattern-mismatch", probe
