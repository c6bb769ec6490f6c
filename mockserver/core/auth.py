"""Bearer-key accounts shared by every vendor whose clients send `Authorization: Bearer`."""
from __future__ import annotations

import enum
from dataclasses import dataclass

ALWAYS_INVALID_KEY = "invalid-token"


class KeyStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    INVALID = "invalid"


@dataclass(frozen=True)
class KeyCheck:
    status: KeyStatus
    key: str | None = None


@dataclass(frozen=True)
class BearerAuth:
    """Any well-formed key is its own account unless `strict` limits them to `keys`."""

    strict: bool = False
    keys: frozenset[str] = frozenset()

    def check(self, header: str | None) -> KeyCheck:
        if header is None or not header.strip():
            return KeyCheck(KeyStatus.MISSING)
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key or any(c.isspace() for c in key):
            return KeyCheck(KeyStatus.MALFORMED)
        if key == ALWAYS_INVALID_KEY or (self.strict and key not in self.keys):
            return KeyCheck(KeyStatus.INVALID, key)
        return KeyCheck(KeyStatus.OK, key)
