"""The compiled fast check (jsonschema-rs) and the reference validator (jsonschema) agree.

`SchemaRegistry` trusts the fast check when it says "valid", so it must never accept what the
reference rejects. Checked on every example fixture against every schema of its vendor, and
on thousands of mutations of each example (a field removed, or given another type or value).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.core.schemas import SchemaRegistry, fixtures_root

REGISTRY = SchemaRegistry()
EXAMPLES = sorted(fixtures_root().glob("*/*.example.json"))
REPLACEMENTS: tuple[Any, ...] = (None, 0, -1, 2.5, True, "", "x", "http://h/a.jpg", [], {},
                                 "1" * 300, 10**6, ["x"], {"k": 1})


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _mutations(doc: Any) -> Iterator[Any]:
    for path in _paths(doc):
        parent_path, last = path[:-1], path[-1]
        for replacement in (*REPLACEMENTS, _DELETE):
            mutated = copy.deepcopy(doc)
            parent = mutated
            for step in parent_path:
                parent = parent[step]
            if replacement is _DELETE:
                del parent[last]
            else:
                parent[last] = replacement
            yield mutated


_DELETE = object()


def _schema_of(path: Any) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.example.json')}"


def _agree(name: str, instance: Any) -> None:
    reference = REGISTRY.validator(name).is_valid(instance)
    assert REGISTRY.is_valid(name, instance) is reference, (name, instance)
    assert (REGISTRY.first_error(name, instance) is None) is reference


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_check_agrees_with_jsonschema(path: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    for name in REGISTRY.names(path.parent.name):
        _agree(name, doc)
    own = _schema_of(path)
    count = 0
    for mutated in _mutations(doc):
        _agree(own, mutated)
        count += 1
    assert count >= len(REPLACEMENTS)


def test_errors_is_empty_for_valid_and_explains_invalid() -> None:
    body = json.loads((fixtures_root() / "dashscope" / "submit-request.example.json").read_text())
    assert list(REGISTRY.errors("dashscope/submit-request", body)) == []
    broken = {**body, "model": 7}
    paths = [list(e.path) for e in REGISTRY.errors("dashscope/submit-request", broken)]
    assert paths == [["model"]]
