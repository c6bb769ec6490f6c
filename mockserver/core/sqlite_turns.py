"""One SQLite commit per event-loop turn for the writes made on the loop (group commit).

A commit is most of what a SQLite write costs (the WAL frames of the row and of each index it
touches, the locks): the submit spent about 40 % of its CPU in BEGIN and COMMIT. Writes made on
the event loop the app serves on (bound at start-up, `bind`) therefore share one transaction
per loop turn: the first opens it (`BEGIN IMMEDIATE`) and schedules the commit for the next
turn; each write section runs inside a savepoint, so one that fails is undone alone. An answer
must not be sent before the writes it acknowledges are committed: the app waits for
`pending()` before it sends a response's head (`routing.MockApp`), which keeps an acknowledged
task safe from kill -9, as before.

Writes from anywhere else (the journal's batch writer, code outside the app's loop, another
loop such as a test's) commit on their own, as before: code that writes and then waits for
another connection to see it, with no loop turn in between, would otherwise wait forever.
Other processes sharing the file wait for the write lock at most until the holder's next
loop turn.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("mockserver")


class TurnCommits:
    """The shared transaction of one connection, on the thread of its event loop."""

    def __init__(self, db: sqlite3.Connection,
                 retry: Callable[[Callable[[], object]], object]) -> None:
        self._db = db
        self._retry = retry  # the store's retry while another process holds the write lock
        self._loop: asyncio.AbstractEventLoop | None = None  # the app's, once bound
        self._done: asyncio.Future[None] | None = None  # the open turn's commit, if one is open

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Share commits on `loop` from now on (None: no more; the open turn commits)."""
        self.commit()
        self._loop = loop

    def here(self) -> bool:
        """Is this code running on the bound loop?"""
        if self._loop is None:
            return False
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    @contextmanager
    def section(self) -> Iterator[None]:
        """One atomic write section inside this turn's transaction (opened if need be); only
        on the bound loop (`here`)."""
        assert self._loop is not None
        db = self._db
        if self._done is None:
            self._retry(lambda: db.execute("BEGIN IMMEDIATE"))
            self._done = self._loop.create_future()
            self._loop.call_soon(self.commit)
        db.execute("SAVEPOINT section")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK TO section")
            db.execute("RELEASE section")
            raise
        db.execute("RELEASE section")

    def pending(self) -> asyncio.Future[None] | None:
        """The commit every write made so far on the loop waits for, or None: all committed."""
        return self._done

    def commit(self) -> None:
        """Commit the open turn, if any; whoever waits for it hears how it went."""
        done, db = self._done, self._db
        if done is None:
            return
        self._done = None
        try:
            self._retry(lambda: db.execute("COMMIT"))
        except sqlite3.Error as error:
            log.error("SQLite store: a commit failed, its writes are undone: %s", error)
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if not done.cancelled():
                done.set_exception(error)
                done.exception()  # retrieved here: the answers waiting on it raise it anyway
            return
        if not done.cancelled():
            done.set_result(None)
