"""Sliding one-second windows per (vendor, operation, account), on the emulated clock."""
from __future__ import annotations

import threading
from collections import deque


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, ...], per_second: float, now: float) -> bool:
        """Record a hit and say whether it fits in the last second's budget."""
        with self._lock:
            window = self._hits.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
