"""The contract itself: schemas are valid, `$ref`s resolve, fixtures match, and the operations
files and the schema files cover each other exactly."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from contract_tests.session import Kit
from mockserver.core.errors import Catalogue
from mockserver.core.operations import OperationSpec, load_operations
from mockserver.core.schemas import SCHEMA_SUFFIX, fixtures_root, schemas_root
from mockserver.providers import vendor_names

ID_BASE = "https://portrait-mockserver.invalid/schemas/"
VENDORS = sorted(p.name for p in schemas_root().iterdir() if p.is_dir())


def _docs(vendor: str) -> dict[Path, dict[str, Any]]:
    return {p: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((schemas_root() / vendor).glob(f"*{SCHEMA_SUFFIX}"))}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize("vendor", VENDORS)
def test_schemas_are_valid_draft_2020_12_with_their_own_id(vendor: str) -> None:
    for path, doc in _docs(vendor).items():
        Draft202012Validator.check_schema(doc)
        assert doc.get("$schema") == "https://json-schema.org/draft/2020-12/schema", path.name
        assert doc.get("$id") == f"{ID_BASE}{vendor}/{path.name}", path.name


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_ref_resolves(kit: Kit, vendor: str) -> None:
    registry = kit.schemas.registry
    broken = []
    for path, doc in _docs(vendor).items():
        resolver = registry.resolver(base_uri=doc["$id"])
        for ref in _refs(doc):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                broken.append(f"{path.name}: {ref} ({urljoin(doc['$id'], ref)})")
    assert not broken, broken


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_fixture_matches_its_schema(kit: Kit, vendor: str) -> None:
    schemas = kit.schemas
    folder = fixtures_root() / vendor
    problems = []
    for path in sorted(folder.glob("*.example.json")) if folder.is_dir() else []:
        name = f"{vendor}/{path.name.removesuffix('.example.json')}"
        if name not in schemas.names(vendor):
            problems.append(f"{path.name}: no schema {name}")
            continue
        error = schemas.first_error(name, json.loads(path.read_text(encoding="utf-8")))
        if error is not None:
            problems.append(f"{path.name}: {error.json_path}: {error.message}")
    assert not problems, problems


def _vendors_with_providers(kit: Kit) -> list[str]:
    return list(vendor_names())


def _specs(kit: Kit, vendor: str) -> tuple[OperationSpec, ...]:
    return load_operations(vendor)


def test_every_operation_names_existing_schemas(kit: Kit) -> None:
    known = set(kit.schemas.names())
    missing = [f"{vendor}.{spec.operation}: {name}"
               for vendor in _vendors_with_providers(kit) for spec in _specs(kit, vendor)
               for name in _named(spec) if name not in known]
    assert not missing, missing


def test_every_schema_is_used_by_an_operation(kit: Kit) -> None:
    """Each schema is named by an OperationSpec or reached through `$ref` from one that is."""
    schemas = kit.schemas
    unused = []
    for vendor in _vendors_with_providers(kit):
        used = {n for spec in _specs(kit, vendor) for n in _named(spec)}
        used |= _referenced(schemas.documents, used)
        unused += sorted(set(schemas.names(vendor)) - used)
    assert not unused, f"schemas no operation uses: {unused}"


def test_every_catalogue_entry_has_a_status_and_a_source(kit: Kit) -> None:
    problems = []
    for vendor in _vendors_with_providers(kit):
        catalogue = Catalogue.load(schemas_root() / vendor / "catalogue.json")
        for code, entry in catalogue.entries.items():
            if not 100 <= entry.status <= 599 or not entry.source:
                problems.append(f"{vendor}: {code} status={entry.status} source={entry.source!r}")
    assert not problems, problems


def _named(spec: OperationSpec) -> set[str]:
    names = {n for group in spec.responses.values() for n in group}
    names |= {n for n in (spec.request_schema, spec.callback_schema) if n}
    return names


def _referenced(documents: dict[str, dict[str, Any]], roots: set[str]) -> set[str]:
    by_id = {doc["$id"]: name for name, doc in documents.items()}
    seen, todo = set(), [n for n in roots if n in documents]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _refs(documents[name]):
            target = by_id.get(urljoin(documents[name]["$id"], ref).partition("#")[0])
            if target is not None:
                todo.append(target)
    return seen
