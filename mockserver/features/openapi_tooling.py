"""What third-party tools need of a generated OpenAPI document, applied after it is built.

- Every `$ref` names an entry directly under `#/components/schemas/`. Code generators
  (openapi-python-client) and mock servers (Prism) resolve only those, so each `$defs` entry of
  a schema file is hoisted into its own component, named `<component>.<def>`
  (`<vendor>.common.task_id`): stable, because both parts are names in the schema files.
- Every answer and request body carries examples: the project's own example payloads,
  `fixtures/<vendor>/<schema>.example.json`, which the test suite checks against the schema of
  the same name. A mock server then answers a real body instead of one it made up.
- Alternatives (`anyOf` of answers) come most specific first, counted in required fields:
  generated clients try them in order and keep the first that parses, and a model ignores
  fields it does not know, so a rich answer must meet its own model before a poorer one.
- Every array schema says what its items are: `"items": {}` where a schema only bounds the
  length (an always-empty list). Generators refuse an array without `items`.
- Every callback operation declares its security: the vendors sign nothing when they call
  back (INFERRED: their docs name no header), so `security: []`, with an operationId.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..core.schemas import fixtures_root

COMPONENTS = "#/components/schemas/"
DEFS = "/$defs/"
LICENSE = {"name": "MIT", "identifier": "MIT"}


def fit_for_tools(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with flat `$ref`s, examples and declared callback security (in place)."""
    hoist_defs(doc["components"]["schemas"], doc)
    for node in schema_nodes(doc["components"]["schemas"]):
        if node.get("type") == "array" and "items" not in node and "prefixItems" not in node:
            node["items"] = {}
    order_alternatives(doc)
    add_examples(doc)
    declare_callback_security(doc)
    doc["info"].setdefault("license", LICENSE)  # the mock's licence (pyproject.toml)
    doc["components"]["schemas"] = dict(sorted(doc["components"]["schemas"].items()))
    return doc


# --- flat $refs -------------------------------------------------------------------------------


def hoist_defs(schemas: dict[str, Any], doc: dict[str, Any]) -> None:
    """Move every `$defs` entry (at any depth) to a component of its own and point every
    `$ref` of `doc` at it. A schema file that held only definitions disappears."""
    renamed: dict[str, str] = {}  # old pointer below components -> new component name
    pending = list(schemas)
    while pending:
        name = pending.pop()
        defs = schemas[name].pop("$defs", None) if isinstance(schemas[name], dict) else None
        for key, schema in (defs or {}).items():
            new = f"{name}.{key}"
            if new in schemas:
                raise ValueError(f"hoisting {name}/$defs/{key}: component {new} exists")
            schemas[new] = schema
            renamed[f"{name}{DEFS}{key}"] = new
            pending.append(new)
        if defs is not None and _only_metadata(schemas[name]):
            del schemas[name]
    for node in _ref_holders(doc):
        node["$ref"] = _flatten(node["$ref"], renamed)


def _only_metadata(schema: dict[str, Any]) -> bool:
    return set(schema) <= {"title", "description", "$comment"}


def _flatten(ref: str, renamed: dict[str, str]) -> str:
    """`#/components/schemas/a/$defs/b/$defs/c` -> `#/components/schemas/a.b.c`."""
    if not ref.startswith(COMPONENTS):
        return ref
    pointer = ref.removeprefix(COMPONENTS)
    while DEFS in pointer:
        head, _, rest = pointer.partition(DEFS)
        key, slash, tail = rest.partition("/")
        pointer = renamed[f"{head}{DEFS}{key}"] + (slash + tail if slash else "")
    return COMPONENTS + pointer


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object below `node` (schemas and their keyword values alike)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from schema_nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from schema_nodes(item)


def _ref_holders(node: Any) -> Iterator[dict[str, Any]]:
    return (found for found in schema_nodes(node) if isinstance(found.get("$ref"), str))


# --- the order of alternatives ------------------------------------------------------------


def required_fields(schema: Any, schemas: dict[str, Any], depth: int = 0) -> int:
    """How many required fields `schema` demands, nested objects and `allOf` parts included."""
    if not isinstance(schema, dict) or depth > 8:
        return 0
    if isinstance(schema.get("$ref"), str):
        return required_fields(schemas.get(schema["$ref"].removeprefix(COMPONENTS)), schemas,
                               depth + 1)
    count = len(schema.get("required", []))
    count += sum(required_fields(part, schemas, depth + 1) for part in schema.get("allOf", []))
    count += sum(required_fields(prop, schemas, depth + 1)
                 for prop in schema.get("properties", {}).values())
    return count


def order_alternatives(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for media in _media_types(doc):
        alternatives = media.get("schema", {}).get("anyOf")
        if isinstance(alternatives, list):
            alternatives.sort(key=lambda ref: -required_fields(ref, schemas))


# --- examples ---------------------------------------------------------------------------------


@cache
def example_for(schema: str) -> Any | None:
    """The example payload of schema `<vendor>/<name>`, or None if there is none."""
    vendor, _, name = schema.partition("/")
    path = fixtures_root() / vendor / f"{name}.example.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _schema_names(schema: dict[str, Any]) -> list[str]:
    """Schema-file names (`<vendor>/<name>`) a media type's schema refers to, in order."""
    refs = [schema] if "$ref" in schema else schema.get("anyOf", [])
    return [ref["$ref"].removeprefix(COMPONENTS).replace(".", "/", 1) for ref in refs
            if isinstance(ref, dict) and "$ref" in ref]


def _with_examples(media: dict[str, Any]) -> None:
    found = {name.partition("/")[2]: value for name in _schema_names(media.get("schema", {}))
             if (value := example_for(name)) is not None}
    if found:
        media["examples"] = {key: {"summary": key, "value": value} for key, value in found.items()}


def _media_types(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in doc["paths"].values():
        for op in item.values():
            yield from op.get("requestBody", {}).get("content", {}).values()
            for answer in op.get("responses", {}).values():
                yield from answer.get("content", {}).values()
            for callback in op.get("callbacks", {}).values():
                for callback_item in callback.values():
                    for callback_op in callback_item.values():
                        yield from callback_op.get("requestBody", {}).get("content", {}).values()


def add_examples(doc: dict[str, Any]) -> None:
    for media in _media_types(doc):
        _with_examples(media)


# --- callbacks --------------------------------------------------------------------------------


def declare_callback_security(doc: dict[str, Any]) -> None:
    for item in doc["paths"].values():
        for op in item.values():
            for name, callback in op.get("callbacks", {}).items():
                for callback_item in callback.values():
                    for callback_op in callback_item.values():
                        callback_op.setdefault("operationId", f"{op['operationId']}_{name}")
                        callback_op.setdefault("security", [])
