"""Persistence behind one interface: memory for tests, SQLite for `serve` (survives kill -9).

Besides tasks the store keeps small named records (`kind` + id + JSON document), which the
callback dispatcher and others use, and a key/value `meta` table (the clock offset).
"""
from __future__ import annotations

import dataclasses
import json
import pickle
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

from .tasks import Task

# A task without `request` and `data` (its last two fields): enough to derive its state at any
# time, for listings.
SCHEDULE_FIELDS = tuple(f.name for f in dataclasses.fields(Task))[:-2]
assert [f.name for f in dataclasses.fields(Task)[-2:]] == ["request", "data"]


class Store(Protocol):
    def put_task(self, task: Task) -> None: ...
    def get_task(self, task_id: str) -> Task | None: ...
    def account_tasks(self, vendor: str, account: str, pool: str, since: float) -> list[Task]: ...
    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]: ...
    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]: ...
    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]: ...
    def write_count(self) -> int: ...
    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None: ...
    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...
    def list_records(self, kind: str) -> list[dict[str, Any]]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class _ReadOnlyTask(Task):
    """The memory store's schedules: shared by every listing (copying thousands of tasks for
    each page would cost more than the page), so they refuse to be changed."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"tasks from task_schedules() are read-only; "
                             f"get_task({self.id!r}) gives a copy to change")


def _schedule_of(task: Task) -> Task:
    shared = object.__new__(_ReadOnlyTask)
    shared.__dict__.update(task.__dict__, request={}, data={})
    return shared


def open_store(spec: str) -> Store:
    """`memory` or `sqlite:PATH`."""
    if spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:"):
        return SqliteStore(Path(spec.removeprefix("sqlite:")))
    raise ValueError(f"unknown store {spec!r}: use 'memory' or 'sqlite:PATH'")


class MemoryStore:
    """Tasks are kept pickled: callers always get their own copy, and pickle is the fastest
    deep copy available (the task query is the hot path)."""

    def __init__(self) -> None:
        self._tasks: dict[str, bytes] = {}
        self._index: dict[str, tuple[str, str, str, float | None, float]] = {}
        self._schedules: dict[str, Task] = {}  # task_schedules(): no request, no data
        self._writes = 0
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._meta: dict[str, str] = {}

    def put_task(self, task: Task) -> None:
        self._tasks[task.id] = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
        self._index[task.id] = (task.vendor, task.account, task.pool, task.end_at, task.created_at)
        self._schedules[task.id] = _schedule_of(task)
        self._writes += 1

    def get_task(self, task_id: str) -> Task | None:
        blob = self._tasks.get(task_id)
        return None if blob is None else pickle.loads(blob)

    def account_tasks(self, vendor: str, account: str, pool: str, since: float) -> list[Task]:
        return [
            pickle.loads(self._tasks[task_id])
            for task_id, (v, a, p, end_at, _) in self._index.items()
            if (v, a, p) == (vendor, account, pool) and (end_at is None or end_at > since)
        ]

    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]:
        chosen = [(created, task_id) for task_id, (v, _, _, _, created) in self._index.items()
                  if vendor in (None, v)]
        chosen.sort(reverse=True)
        return [pickle.loads(self._tasks[task_id]) for _, task_id in chosen[:limit]]

    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        """The account's tasks created in [since, until), newest first (task lists)."""
        chosen = [(created, task_id) for task_id, (v, a, _, _, created) in self._index.items()
                  if (v, a) == (vendor, account) and since <= created < until]
        chosen.sort(reverse=True)
        return [pickle.loads(self._tasks[task_id]) for _, task_id in chosen]
    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        """Every task (of a vendor, of an account), newest first, without `request` and `data`.
        Read-only: these are shared, not copies (use get_task() for a task to change)."""
        chosen = [t for t in self._schedules.values()
                  if vendor in (None, t.vendor) and account in (None, t.account)]
        chosen.sort(key=lambda t: (t.created_at, t.id), reverse=True)
        return chosen

    def write_count(self) -> int:
        """Changes whenever a task is written or the store cleared (listings cache on it)."""
        return self._writes

    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        self._records.setdefault(kind, {})[record_id] = json.loads(json.dumps(doc))

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        doc = self._records.get(kind, {}).get(record_id)
        return None if doc is None else json.loads(json.dumps(doc))

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(d)) for d in self._records.get(kind, {}).values()]

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def clear(self) -> None:
        self._tasks.clear()
        self._index.clear()
        self._schedules.clear()
        self._writes += 1
        self._records.clear()
        self._meta.clear()

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, vendor TEXT NOT NULL, account TEXT NOT NULL, pool TEXT NOT NULL,
    created_at REAL NOT NULL, end_at REAL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_account ON tasks (vendor, account, pool, end_at);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (vendor, created_at);
CREATE INDEX IF NOT EXISTS tasks_account_created ON tasks (vendor, account, created_at);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TASK_COLUMNS = {"id", "vendor", "account", "pool", "created_at", "end_at"}


class SqliteStore:
    """Every write commits before the caller answers, so an acknowledged task survives kill -9.

    WAL mode with synchronous=NORMAL is durable against a process crash (the WAL is written
    before commit returns); only an OS crash could lose the last transactions.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def put_task(self, task: Task) -> None:
        self._run(
            "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?)",
            (task.id, task.vendor, task.account, task.pool, task.created_at, task.end_at,
             json.dumps(task.to_dict(), ensure_ascii=False)),
        )

    def get_task(self, task_id: str) -> Task | None:
        rows = self._run("SELECT doc FROM tasks WHERE id = ?", (task_id,))
        return Task.from_dict(json.loads(rows[0][0])) if rows else None

    def account_tasks(self, vendor: str, account: str, pool: str, since: float) -> list[Task]:
        rows = self._run(
            "SELECT doc FROM tasks WHERE vendor = ? AND account = ? AND pool = ?"
            " AND (end_at IS NULL OR end_at > ?)",
            (vendor, account, pool, since),
        )
        return [Task.from_dict(json.loads(r[0])) for r in rows]

    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]:
        if vendor is None:
            rows = self._run("SELECT doc FROM tasks ORDER BY created_at DESC LIMIT ?", (limit,))
        else:
            rows = self._run(
                "SELECT doc FROM tasks WHERE vendor = ? ORDER BY created_at DESC LIMIT ?",
                (vendor, limit),
            )
        return [Task.from_dict(json.loads(r[0])) for r in rows]

    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        rows = self._run(
            "SELECT doc FROM tasks WHERE vendor = ? AND account = ? AND created_at >= ?"
            " AND created_at < ? ORDER BY created_at DESC",
            (vendor, account, since, until),
        )
        return [Task.from_dict(json.loads(r[0])) for r in rows]
    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        """Every task (of a vendor, of an account), newest first, without `request` and `data`:
        the table's own columns plus json_extract for the rest, so thousands of tasks list
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
        """Changes whenever this store writes anything (SQLite's count of changed rows on our
        one connection): listings cache on it."""
        with self._lock:
            return self._db.total_changes

    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?) ON CONFLICT (kind, id)"
                " DO UPDATE SET doc = excluded.doc",
                (kind, record_id, self._seq, json.dumps(doc, ensure_ascii=False)),
            )

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        rows = self._run("SELECT doc FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return json.loads(rows[0][0]) if rows else None

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT doc FROM records WHERE kind = ? ORDER BY seq", (kind,))
        return [json.loads(r[0]) for r in rows]

    def get_meta(self, key: str) -> str | None:
        rows = self._run("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM tasks; DELETE FROM records; DELETE FROM meta;")

    def close(self) -> None:
        with self._lock:
            self._db.close()
