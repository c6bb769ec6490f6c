"""How many billable tasks a live run may create, counted across the whole session."""
from __future__ import annotations

import threading

import pytest


class Budget:
    """`limit=None` means unlimited (the mock); 0 means no billable request at all."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.spent)

    def allows(self, tasks: int = 1) -> bool:
        remaining = self.remaining()
        return remaining is None or remaining >= tasks

    def spend(self, tasks: int = 1) -> None:
        """Count `tasks` before creating them, or skip the test when the budget cannot pay."""
        with self._lock:
            if not self.allows(tasks):
                pytest.skip(f"live budget exhausted ({self.spent}/{self.limit} tasks spent)")
            self.spent += tasks
