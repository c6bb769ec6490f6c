"""How an account is shown: a configured account name as it is, any other account (a bearer
key, a key id) as a stable masked label, so the journal, the task list, the HAR export and the
dashboard never show a full key. The label is the key's first characters and a short digest:
the same key always gets the same label, and two keys get different ones."""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

_LABEL = re.compile(r".{0,4}\*\*\*#[0-9a-f]{8}")
_REMEMBERED = 4096  # accounts whose label is kept (a server sees the same few keys)


@functools.lru_cache(maxsize=4096)  # the same few keys on every request
def mask(key: str) -> str:
    hint = key[:4] if len(key) >= 12 else key[: len(key) // 3]
    return f"{hint}***#{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class AccountLabels:
    """`labels(account)`: the account as it may be shown. Idempotent: a label stays itself,
    so a filter may name an account by its key or by its label."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(names)  # configured account names (`[vendors.<v>.accounts]`)
        self._shown: dict[str, str] = {}  # every request journals its account: asked once each

    def __call__(self, account: str | None) -> str | None:
        if account is None or account == "":
            return account
        shown = self._shown.get(account)
        if shown is None:
            shown = account if account in self.names or _LABEL.fullmatch(account) \
                else mask(account)
            if len(self._shown) >= _REMEMBERED:
                self._shown.clear()
            self._shown[account] = shown
        return shown

    def matches(self, account: str | None, wanted: str) -> bool:
        """True when `wanted` (a key, a name or a label) names `account`."""
        return account is not None and (account == wanted or self(account) == self(wanted))
