"""Checkpoints of the SQLite store's write-ahead log, on a thread of their own.

SQLite copies the WAL back into the database file (a checkpoint, with an fsync of each) inside
whichever commit makes the WAL pass 1000 pages: under a steady stream of submits that was one
commit in every hundred or so, and it paused the event loop for milliseconds (the SQLite p99).
The event loop's connection turns that off (`PRAGMA wal_autocheckpoint=0`) and this thread
checkpoints every `EVERY_SECONDS` instead, passively: it never waits for, nor blocks, a writer.
Durability is unchanged: a commit is in the WAL before the caller answers, checkpoint or not.
`journal_size_limit` truncates the WAL back after a checkpoint, so the file stays small.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("mockserver")
EVERY_SECONDS = 0.1
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class Checkpointer:
    """One per store and process (a forked worker starts its own on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = 0

    def ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid, self._stop = os.getpid(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                        name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and self._pid == os.getpid() and thread.is_alive():
            thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                             timeout=30)
        try:
            db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            while not stop.wait(EVERY_SECONDS):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # a reset or a closing store: try again later
                    log.debug("sqlite checkpoint skipped: %s", error)
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:
            log.debug("sqlite checkpoint thread ends: %s", error)
        finally:
            db.close()
