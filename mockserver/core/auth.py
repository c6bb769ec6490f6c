"""Bearer-key accounts shared by every vendor whose clients send `Authorization: Bearer`.

By default every well-formed key is its own account. `[vendors.<vendor>.accounts]` groups keys
into named accounts (`team = ["sk-1", "sk-2"]`): the keys of one account see, list and cancel
each other's tasks and share its rate windows and concurrency slots, as a vendor may document
for the keys under one cloud account. A grouped key's account is the group's name.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    account: str | None = None  # the key's account: its group's name, or the key itself


class AccountsError(ValueError):
    """A `[vendors.<vendor>.accounts]` table that cannot be used; the message says why."""


@dataclass(frozen=True)
class BearerAuth:
    """Any well-formed key is an account unless `strict` limits them to `keys` (and the keys
    of `accounts`). `accounts` maps vendor -> key -> account name."""

    strict: bool = False
    keys: frozenset[str] = frozenset()
    accounts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def configure(cls, strict: bool, keys: tuple[str, ...],
                  vendors: Mapping[str, Mapping[str, Any]]) -> BearerAuth:
        """Read every vendor's `accounts` table; a bad one raises `AccountsError`."""
        accounts = {vendor: parse_accounts(vendor, options.get("accounts"))
                    for vendor, options in vendors.items() if isinstance(options, Mapping)}
        return cls(strict, frozenset(keys), {v: a for v, a in accounts.items() if a})

    def account_of(self, vendor: str, key: str | None) -> str | None:
        """The account a (well-formed) key belongs to at `vendor`."""
        if key is None:
            return None
        return self.accounts.get(vendor, {}).get(key, key)

    def check(self, header: str | None, vendor: str = "") -> KeyCheck:
        if header is None or not header.strip():
            return KeyCheck(KeyStatus.MISSING)
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        # split() cuts at every character str.isspace() accepts: one piece means no whitespace
        if scheme.lower() != "bearer" or not key or len(key.split()) != 1:
            return KeyCheck(KeyStatus.MALFORMED)
        grouped = self.accounts.get(vendor, {})
        # A key spelled like an account name but not listed under it would pass for that
        # account; it is refused instead, so a group's name never works as a key.
        impostor = key not in grouped and key in grouped.values()
        if key == ALWAYS_INVALID_KEY or impostor or (
                self.strict and key not in self.keys and key not in grouped):
            return KeyCheck(KeyStatus.INVALID, key)
        return KeyCheck(KeyStatus.OK, key, grouped.get(key, key))


def parse_accounts(vendor: str, table: Any) -> dict[str, str]:
    """`{name: [key, ...]}` -> `{key: name}`, with a one-line reason for anything unusable."""
    if table is None:
        return {}
    where = f"[vendors.{vendor}.accounts]"
    if not isinstance(table, Mapping):
        raise AccountsError(f"{where} must be a table of account name = [keys]")
    by_key: dict[str, str] = {}
    for name, keys in table.items():
        if not isinstance(name, str) or not name.strip():
            raise AccountsError(f"{where}: an account name must be a non-empty string")
        if not isinstance(keys, list) or not keys:
            raise AccountsError(f"{where} {name}: give a non-empty list of keys")
        for key in keys:
            if not isinstance(key, str) or not key or any(c.isspace() for c in key):
                raise AccountsError(f"{where} {name}: {key!r} is not a usable bearer key")
            if key == ALWAYS_INVALID_KEY:
                raise AccountsError(f"{where} {name}: {ALWAYS_INVALID_KEY!r} is always refused")
            if key in by_key and by_key[key] != name:
                raise AccountsError(f"{where}: key {key!r} is in both {by_key[key]!r} and {name!r}")
            by_key[key] = name
    clash = sorted(set(by_key) & set(by_key.values()) - {k for k, n in by_key.items() if k == n})
    if clash:
        raise AccountsError(f"{where}: {clash[0]!r} is both an account name and another "
                            "account's key")
    return by_key
