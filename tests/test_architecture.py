"""The house plan holds: the layers of ARCHITECTURE.md (import-linter contracts in
pyproject.toml), no import cycles, vendors that never import each other, vendor facts only in
their own package, and types that check (mypy: strict on the core and the HTTP glue)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from mockserver.providers import provider_classes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mockserver"
VENDORS = [cls.spec for cls in provider_classes()]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the test extras)")
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("mockserver")  # type-only imports are edges too


def test_the_layer_contracts_are_kept() -> None:
    found = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True,
                           text=True)
    assert found.returncode == 0, found.stdout[-3000:] + found.stderr


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(imported=module, importer=imported):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert not cycles, "\n".join(cycles)


def test_vendor_packages_never_import_each_other(graph: grimp.ImportGraph) -> None:
    packages = [f"mockserver.providers.{spec.name}" for spec in VENDORS]
    leaks = [f"{a} imports {b}" for a in packages for b in packages
             if a != b and graph.chain_exists(importer=a, imported=b, as_packages=True)]
    assert not leaks, leaks


def _vendor_words(spec: object) -> set[str]:
    name: str = getattr(spec, "name")
    hosts: tuple[str, ...] = getattr(spec, "hosts")
    return {name, *hosts}


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda spec: spec.name)
def test_no_module_outside_a_vendors_package_names_it(vendor: object) -> None:
    """Vendor facts live in the vendor's package: any other module that names the vendor (its
    name or a published host, in code, strings or comments) is a fact in the wrong room."""
    own = PACKAGE / "providers" / getattr(vendor, "name")
    words = re.compile("|".join(re.escape(w) for w in sorted(_vendor_words(vendor))), re.I)
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if own in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if words.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_mypy_finds_nothing() -> None:
    found = subprocess.run([_tool("mypy"), "--no-incremental"], cwd=ROOT, capture_output=True,
                           text=True)
    assert found.returncode == 0, found.stdout[-4000:] + found.stderr


def test_every_type_ignore_says_why() -> None:
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"# type: ignore(\[[^\]]*\])?(.*)$", line)
            if match and "#" not in match.group(2):
                bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert not bare, f"type: ignore without a reason: {bare}"
