"""Secrets never leave the kit unmasked: not in assert messages, not in reports."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
SECRET_HEADERS = frozenset({"authorization", "x-tc-token", "x-api-key", "cookie"})
_MIN_SECRET = 4  # shorter values would mask innocent text


class Masker:
    """Replaces every known secret value, and the value of every credential header."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= _MIN_SECRET)

    def text(self, value: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.header(name, value) for name, value in headers.items()}

    def header(self, name: str, value: str) -> str:
        if name.lower() not in SECRET_HEADERS:
            return self.text(value)
        scheme = re.match(r"\s*([A-Za-z0-9-]+)\s+\S", value)
        return f"{scheme.group(1)} {MASK}" if scheme else MASK
