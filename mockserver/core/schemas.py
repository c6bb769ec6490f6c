"""Load every JSON Schema once, resolve `$ref`s offline, validate at near-zero cost when valid.

Two validators per schema, each built on first use:
- the fast one (jsonschema-rs, compiled Rust) answers "valid?" in a couple of microseconds,
  about 1 % of walking the schema with `jsonschema` (160 us for a portrait submit);
- `jsonschema` (the reference implementation) explains a failure: `errors()` and
  `first_error()` only consult it when the fast check says no, and its verdict is the one that
  counts, so the two never disagree about an invalid instance. tests/core/test_schemas.py
  checks that they agree on valid ones.
Without jsonschema-rs installed, `jsonschema` does both jobs. Nothing is compiled, and neither
library imported, until a schema is first used: start-up does not pay for it.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

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
        """One registry per schema folder, shared by every app in the process.

        Validators are compiled on first use and kept; the registry is otherwise read-only,
        so sharing it keeps apps independent while tests build hundreds.
        """
        return _shared_registry((root or schemas_root()).resolve())

    def __init__(self, root: Path | None = None, *, check_metaschema: bool = False) -> None:
        """`check_metaschema` validates every schema first: the test suite does; start-up
        skips it because it triples the time to the first answer."""
        self.root = root or schemas_root()
        self.documents: dict[str, dict[str, Any]] = {}
        for path in sorted(self.root.rglob(f"*{SCHEMA_SUFFIX}")):
            name = path.relative_to(self.root).as_posix()[: -len(SCHEMA_SUFFIX)]
            self.documents[name] = json.loads(path.read_text(encoding="utf-8"))
        if check_metaschema:
            from jsonschema import Draft202012Validator

            for doc in self.documents.values():
                Draft202012Validator.check_schema(doc)
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._validators: dict[str, Draft202012Validator] = {}
        self._fast: dict[str, Callable[[Any], bool]] = {}
        self._rs_registry: Any = None

    def names(self, vendor: str | None = None) -> list[str]:
        prefix = f"{vendor}/" if vendor else ""
        return [n for n in self.documents if n.startswith(prefix)]

    @property
    def registry(self) -> Registry:
        """Every schema as a `referencing` registry (for `$ref` resolution by callers)."""
        if self._registry is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            resources = [(doc["$id"], Resource.from_contents(doc, DRAFT202012))
                         for doc in self.documents.values()]
            with self._lock:
                if self._registry is None:
                    self._registry = Registry().with_resources(resources).crawl()
        return self._registry

    def validator(self, name: str) -> Draft202012Validator:
        """The reference (`jsonschema`) validator of one schema."""
        found = self._validators.get(name)
        if found is None:
            from jsonschema import Draft202012Validator

            found = Draft202012Validator(self.documents[name], registry=self.registry)
            self._validators[name] = found
        return found

    def is_valid(self, name: str, instance: Any) -> bool:
        check = self._fast.get(name)
        if check is None:
            check = self._fast[name] = self._compile(name)
        return check(instance)

    def errors(self, name: str, instance: Any) -> Iterator[ValidationError]:
        if self.is_valid(name, instance):
            return iter(())
        return self.validator(name).iter_errors(instance)

    def first_error(self, name: str, instance: Any) -> ValidationError | None:
        """The most relevant error, or None when the instance is valid."""
        if self.is_valid(name, instance):
            return None
        from jsonschema.exceptions import best_match

        found: ValidationError | None = best_match(self.validator(name).iter_errors(instance))
        return found

    def _compile(self, name: str) -> Callable[[Any], bool]:
        try:
            import jsonschema_rs
        except ImportError:  # the pure-Python validator answers alone
            return self.validator(name).is_valid
        with self._lock:
            if self._rs_registry is None:
                self._rs_registry = jsonschema_rs.Registry(
                    [(doc["$id"], doc) for doc in self.documents.values()])
        compiled = jsonschema_rs.validator_for(
            self.documents[name], registry=self._rs_registry, validate_formats=False,
            offline=True)  # every $ref is in the registry: never fetch anything
        check: Callable[[Any], bool] = compiled.is_valid
        return check


@lru_cache(maxsize=8)
def _shared_registry(root: Path) -> SchemaRegistry:
    return SchemaRegistry(root)
