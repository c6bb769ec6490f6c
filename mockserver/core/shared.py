"""The state row every worker and instance watches, and the housekeeping that keeps stores bounded.

The store's state row holds what each process otherwise kept to itself: the clock's origin and
offset, the version of the fault rules and the reset epoch. `SharedState.refresh()` asks the
store whether the row changed (a cheap check: SQLite's `data_version`, one Redis `HGETALL`,
nothing for memory) and tells the listeners; the app calls it before each request, once per
turn of the event loop (`refresh_this_turn`, `routing.MockApp`), and a background loop calls it
every `POLL_SECONDS` (and at once on a Redis notification), so a request waiting on one instance
wakes when another advances the clock.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from .store import Store

log = logging.getLogger("mockserver")
POLL_SECONDS = 0.05  # how soon a waiting request sees a change made by another instance
SWEEP_SECONDS = 1.0  # expired tasks and idle rate windows, a batch at a time
SWEEP_BATCH = 2000

Row = dict[str, float]
Listener = Callable[[Row, Row], None]  # (old row, new row)


class SharedState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.row: Row = store.state()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._fresh_on: asyncio.AbstractEventLoop | None = None  # refreshed in its running turn

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_reset(self, listener: Callable[[], None]) -> None:
        """Call `listener()` when any instance resets the store (the epoch moves on)."""
        self.on_change(lambda old, new: listener() if new["epoch"] != old["epoch"] else None)

    def refresh(self) -> None:
        found = self.store.poll_state(self.row["v"])
        if found is not None:
            self._apply(found)

    def refresh_this_turn(self) -> None:
        """`refresh()` before a request, once per turn of the running event loop.

        Every request that starts in a turn was received before that turn's first refresh or
        shares it with one that was: the check is forgotten by a callback queued when it ran,
        and the loop runs callbacks in order, so a request received after a refresh (its task
        queued after that callback) starts after the check is forgotten and looks again. A
        busy server thus asks the store (SQLite's `data_version`, a Redis round trip) once for
        all the requests it starts together, and an answer still never lags behind a change
        another instance acknowledged before the request arrived."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a thread): no turn to share
            self.refresh()
            return
        if self._fresh_on is loop:
            return
        self.refresh()
        self._fresh_on = loop
        loop.call_soon(self._turn_ended, loop)

    def _turn_ended(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._fresh_on is loop:
            self._fresh_on = None

    def add(self, field: str, delta: float) -> Row:
        """Change one field for every instance; the listeners here hear of it at once."""
        self._apply(self.store.state_add(field, delta))
        return self.row

    def _apply(self, new: Row) -> None:
        with self._lock:
            old = self.row
            if new["v"] <= old["v"]:
                return  # an older answer that arrived late
            self.row = new
        for listener in self._listeners:
            listener(old, new)

    # --- background: polling, notifications, sweeping ---------------------------------------

    async def start(self, now: Callable[[], float]) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._every(POLL_SECONDS, self.refresh), name="state-poll"),
                       loop.create_task(self._every(SWEEP_SECONDS, lambda: self._sweep(now)),
                                        name="store-sweep")]
        subscribe = getattr(self.store, "subscribe_state", None)
        if subscribe is not None:  # Redis: hear of changes at once, not at the next poll
            self._unsubscribe = subscribe(lambda: loop.call_soon_threadsafe(self.refresh))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _sweep(self, now: Callable[[], float]) -> None:
        self.store.sweep(now(), SWEEP_BATCH)

    @staticmethod
    async def _every(seconds: float, action: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                action()
            except Exception:  # a store hiccup must not end the loop; say so and go on
                log.exception("shared state: %s failed", getattr(action, "__name__", action))
