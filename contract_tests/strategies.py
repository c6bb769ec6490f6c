"""Hypothesis strategies derived from the request schemas.

`hypothesis-jsonschema` 0.23 no longer runs on current Hypothesis, and it would also invent
undocumented keys (which Tencent, for one, rejects as `UnknownParameter`). This covers the
subset of draft 2020-12 our schemas use and yields only documented keys; every value drawn is
checked against the schema it came from.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry

Schema = Mapping[str, Any]
TEXT = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12)


def inline_refs(schema: Any, registry: Registry, base: str | None = None) -> Any:
    """A copy of `schema` with every `$ref` replaced by its target (schemas are not recursive)."""
    if isinstance(schema, list):
        return [inline_refs(item, registry, base) for item in schema]
    if not isinstance(schema, dict):
        return schema
    base = schema.get("$id", base)
    if "$ref" in schema:
        resolved = registry.resolver(base_uri=base or "").lookup(schema["$ref"])
        target_base = urljoin(base or "", schema["$ref"]).partition("#")[0]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**inline_refs(resolved.contents, registry, target_base), **rest}
    return {k: inline_refs(v, registry, base) for k, v in schema.items()}


def from_schema(schema: Schema, repair: Callable[[Any], Any] | None = None
                ) -> st.SearchStrategy[Any]:
    """Values valid against `schema` (which must already have its `$ref`s inlined).
    `repair` may fix what the generator cannot know (cross-field rules) before the check."""
    validator = Draft202012Validator(copy.deepcopy(dict(schema)))
    drawn = _strategy(schema)
    return (drawn.map(repair) if repair else drawn).filter(validator.is_valid)


def _strategy(schema: Schema) -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([_strategy({**_without(schema, key), **s}) for s in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_strategy({**schema, "type": k}) for k in kind])
    maker = _MAKERS.get(kind or _guess_type(schema))
    if maker is None:
        raise NotImplementedError(f"no strategy for schema {dict(schema)!r}")
    return maker(schema)


def _without(schema: Schema, key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}


def _guess_type(schema: Schema) -> str:
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _object(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    props: Mapping[str, Schema] = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in props]
    optional = [k for k in props if k not in required]
    return st.fixed_dictionaries(
        {k: _strategy(props[k]) for k in required},
        optional={k: _strategy(props[k]) for k in optional},
    )


def _array(schema: Schema) -> st.SearchStrategy[list[Any]]:
    items = schema.get("items", {"type": "string"})
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", max(low, 3))
    return st.lists(_strategy(items), min_size=low, max_size=high,
                    unique=bool(schema.get("uniqueItems")))


def _string(schema: Schema) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "pattern" in schema:
        strategy: st.SearchStrategy[str] = st.from_regex(str(schema["pattern"]), fullmatch=True)
        return strategy.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    if schema.get("format") == "uri":
        return st.just("https://example.invalid/image.jpg")
    text = st.characters(codec="ascii", categories=("L", "N"))
    return st.text(text, min_size=max(low, 1) if low else 0, max_size=high if high else 16)


def _integer(schema: Schema) -> st.SearchStrategy[int]:
    low = schema.get("minimum")
    high = schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + 1
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - 1
    return st.integers(min_value=low, max_value=high)


def _number(schema: Schema) -> st.SearchStrategy[float]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    return st.floats(min_value=low, max_value=high,
                     allow_nan=False, allow_infinity=False,
                     exclude_min="exclusiveMinimum" in schema,
                     exclude_max="exclusiveMaximum" in schema)


_MAKERS = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema: st.booleans(),
    "null": lambda schema: st.none(),
}
