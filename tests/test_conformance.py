"""Every vendor has every room: its package and declaration, its schemas folder (schemas,
catalogue, operations), its fixtures, its tests, its contract-kit adapter and its docs page.

A vendor is anything that has one of these rooms, so a fifth vendor that forgot one fails
here, naming the room (`scripts/new_vendor.py NAME` writes them all).
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from starlette.routing import Route

from mockserver.core.errors import Catalogue
from mockserver.core.operations import load_operations
from mockserver.core.schemas import SCHEMA_SUFFIX, SchemaRegistry
from mockserver.emulator import Emulator
from mockserver.providers import vendor_packages
from mockserver.providers.base import Provider, VendorPackage
from mockserver.providers.spec import VendorSpec
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS, FIXTURES = ROOT / "schemas", ROOT / "fixtures"


def _folders(parent: Path) -> set[str]:
    return {p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}


PACKAGES = {p.name for p in (ROOT / "mockserver" / "providers").iterdir()
            if (p / "__init__.py").is_file()}
VENDORS = sorted(PACKAGES | (_folders(SCHEMAS)) | (_folders(FIXTURES) - {"images"}))


def _package(vendor: str) -> VendorPackage:
    module = importlib.import_module(f"mockserver.providers.{vendor}")
    package = getattr(module, "VENDOR", None)
    assert isinstance(package, VendorPackage), (
        f"room 'package': mockserver/providers/{vendor}/__init__.py must export VENDOR, "
        "a VendorPackage")
    return package


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(Settings())


@pytest.mark.parametrize("vendor", VENDORS)
def test_package_declares_the_vendor(vendor: str) -> None:
    assert vendor in PACKAGES, f"room 'package': no mockserver/providers/{vendor}/"
    package = _package(vendor)
    assert issubclass(package.provider, Provider)
    spec = package.provider.spec
    assert isinstance(spec, VendorSpec) and spec.name == vendor, \
        f"room 'declaration': {vendor}'s Provider.spec must be a VendorSpec named {vendor!r}"
    assert spec.hosts, f"room 'declaration': {vendor} declares no published host"
    assert vendor in vendor_packages()


@pytest.mark.parametrize("vendor", VENDORS)
def test_schemas_folder_is_complete(vendor: str) -> None:
    folder = SCHEMAS / vendor
    assert folder.is_dir(), f"room 'schemas': no schemas/{vendor}/"
    for name in ("catalogue.json", "operations.json"):
        assert (folder / name).is_file(), f"room 'schemas': no schemas/{vendor}/{name}"
    assert list(folder.glob(f"*{SCHEMA_SUFFIX}")), f"room 'schemas': schemas/{vendor}/ has no schema"


@pytest.mark.parametrize("vendor", VENDORS)
def test_catalogue_has_every_code_the_declaration_names(vendor: str) -> None:
    catalogue = Catalogue.load(SCHEMAS / vendor / "catalogue.json")
    errors = _package(vendor).provider.spec.errors
    named = [errors.bad_request, errors.internal, errors.not_found, errors.rate_limited,
             errors.queue_full]
    missing = [code for code in named if code is not None and code not in catalogue]
    assert not missing, f"room 'catalogue': schemas/{vendor}/catalogue.json lacks {missing}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_operations_name_schemas_and_are_routed(vendor: str, emulator: Emulator) -> None:
    specs = load_operations(vendor)
    assert specs, f"room 'operations': schemas/{vendor}/operations.json lists no operation"
    known = set(SchemaRegistry.shared().names(vendor))
    named = {n for spec in specs for group in spec.responses.values() for n in group}
    named |= {n for spec in specs for n in (spec.request_schema, spec.callback_schema) if n}
    assert named <= known, f"room 'operations': unknown schemas {sorted(named - known)}"
    provider = emulator.providers[vendor]
    routes = [r for r in vendor_packages()[vendor].routes(provider, emulator.pipeline)
              if isinstance(r, Route)]
    served = {(r.path, m) for r in routes for m in (r.methods or set())}
    unrouted = [f"{s.method} {s.path}" for s in specs if (s.path, s.method) not in served]
    documented = {path for s in specs for path in (s.path, *s.extra_paths)}
    undocumented = [r.path for r in routes if r.path not in documented]
    assert not unrouted, f"room 'handlers': no route serves {unrouted}"
    assert not undocumented, f"room 'operations': routes {undocumented} serve no operation"


@pytest.mark.parametrize("vendor", VENDORS)
def test_fixtures_are_there(vendor: str) -> None:
    examples = list((FIXTURES / vendor).glob("*.example.json"))
    assert examples, f"room 'fixtures': fixtures/{vendor}/ has no *.example.json"
    for path in examples:
        json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_tests_and_contract_adapter_are_there(vendor: str) -> None:
    tests = list((ROOT / "tests" / "providers" / vendor).glob("test_*.py"))
    assert tests, f"room 'tests': tests/providers/{vendor}/ has no test module"
    adapter = ROOT / "contract_tests" / "adapters" / f"{vendor}.py"
    assert adapter.is_file(), f"room 'contract adapter': no contract_tests/adapters/{vendor}.py"


@pytest.mark.parametrize("vendor", VENDORS)
def test_docs_page_is_there_and_linked(vendor: str) -> None:
    page = ROOT / "docs" / f"{vendor}.md"
    assert page.is_file(), f"room 'docs': no docs/{vendor}.md"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"docs/{vendor}.md" in readme, f"room 'docs': README.md does not link docs/{vendor}.md"
