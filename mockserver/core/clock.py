"""The emulator's clock: real time times a scale, plus an offset that tests advance on demand.

Task state is derived from this clock, so `advance()` moves every task forward at once and
wakes any request that is waiting for a task to finish (sync-style vendor calls).
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable


class Clock:
    """Thread-safe: the pytest plugin may advance it from another thread than the server's loop."""

    def __init__(
        self, scale: float = 1.0, offset: float = 0.0, wall: Callable[[], float] = time.time
    ) -> None:
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError("time scale must be a positive finite number")
        if not math.isfinite(offset):
            raise ValueError("the clock offset must be a finite number")
        self.scale = scale
        self._wall = wall
        self._origin = wall()
        self._offset = offset
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._listeners: list[Callable[[float], None]] = []

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Emulated Unix time in seconds."""
        return self._origin + (self._wall() - self._origin) * self.scale + self._offset

    def on_change(self, listener: Callable[[float], None]) -> None:
        """Call `listener(offset)` after every advance or reset (used to persist the offset)."""
        self._listeners.append(listener)

    def advance(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:  # NaN would stop every task's clock
            raise ValueError("the clock only moves forward, by a finite number of seconds")
        with self._lock:
            self._offset += seconds
        self._changed()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
        self._changed()

    def _changed(self) -> None:
        for listener in self._listeners:
            listener(self._offset)
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def sleep_until(self, deadline: float, *, real_limit: float | None = None) -> bool:
        """Wait until emulated time reaches `deadline`. Returns False if `real_limit` ran out."""
        loop = asyncio.get_running_loop()
        give_up = None if real_limit is None else loop.time() + real_limit
        while (remaining := deadline - self.now()) > 0:
            wait_for = remaining / self.scale
            if give_up is not None:
                budget = give_up - loop.time()
                if budget <= 0:
                    return False
                wait_for = min(wait_for, budget)
            event = asyncio.Event()
            entry = (loop, event)
            with self._lock:
                self._waiters.add(entry)
            try:
                await asyncio.wait_for(event.wait(), timeout=wait_for + 0.001)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard(entry)
        return True
