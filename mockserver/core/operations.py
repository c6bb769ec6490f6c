"""The documented operations of each vendor, read from `schemas/<vendor>/operations.json`.

This file is the contract in one place: the mock routes its handlers by it, the OpenAPI
generator describes it and the contract kit checks a live vendor against it. None of them
learns the contract from another's code.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .schemas import schemas_root

OPERATIONS_FILE = "operations.json"


@dataclass(frozen=True)
class OperationSpec:
    """One documented operation: what it takes and, per HTTP status, which schemas may answer."""

    operation: str
    method: str
    path: str
    request_schema: str | None
    responses: Mapping[int, tuple[str, ...]]
    request_content_type: str = "application/json"
    required_headers: Mapping[str, str] = field(default_factory=dict)
    callback_schema: str | None = None
    summary: str = ""
    extra_paths: tuple[str, ...] = ()  # other spellings routed alike (a trailing slash, ...)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> OperationSpec:
        return cls(
            operation=doc["operation"],
            method=doc["method"].upper(),
            path=doc["path"],
            request_schema=doc.get("request_schema"),
            responses={int(status): tuple(names) for status, names in doc["responses"].items()},
            request_content_type=doc.get("request_content_type", "application/json"),
            required_headers=dict(doc.get("required_headers", {})),
            callback_schema=doc.get("callback_schema"),
            summary=doc.get("summary", ""),
            extra_paths=tuple(doc.get("extra_paths", ())),
        )


def operations_path(vendor: str, root: Path | None = None) -> Path:
    return (root or schemas_root()) / vendor / OPERATIONS_FILE


def load_operations(vendor: str, root: Path | None = None) -> tuple[OperationSpec, ...]:
    """The vendor's operations in file order (cached: the files are read-only data)."""
    return _load(operations_path(vendor, root).resolve())


@lru_cache(maxsize=32)
def _load(path: Path) -> tuple[OperationSpec, ...]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return tuple(OperationSpec.from_doc(entry) for entry in doc["operations"])
