"""The emulator's clock: real time times a scale, plus an offset that tests advance on demand.

Task state is derived from this clock, so `advance()` moves every task forward at once and
wakes any request that is waiting for a task to finish (sync-style vendor calls).

Attached to a `SharedState` (`attach()`), the origin and offset live in the store: an advance
adds to the stored offset atomically, and changes made by other workers or instances arrive
through the state row's listeners, waking this process's waiters too.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

Row = dict[str, float]


class SharedState(Protocol):
    """The shared state row a clock can be attached to (`core.shared.SharedState` is one)."""

    row: Row

    def on_change(self, listener: Callable[[Row, Row], None]) -> None: ...
    def add(self, field: str, delta: float) -> Row: ...


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
        self._shared: SharedState | None = None
        self._recheck = float("inf")  # real seconds between looks while sleeping

    def attach(self, shared: SharedState) -> None:
        """Keep origin and offset in the store's state row, shared by every instance."""
        self._shared = shared
        self._recheck = 1.0  # changes arrive through the state row's poll, this is a backstop
        with self._lock:
            self._origin, self._offset = shared.row["clock_origin"], shared.row["clock_offset"]
        shared.on_change(self._shared_changed)

    def _shared_changed(self, old: dict[str, float], new: dict[str, float]) -> None:
        if (old["clock_origin"], old["clock_offset"]) == (new["clock_origin"], new["clock_offset"]):
            return
        with self._lock:
            self._origin, self._offset = new["clock_origin"], new["clock_offset"]
        self._changed()

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
        if self._shared is not None:
            self._shared.add("clock_offset", seconds)  # the listener applies it here
            return self.now()
        with self._lock:
            self._offset += seconds
        self._changed()
        return self.now()

    def reset(self) -> None:
        if self._shared is not None:
            self._shared.add("clock_offset", -self._offset)
            return
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
            try:  # a shared clock may be moved by another instance: look again soon
                async with asyncio.timeout(min(wait_for + 0.001, self._recheck)):
                    await event.wait()
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard(entry)
        return True
