"""Per-account shares of a shared resource (the image download pool, the callback senders).

One tenant's slow image servers or slow callback receivers must not stall the others: each
account holds at most `per_account` of the `total` slots at once. Waiting for the account's
own share may be bounded (`timeout`): the request that waits too long fails, and it is always
the busy account's own request, because another account waits on its own share. An account
that holds and awaits nothing has no entry, so many distinct accounts cost no memory.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ShareTimeout(Exception):
    """The account's share stayed full for the whole timeout."""


class AccountSlots:
    """Use within one event loop (the semaphores bind to it)."""

    def __init__(self, per_account: int, total: int) -> None:
        if per_account < 1 or total < per_account:
            raise ValueError("need 1 <= per_account <= total")
        self.per_account = per_account
        self.total = total
        self._shares: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}  # holders and waiters, per account
        self._all = asyncio.Semaphore(total)

    def in_use(self, account: str | None) -> int:
        """Holders and waiters of `account` (for tests and the admin view)."""
        return self._users.get(account or "", 0)

    @asynccontextmanager
    async def hold(self, account: str | None, timeout: float | None = None
                   ) -> AsyncIterator[None]:
        key = account or ""
        share = self._shares.setdefault(key, asyncio.Semaphore(self.per_account))
        self._users[key] = self._users.get(key, 0) + 1
        try:
            try:
                async with asyncio.timeout(timeout):
                    await share.acquire()
            except TimeoutError:
                raise ShareTimeout(f"the account's {self.per_account} slots stayed busy for "
                                   f"{timeout:g} s") from None
            try:
                async with self._all:
                    yield
            finally:
                share.release()
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._shares[key]
