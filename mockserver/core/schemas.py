"""Load every JSON Schema once, resolve `$ref`s offline, compile validators once."""
from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_SUFFIX = ".schema.json"


def schemas_root() -> Path:
    """The installed copy (wheel) if present, else the repository's top-level `schemas/`."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data" / "schemas"
    return packaged if packaged.is_dir() else here.parent / "schemas"


def fixtures_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data" / "fixtures"
    return packaged if packaged.is_dir() else here.parent / "fixtures"


class SchemaRegistry:
    """Schemas named by path without suffix, e.g. `<vendor>/submit-request`."""

    @classmethod
    def shared(cls, root: Path | None = None) -> SchemaRegistry:
        """One compiled registry per schema folder, shared by every app in the process.

        Compiling every schema costs about half a second; the registry is read-only after
        construction, so sharing it keeps apps independent while tests build hundreds.
        """
        return _shared_registry((root or schemas_root()).resolve())

    def __init__(self, root: Path | None = None, *, check_metaschema: bool = False) -> None:
        """`check_metaschema` validates every schema first: the test suite does; start-up
        skips it because it triples the time to the first answer."""
        self.root = root or schemas_root()
        self.documents: dict[str, dict[str, Any]] = {}
        resources = []
        for path in sorted(self.root.rglob(f"*{SCHEMA_SUFFIX}")):
            name = path.relative_to(self.root).as_posix()[: -len(SCHEMA_SUFFIX)]
            doc = json.loads(path.read_text(encoding="utf-8"))
            if check_metaschema:
                Draft202012Validator.check_schema(doc)
            self.documents[name] = doc
            resources.append((doc["$id"], Resource.from_contents(doc, DRAFT202012)))
        self.registry: Registry = Registry().with_resources(resources).crawl()
        self._validators = {
            name: Draft202012Validator(doc, registry=self.registry)
            for name, doc in self.documents.items()
        }

    def names(self, vendor: str | None = None) -> list[str]:
        prefix = f"{vendor}/" if vendor else ""
        return [n for n in self._validators if n.startswith(prefix)]

    def validator(self, name: str) -> Draft202012Validator:
        return self._validators[name]

    def errors(self, name: str, instance: Any) -> Iterator[ValidationError]:
        found: Iterator[ValidationError] = self._validators[name].iter_errors(instance)
        return found

    def first_error(self, name: str, instance: Any) -> ValidationError | None:
        """The most relevant error, or None when the instance is valid."""
        from jsonschema.exceptions import best_match

        found: ValidationError | None = best_match(self._validators[name].iter_errors(instance))
        return found


@lru_cache(maxsize=8)
def _shared_registry(root: Path) -> SchemaRegistry:
    return SchemaRegistry(root)
