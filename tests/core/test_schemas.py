"""Every schema is valid draft 2020-12, every $ref resolves, and every example fixture
(`fixtures/<vendor>/<schema-name>.example.json`) matches its schema."""
from __future__ import annotations

import json

import pytest
from referencing.exceptions import Unresolvable

from mockserver.core.schemas import SchemaRegistry, fixtures_root

REGISTRY = SchemaRegistry(check_metaschema=True)
EXAMPLES = sorted(fixtures_root().glob("*/*.example.json"))


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_ref_resolves(name: str) -> None:
    doc = REGISTRY.documents[name]
    resolver = REGISTRY.registry.resolver(base_uri=doc["$id"])
    for ref in _refs(doc):
        try:
            resolver.lookup(ref)
        except Unresolvable as missing:  # pragma: no cover - the assertion explains
            pytest.fail(f"{name}: {ref} does not resolve ({missing})")


def test_every_vendor_has_examples() -> None:
    vendors = {path.parent.name for path in EXAMPLES}
    assert {"acedata", "dashscope", "tencent", "gptge"} <= vendors


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_fixture_matches_its_schema(path) -> None:
    name = f"{path.parent.name}/{path.name.removesuffix('.example.json')}"
    assert name in REGISTRY.documents, f"{path} names no schema"
    error = REGISTRY.first_error(name, json.loads(path.read_text(encoding="utf-8")))
    assert error is None, f"{path}: {error.json_path}: {error.message}"
