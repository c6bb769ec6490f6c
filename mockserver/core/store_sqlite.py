"""The SQLite store: one file shared by every worker process on one machine.

Every write is committed before the answer that acknowledges it is sent, so an acknowledged
task survives kill -9: WAL mode with synchronous=NORMAL is durable against a process crash (the
WAL is written before commit returns); only an OS crash could lose the last transactions.
Sections that must be atomic across processes (scheduling an account, a rate window, a counter,
a claim) run in one `BEGIN IMMEDIATE` transaction; on the app's event loop the sections of one
loop turn share it, one savepoint each, and the answers wait for its commit (`sqlite_turns`).
The journal is one row per written batch. `PRAGMA data_version` tells, without reading a
table, whether another process committed anything since we last looked: the cheap check
behind `poll_state`.

Each thread has its own connection (WAL readers never wait for the writer). On the main
thread (the event loop of a `serve` worker) a write that finds the database locked by another
process is retried every fraction of a millisecond, rather than through SQLite's busy handler,
which sleeps 1 ms and more at a time; other threads (the journal's batch writer) use the busy
handler, which waits without holding the GIL, so they do not take turns with the event loop.
"""
from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from . import jsonfast
from .sqlite_checkpoint import Checkpointer
from .sqlite_turns import TurnCommits
from .store import SCHEDULE_FIELDS, STATE_FIELDS, new_state
from .tasks import STALLED, Task

SCHEMA_VERSION = 3
T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, vendor TEXT NOT NULL, account TEXT NOT NULL, pool TEXT NOT NULL,
    created_at REAL NOT NULL, end_at REAL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (vendor, created_at);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (field TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rates (key TEXT PRIMARY KEY, last REAL NOT NULL, hits TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rates_last ON rates (last);
CREATE TABLE IF NOT EXISTS journal_chunks (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL,
    size INTEGER NOT NULL, docs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS due (queue TEXT NOT NULL, id TEXT NOT NULL, due_at REAL NOT NULL,
    lease_until REAL NOT NULL, owner TEXT, PRIMARY KEY (queue, id));
CREATE INDEX IF NOT EXISTS due_at ON due (queue, due_at);
"""
# Version 2: the scheduling facts as indexed columns (version 1 files are migrated).
_FACTS = """
ALTER TABLE tasks ADD COLUMN slot_end REAL;
ALTER TABLE tasks ADD COLUMN wait_until REAL;
ALTER TABLE tasks ADD COLUMN expires_at REAL;
"""
_FACT_INDEXES = """
CREATE INDEX IF NOT EXISTS tasks_slots ON tasks (vendor, account, pool, slot_end);
CREATE INDEX IF NOT EXISTS tasks_waits ON tasks (vendor, account, pool, wait_until);
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at);
CREATE INDEX IF NOT EXISTS tasks_account_created ON tasks (vendor, account, created_at);
"""
# Version 3: the journal as one row per written batch (version 2 kept a row per entry).
_OLD_JOURNAL = "SELECT id, size, doc FROM journal ORDER BY id"
_TASK_COLUMNS = {"id", "vendor", "account", "pool", "created_at", "end_at"}
_JOURNAL_LAST = "journal.last"  # the id of the newest entry ever written (kept by a reset)
_ACCOUNT = "vendor = ? AND account = ? AND pool = ?"


LOCKED_RETRY_SECONDS = 30.0


def _newest_within(entries: list[tuple[str, int]], max_bytes: int) -> list[tuple[str, int]]:
    """The newest entries of a batch that fit in `max_bytes` together (a batch larger than the
    whole journal keeps what a write per entry would have kept of it)."""
    total, start = 0, len(entries)
    while start > 0 and total + entries[start - 1][1] <= max_bytes:
        start -= 1
        total += entries[start][1]
    return entries[start:]


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error)
    return "locked" in text or "busy" in text


class _Connection(threading.local):
    db: sqlite3.Connection | None = None
    turns: TurnCommits | None = None  # the loop turn's shared transaction, on a loop's thread
    depth = 0  # nesting of transactions
    data_version = -1


class SqliteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = _Connection()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._checkpointer = Checkpointer(path)
        self._migrate()

    @property
    def _db(self) -> sqlite3.Connection:
        db = self._local.db
        return db if db is not None else self._connect()

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, with its turn commits (`sqlite_turns`)."""
        main = threading.current_thread() is threading.main_thread()
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                             timeout=0 if main else LOCKED_RETRY_SECONDS)
        self._retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
        db.execute("PRAGMA synchronous=NORMAL")
        # Some SQLite builds zero every deleted row (secure_delete on by default); the
        # journal deletes an old entry for each new one, which that makes 3x dearer. Nothing
        # stored needs scrubbing: secrets are masked before they are written.
        db.execute("PRAGMA secure_delete=OFF")
        if main:  # the event loop never runs a checkpoint: core/sqlite_checkpoint.py
            db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer.ensure_running()
        self._local.db, self._local.turns = db, TurnCommits(db, self._retry)
        with self._all_lock:
            self._all.append(db)
        return db

    @staticmethod
    def _retry(action: Callable[[], T]) -> T:
        """Run `action`, again and again while another process holds the write lock."""
        deadline, pause = time.monotonic() + LOCKED_RETRY_SECONDS, 0.0001
        while True:
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not _locked(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)

    def _migrate(self) -> None:
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
            if "slot_end" not in columns:
                for statement in _FACTS.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._backfill_facts()
            for statement in _FACT_INDEXES.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            tables = {row[0] for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "journal" in tables:
                self._move_old_journal()
            if version < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if self._db.execute("SELECT COUNT(*) FROM state").fetchone()[0] == 0:
                saved = self._db.execute("SELECT value FROM meta WHERE key = 'clock_offset'")
                row = saved.fetchone()
                fresh = new_state(None, time.time())
                fresh["clock_offset"] = float(row[0]) if row else 0.0  # version 1 kept it here
                self._db.executemany("INSERT INTO state VALUES (?, ?)", fresh.items())

    def _move_old_journal(self) -> None:
        """Version 2's journal, a row per entry, into chunks of one entry each (same ids)."""
        rows = self._db.execute(_OLD_JOURNAL).fetchall()
        self._db.executemany("INSERT INTO journal_chunks VALUES (?, ?, ?, ?)",
                             [(entry_id, entry_id, size, doc) for entry_id, size, doc in rows])
        sequence = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'")
        last = max([row[0] for row in sequence.fetchall()] + [rows[-1][0] if rows else 0])
        self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (_JOURNAL_LAST, last))
        self._db.execute("DROP TABLE journal")

    def _backfill_facts(self) -> None:
        rows = self._db.execute("SELECT doc FROM tasks").fetchall()
        for (doc,) in rows:
            task = Task.from_dict(jsonfast.loads(doc))
            self._db.execute("UPDATE tasks SET slot_end = ?, wait_until = ?, expires_at = ?"
                             " WHERE id = ?", (task.slot_end, task.wait_until, task.expires_at,
                                               task.id))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write section (nested calls join the outer one): on an event loop's
        thread a section of the turn's shared transaction (`sqlite_turns`), elsewhere an
        IMMEDIATE transaction of its own."""
        db, local = self._db, self._local
        turns = local.turns
        assert turns is not None  # made with the connection
        local.depth += 1
        try:
            if local.depth > 1:
                yield db
            elif turns.here():
                with turns.section():
                    yield db
            else:
                turns.commit()  # the loop's open turn first, if this thread runs one
                with self._own_transaction(db):
                    yield db
        finally:
            local.depth -= 1

    @contextmanager
    def _own_transaction(self, db: sqlite3.Connection) -> Iterator[None]:
        self._retry(lambda: db.execute("BEGIN IMMEDIATE"))
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._retry(lambda: db.execute("COMMIT"))

    def commit_per_turn(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """From now on, writes made on `loop` (the app's, on this thread) share one commit per
        loop turn (`sqlite_turns`); None ends that."""
        if self._local.turns is None:
            self._connect()
        assert self._local.turns is not None
        self._local.turns.bind(loop)

    def pending_commit(self) -> asyncio.Future[None] | None:
        """The commit the writes made so far on this thread's event loop wait for (None:
        they are all committed). Answers wait for it before they are sent."""
        turns = self._local.turns
        return None if turns is None else turns.pending()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db = self._db
        if self._local.depth:  # inside our transaction: nobody else can hold the lock
            return db.execute(sql, args).fetchall()
        return self._retry(lambda: db.execute(sql, args).fetchall())

    # --- tasks ------------------------------------------------------------------------------

    def put_task(self, task: Task) -> None:
        self._run(
            "INSERT OR REPLACE INTO tasks (id, vendor, account, pool, created_at, end_at, doc,"
            " slot_end, wait_until, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (task.id, task.vendor, task.account, task.pool, task.created_at, task.end_at,
             jsonfast.dumps(task.to_dict()).decode(),
             task.slot_end, task.wait_until, task.expires_at),
        )

    def get_task(self, task_id: str) -> Task | None:
        rows = self._run("SELECT doc FROM tasks WHERE id = ?", (task_id,))
        return Task.from_dict(jsonfast.loads(rows[0][0])) if rows else None

    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]:
        if vendor is None:
            rows = self._run("SELECT doc FROM tasks ORDER BY created_at DESC LIMIT ?", (limit,))
        else:
            rows = self._run(
                "SELECT doc FROM tasks WHERE vendor = ? ORDER BY created_at DESC LIMIT ?",
                (vendor, limit),
            )
        return [Task.from_dict(jsonfast.loads(r[0])) for r in rows]

    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        rows = self._run(
            "SELECT doc FROM tasks WHERE vendor = ? AND account = ? AND created_at >= ?"
            " AND created_at < ? ORDER BY created_at DESC", (vendor, account, since, until))
        return [Task.from_dict(jsonfast.loads(r[0])) for r in rows]

    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        """The table's own columns plus json_extract for the rest: thousands of tasks list
        without decoding a single whole document in Python."""
        columns = ", ".join(name if name in _TASK_COLUMNS else f"json_extract(doc, '$.{name}')"
                            for name in SCHEDULE_FIELDS)
        where = " AND ".join(f"{column} = ?" for column, value in
                             (("vendor", vendor), ("account", account)) if value is not None)
        args = tuple(value for value in (vendor, account) if value is not None)
        rows = self._run(f"SELECT {columns} FROM tasks{' WHERE ' + where if where else ''}"
                         " ORDER BY created_at DESC, id DESC", args)
        return [Task(*row) for row in rows]  # SCHEDULE_FIELDS are Task's first fields, in order

    def write_count(self) -> int:
        """Commits by other connections (`data_version`) plus this connection's own changes."""
        db = self._db
        return int(db.execute("PRAGMA data_version").fetchone()[0]) * 1_000_003 + db.total_changes

    def busy_end(self, vendor: str, account: str, pool: str, now: float, slots: int
                 ) -> float | None:
        rows = self._run(f"SELECT slot_end FROM tasks WHERE {_ACCOUNT} AND slot_end > ?"
                         " ORDER BY slot_end DESC LIMIT 1 OFFSET ?",
                         (vendor, account, pool, now, slots - 1))
        return float(rows[0][0]) if rows else None

    def queued_count(self, vendor: str, account: str, pool: str, now: float, cap: int) -> int:
        rows = self._run(f"SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE {_ACCOUNT}"
                         " AND wait_until > ? LIMIT ?)", (vendor, account, pool, now, cap))
        return int(rows[0][0])

    def waiting_tasks(self, vendor: str, account: str, pool: str, now: float) -> list[Task]:
        rows = self._run(f"SELECT doc FROM tasks WHERE {_ACCOUNT} AND wait_until > ?"
                         " AND wait_until < ?", (vendor, account, pool, now, STALLED))
        return [Task.from_dict(jsonfast.loads(r[0])) for r in rows]

    @contextmanager
    def account_lock(self, vendor: str, account: str, pool: str) -> Iterator[None]:
        with self._tx():  # the whole database: SQLite has one writer at a time anyway
            yield

    def sweep(self, now: float, limit: int = 1000) -> int:
        if not self._run("SELECT 1 FROM tasks WHERE expires_at <= ? UNION ALL SELECT 1 FROM rates"
                         " WHERE last <= ? LIMIT 1", (now, now - 1.0)):
            return 0  # nothing to do: take no write lock
        with self._tx() as db:
            gone = db.execute("DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks"
                              " WHERE expires_at <= ? LIMIT ?)", (now, limit)).rowcount
            db.execute("DELETE FROM rates WHERE last <= ?", (now - 1.0,))
        return int(gone)

    # --- records, meta, counters, state --------------------------------------------------------

    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        self._run("INSERT INTO records VALUES (?, ?, 0, ?) ON CONFLICT (kind, id)"
                  " DO UPDATE SET doc = excluded.doc",
                  (kind, record_id, json.dumps(doc, ensure_ascii=False)))

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        rows = self._run("SELECT doc FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return json.loads(rows[0][0]) if rows else None

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT doc FROM records WHERE kind = ? ORDER BY rowid", (kind,))
        return [json.loads(r[0]) for r in rows]

    def delete_record(self, kind: str, record_id: str) -> bool:
        rows = self._run("DELETE FROM records WHERE kind = ? AND id = ? RETURNING id",
                         (kind, record_id))
        return bool(rows)

    def get_meta(self, key: str) -> str | None:
        rows = self._run("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def counter_add(self, name: str, delta: int = 1) -> int:
        rows = self._run("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name)"
                         " DO UPDATE SET value = value + excluded.value RETURNING value",
                         (name, delta))
        return int(rows[0][0])

    def counter_get(self, name: str) -> int:
        rows = self._run("SELECT value FROM counters WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def counter_take(self, name: str) -> bool:
        rows = self._run("UPDATE counters SET value = value - 1 WHERE name = ? AND value > 0"
                         " RETURNING value", (name,))
        return bool(rows)

    def state(self) -> dict[str, float]:
        rows = self._run("SELECT field, value FROM state")
        found = {str(k): float(v) for k, v in rows}
        return {k: found.get(k, 0.0) for k in STATE_FIELDS}

    def poll_state(self, known_version: float) -> dict[str, float] | None:
        version = self._run("PRAGMA data_version")[0][0]
        if version == self._local.data_version:
            return None  # no other connection committed anything since this one looked
        self._local.data_version = version
        current = self.state()
        return None if current["v"] == known_version else current

    def state_add(self, field: str, delta: float) -> dict[str, float]:
        with self._tx() as db:
            db.execute("INSERT INTO state VALUES (?, ?) ON CONFLICT (field)"
                       " DO UPDATE SET value = value + excluded.value", (field, delta))
            db.execute("UPDATE state SET value = value + 1 WHERE field = 'v'")
            return self.state()

    # --- limits, journal, due queues -------------------------------------------------------------

    def rate_hit(self, key: str, per_second: float, now: float) -> bool:
        with self._tx() as db:
            row = db.execute("SELECT hits FROM rates WHERE key = ?", (key,)).fetchone()
            hits = [t for t in (json.loads(row[0]) if row else []) if t > now - 1.0]
            if len(hits) >= per_second:
                return False
            hits.append(now)
            db.execute("INSERT OR REPLACE INTO rates VALUES (?, ?, ?)", (key, now, json.dumps(hits)))
            return True

    def journal_add(self, doc: str, size: int, max_entries: int, max_bytes: int) -> int:
        return self._journal_write([(doc, size)], max_entries, max_bytes)

    def journal_extend(self, entries: list[tuple[str, int]], max_entries: int, max_bytes: int
                       ) -> None:
        if entries:
            self._journal_write(entries, max_entries, max_bytes)

    def _journal_write(self, entries: list[tuple[str, int]], max_entries: int, max_bytes: int
                       ) -> int:
        """The batch as one row (its entries' JSON texts a line each, oldest first; JSON text
        has no raw newline): a row per entry cost a b-tree insert each and, once the journal
        was full, a delete each. Returns the id of the batch's last entry."""
        kept = _newest_within(entries, max_bytes)
        added = sum(size for _, size in kept)
        with self._tx() as db:
            last = db.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                              " SET value = value + excluded.value RETURNING value",
                              (_JOURNAL_LAST, len(entries))).fetchone()[0]
            if kept:
                db.execute("INSERT INTO journal_chunks VALUES (?, ?, ?, ?)",
                           (last - len(kept) + 1, last, added, "\n".join(d for d, _ in kept)))
            self._trim_journal(db, last, added, max_entries, max_bytes)
        return int(last)

    @staticmethod
    def _trim_journal(db: sqlite3.Connection, last: int, added: int, max_entries: int,
                      max_bytes: int) -> None:
        """Keep both bounds with a running byte total (a counter), never a scan: drop the
        chunks wholly beyond the entry bound, then the oldest while the bytes are over theirs
        (whole chunks: the bytes bound may take a few entries more than one entry at a time
        would). A chunk only partly beyond the entry bound stays; readers ask for as many
        entries as the bound, newest first."""
        total = db.execute("INSERT INTO counters VALUES ('journal.bytes', ?) ON CONFLICT (name)"
                           " DO UPDATE SET value = value + excluded.value RETURNING value",
                           (added,)).fetchone()[0]
        freed = sum(size for (size,) in db.execute(
            "DELETE FROM journal_chunks WHERE last_id <= ? RETURNING size",
            (last - max_entries,)).fetchall())
        while total - freed > max_bytes:
            oldest = db.execute("DELETE FROM journal_chunks WHERE first_id = (SELECT"
                                " MIN(first_id) FROM journal_chunks) RETURNING size").fetchone()
            if oldest is None:
                break
            freed += oldest[0]
        if freed:
            db.execute("UPDATE counters SET value = value - ? WHERE name = 'journal.bytes'",
                       (freed,))

    def journal_entries(self, limit: int | None = None) -> list[tuple[int, str]]:
        """Newest first. Every chunk holds an entry at least, so `limit` chunks are enough."""
        rows = self._run("SELECT first_id, docs FROM journal_chunks ORDER BY first_id DESC"
                         " LIMIT ?", (-1 if limit is None else limit,))
        found: list[tuple[int, str]] = []
        for first_id, docs in rows:
            lines = docs.split("\n")
            found.extend((first_id + i, lines[i]) for i in range(len(lines) - 1, -1, -1))
            if limit is not None and len(found) >= limit:
                return found[:limit]
        return found

    def due_put(self, queue: str, item_id: str, due_at: float) -> None:
        self._run("INSERT OR REPLACE INTO due VALUES (?, ?, ?, 0, NULL)", (queue, item_id, due_at))

    def due_remove(self, queue: str, item_id: str) -> None:
        self._run("DELETE FROM due WHERE queue = ? AND id = ?", (queue, item_id))

    def due_claim(self, queue: str, now: float, owner: str, lease_until: float, limit: int
                  ) -> list[str]:
        if not self._run("SELECT 1 FROM due WHERE queue = ? AND due_at <= ? AND lease_until <= ?"
                         " LIMIT 1", (queue, now, time.time())):
            return []  # nothing due: take no write lock
        with self._tx() as db:
            rows = db.execute("SELECT id FROM due WHERE queue = ? AND due_at <= ? AND"
                              " lease_until <= ? ORDER BY due_at LIMIT ?",
                              (queue, now, time.time(), limit)).fetchall()
            ids = [str(r[0]) for r in rows]
            db.executemany("UPDATE due SET lease_until = ?, owner = ? WHERE queue = ? AND id = ?",
                           [(lease_until, owner, queue, i) for i in ids])
        return ids

    def due_next(self, queue: str, wall_now: float) -> float | None:
        rows = self._run("SELECT MIN(due_at) FROM due WHERE queue = ? AND lease_until <= ?",
                         (queue, wall_now))
        value = rows[0][0] if rows else None
        return None if value is None or math.isnan(value) else float(value)

    def due_count(self, queue: str, now: float) -> int:
        rows = self._run("SELECT COUNT(*) FROM due WHERE queue = ? AND due_at <= ?", (queue, now))
        return int(rows[0][0])

    def clear(self) -> None:
        with self._tx() as db:
            previous = self.state()
            kept = db.execute("SELECT name, value FROM counters WHERE name = ?",
                              (_JOURNAL_LAST,)).fetchall()  # entry ids never start again
            for table in ("tasks", "records", "meta", "counters", "rates", "journal_chunks",
                          "due", "state"):
                db.execute(f"DELETE FROM {table}")
            db.executemany("INSERT INTO counters VALUES (?, ?)", kept)
            db.executemany("INSERT INTO state VALUES (?, ?)",
                           new_state(previous, time.time()).items())

    def close(self) -> None:
        if self._local.turns is not None:
            self._local.turns.commit()
        self._checkpointer.stop()
        with self._all_lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = _Connection()
