"""Key pairs of a vendor whose clients sign requests (key id -> secret key), read per request.

The pairs come from two places: the configuration (`[auth.<vendor>]` plus the vendor's default
pair), fixed for the emulator's life, and pairs added while it runs (`POST
/__admin/credentials/{vendor}`, `features/credentials.py`), kept as store records so that
every worker sharing the store sees them at once and a restarted server (SQLite) still knows
them. `POST /__admin/reset` clears the store and with it the added pairs; configured pairs
stay. A second account for isolation checks is the use it exists for.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping

from .store import Store

RECORD_KIND = "keypairs"  # records `keypairs.<vendor>`: {"key_id", "secret"}


class KeyPairError(ValueError):
    """A pair that cannot be added; the message says why."""


class KeyTable(Mapping[str, str]):
    """The configured pairs, then the added ones. `id_prefix` shapes generated key ids the way
    the vendor's look (its own fact, given by the provider)."""

    def __init__(self, store: Store, vendor: str, configured: Mapping[str, str],
                 id_prefix: str = "") -> None:
        self._store = store
        self._kind = f"{RECORD_KIND}.{vendor}"
        self._configured = dict(configured)
        self._prefix = id_prefix

    def __getitem__(self, key_id: str) -> str:
        found = self._configured.get(key_id)
        if found is not None:
            return found
        record = self._store.get_record(self._kind, key_id)
        if record is None:
            raise KeyError(key_id)
        secret: str = record["secret"]
        return secret

    def __iter__(self) -> Iterator[str]:
        yield from self._configured
        for record in self._store.list_records(self._kind):
            if record["key_id"] not in self._configured:
                yield record["key_id"]

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def added(self) -> list[str]:
        """Key ids added at run time, oldest first."""
        return [r["key_id"] for r in self._store.list_records(self._kind)]

    def add(self, key_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Add a pair (a fresh random one when both are None) and return it. Adding a pair
        again is allowed; giving a known key id another secret is not."""
        if (key_id is None) != (secret is None):
            raise KeyPairError("give both key_id and secret, or neither for a fresh pair")
        if key_id is None or secret is None:
            key_id, secret = f"{self._prefix}{secrets.token_hex(16)}", secrets.token_hex(20)
        for name, value in (("key_id", key_id), ("secret", secret)):
            if not value or any(c.isspace() for c in value) or len(value) > 128:
                raise KeyPairError(f"{name} must be 1-128 characters without spaces")
        known = self.get(key_id)
        if known is not None and known != secret:
            raise KeyPairError(f"key id {key_id!r} is already known with another secret")
        self._store.put_record(self._kind, key_id, {"key_id": key_id, "secret": secret})
        return key_id, secret
