"""Sliding one-second windows per (vendor, operation, account), on the emulated clock.

The windows live in the store (`Store.rate_hit`, atomic: a memory lock, an SQLite transaction,
a Redis script), so every worker and instance draws from one budget per account; idle windows
are swept by the store's housekeeping, so distinct keys do not pile up.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


class RateLimiter:
    def __init__(self, store: Store) -> None:
        self.store = store

    def allow(self, key: tuple[str, ...], per_second: float, now: float) -> bool:
        """Record a hit and say whether it fits in the last second's budget."""
        return self.store.rate_hit("\x1f".join(key), per_second, now)

    def clear(self) -> None:
        """Nothing to do here: the windows live in the store, which the reset clears."""
