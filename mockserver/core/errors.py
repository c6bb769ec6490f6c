"""Vendor errors as data: handlers raise `VendorError(code)`, one place per vendor renders it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class VendorError(Exception):
    """A documented vendor error. Status and default message come from the vendor's catalogue."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(code if message is None else f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}
        self.detail = detail  # why, for the journal only: the vendor's answer never shows it


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    status: int
    message: str
    source: str


class Catalogue:
    """Code -> HTTP status and message, loaded from `schemas/<vendor>/catalogue.json`."""

    def __init__(self, vendor: str, entries: dict[str, CatalogueEntry], fallback: str,
                 raw: dict[str, dict[str, Any]] | None = None,
                 aliases: dict[str, str] | None = None) -> None:
        self.vendor = vendor
        self.entries = entries
        self.fallback = fallback
        self.raw = raw or {}  # each entry as written, with any vendor-specific fields
        # Other spellings of a code that vendor sources also use (alias -> code), accepted
        # wherever a code is named (fault rules, options) and resolved to the entry.
        self.aliases = aliases or {}

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        entries = {
            code: CatalogueEntry(code, int(e["status"]), e["message"], e.get("source", ""))
            for code, e in doc["errors"].items()
        }
        if doc["fallback"] not in entries:
            raise ValueError(f"{path}: fallback code {doc['fallback']!r} is not in the catalogue")
        aliases = {alias: code for code, e in doc["errors"].items() for alias in e.get("aliases", ())}
        return cls(doc["vendor"], entries, doc["fallback"], doc["errors"], aliases)

    def __contains__(self, code: str) -> bool:
        return code in self.entries or code in self.aliases

    def canonical(self, code: str) -> str:
        """The catalogue's own spelling of `code` (itself when it is no alias)."""
        return self.aliases.get(code, code)

    def resolve(self, error: VendorError) -> CatalogueEntry:
        """The entry to render; unknown codes render as the fallback's status with their own code."""
        entry = self.entries.get(self.canonical(error.code))
        if entry is None:
            base = self.entries[self.fallback]
            entry = CatalogueEntry(error.code, base.status, base.message, "unknown")
        status = error.status if error.status is not None else entry.status
        message = error.message if error.message is not None else entry.message
        return CatalogueEntry(entry.code, status, message, entry.source)
