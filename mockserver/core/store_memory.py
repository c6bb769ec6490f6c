"""The in-process store: tests, the in-process mode, `serve --store memory` (one worker only).

Tasks are kept as compressed JSON (LZ4 blocks against a dictionary: the first task each vendor
stored), behind a 34-byte header of the facts the sweeper and the account index need.
A typical task costs about 0.3 KB of RSS in all; callers always get their own copy.
The account index holds only live facts (slot ends and queue entries after `now`): anything
at or before the latest `now` the store was asked about is dropped when looked at, and never
indexed in the first place (emulated time only moves forward; a reset clears the store).
"""
from __future__ import annotations

import bisect
import itertools
import json
import math
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lz4.block

from . import jsonfast
from .store import new_state, schedule_of
from .tasks import STALLED, Task

# expires_at, slot_end, wait_until (NaN: none), created_at, whether orjson wrote the document
# (`jsonfast.dumps_marked`), dictionary index
_HEADER = struct.Struct("<ddddBB")
_MARK_AT, _DICT_AT = _HEADER.size - 2, _HEADER.size - 1  # the last two fields, as bytes
_NONE = math.nan
Key = tuple[str, str, str]
Facts = list[tuple[float, str]]  # sorted (time, task id)


def _encode_float(value: float | None) -> float:
    return _NONE if value is None else value


def _drop_past(facts: Facts, now: float) -> None:
    cut = bisect.bisect_right(facts, (now, "\U0010ffff"))
    if cut:
        del facts[:cut]


def _remove(facts: Facts, value: float, task_id: str) -> None:
    at = bisect.bisect_left(facts, (value, task_id))
    if at < len(facts) and facts[at] == (value, task_id):
        del facts[at]


class _Codec:
    """LZ4 blocks against a per-vendor dictionary (the first task document that vendor
    stored): the structure and most values of a task repeat from task to task, so a block is
    ~130 bytes. Deflate at its cheapest made ~115-byte blocks but cost ~7 µs per task written
    (a tenth of a memory-store submit), LZ4 ~1 µs; reading is ~0.4 µs against ~1.9 µs."""

    def __init__(self) -> None:
        self._dicts: list[bytes] = []
        self._by_vendor: dict[str, int] = {}

    def encode(self, task: Task) -> bytes:
        raw, by_orjson = jsonfast.dumps_marked(task.to_dict())
        index = self._by_vendor.get(task.vendor)
        if index is None and len(self._dicts) < _NO_DICT:
            index = self._by_vendor[task.vendor] = len(self._dicts)
            self._dicts.append(raw[-_DICT_BYTES:])
        head = _HEADER.pack(_encode_float(task.expires_at), _encode_float(task.slot_end),
                            _encode_float(task.wait_until), task.created_at, by_orjson,
                            _NO_DICT if index is None else index)
        zdict = b"" if index is None else self._dicts[index]
        block: bytes = lz4.block.compress(raw, mode="fast", dict=zdict)
        return head + block

    def decode(self, blob: bytes) -> Task:
        index = blob[_DICT_AT]
        zdict = self._dicts[index] if index < _NO_DICT else b""
        raw = lz4.block.decompress(blob[_HEADER.size:], dict=zdict)
        return Task.from_dict(jsonfast.loads_marked(raw, blob[_MARK_AT] == 1))


_NO_DICT = 255  # the dictionary index of a task stored without one (a 256th vendor)
_DICT_BYTES = 64 * 1024  # LZ4 looks back at most this far


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._codec = _Codec()
        self._tasks: dict[str, bytes] = {}
        self._slots: dict[Key, Facts] = {}
        self._waits: dict[Key, Facts] = {}
        self._records: dict[str, dict[str, str]] = {}
        self._meta: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._state = new_state(None, time.time())
        self._rates: dict[str, deque[float]] = {}
        self._journal: deque[tuple[int, str, int]] = deque()
        self._journal_bytes = 0
        self._journal_ids = 0
        self._due: dict[str, dict[str, list[float]]] = {}  # queue -> id -> [due_at, lease]
        self._cursors: dict[str, int] = {}
        self._horizon = -math.inf  # the latest `now` seen: facts before it need no index
        # Each account's task ids in creation order, for task lists; ids of swept tasks are
        # dropped the next time the account is listed.
        self._created: dict[tuple[str, str], list[str]] = {}
        self._writes = 0

    # --- tasks ------------------------------------------------------------------------------

    def put_task(self, task: Task) -> None:
        key = (task.vendor, task.account, task.pool)
        blob = self._codec.encode(task)
        with self._lock:
            old = self._tasks.get(task.id)
            if old is not None:
                _, slot, wait, _, _, _ = _HEADER.unpack_from(old)
                if not math.isnan(slot):
                    _remove(self._slots.get(key, []), slot, task.id)
                if not math.isnan(wait):
                    _remove(self._waits.get(key, []), wait, task.id)
            self._tasks[task.id] = blob
            self._writes += 1
            if old is None:
                self._created.setdefault((task.vendor, task.account), []).append(task.id)
            slot, wait = task.slot_end, task.wait_until
            if slot is not None and slot > self._horizon:
                bisect.insort(self._slots.setdefault(key, []), (slot, task.id))
            if wait is not None and wait > self._horizon:
                bisect.insort(self._waits.setdefault(key, []), (wait, task.id))

    def get_task(self, task_id: str) -> Task | None:
        blob = self._tasks.get(task_id)
        return None if blob is None else self._codec.decode(blob)

    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]:
        found: list[Task] = []
        with self._lock:
            blobs = list(reversed(self._tasks.values()))  # insertion order is creation order
        for blob in blobs:
            if len(found) >= limit:
                break
            task = self._codec.decode(blob)
            if vendor in (None, task.vendor):
                found.append(task)
        return found

    def _live(self, index: dict[Key, Facts], key: Key, now: float) -> Facts:
        self._horizon = max(self._horizon, now)
        facts = index.get(key)
        if facts is None:
            return []
        _drop_past(facts, now)
        if not facts:
            del index[key]
        return facts

    def busy_end(self, vendor: str, account: str, pool: str, now: float, slots: int
                 ) -> float | None:
        with self._lock:
            ends = self._live(self._slots, (vendor, account, pool), now)
            return ends[-slots][0] if len(ends) >= slots else None

    def queued_count(self, vendor: str, account: str, pool: str, now: float, cap: int) -> int:
        with self._lock:
            return min(cap, len(self._live(self._waits, (vendor, account, pool), now)))

    def waiting_tasks(self, vendor: str, account: str, pool: str, now: float) -> list[Task]:
        with self._lock:
            ids = [i for at, i in self._live(self._waits, (vendor, account, pool), now)
                   if at < STALLED]
        return [t for t in map(self.get_task, ids) if t is not None]

    @contextmanager
    def account_lock(self, vendor: str, account: str, pool: str) -> Iterator[None]:
        with self._lock:
            yield

    def sweep(self, now: float, limit: int = 1000) -> int:
        """Look at the next `limit` tasks and rate windows (round robin), drop expired ones."""
        with self._lock:
            self._horizon = max(self._horizon, now)
            expired = [(task_id, self._tasks[task_id]) for task_id in self._chunk(self._tasks, "tasks", limit)
                       if _HEADER.unpack_from(self._tasks[task_id])[0] <= now]  # NaN: never
            self._writes += bool(expired)
            for task_id, blob in expired:
                del self._tasks[task_id]
                task = self._codec.decode(blob)
                key = (task.vendor, task.account, task.pool)
                for index, value in ((self._slots, task.slot_end), (self._waits, task.wait_until)):
                    if value is not None and key in index:
                        _remove(index[key], value, task_id)
                        if not index[key]:
                            del index[key]
            for name, index in (("slots", self._slots), ("waits", self._waits)):
                for key in self._chunk(index, name, limit):  # facts of idle accounts
                    self._live(index, key, now)
            for key in self._chunk(self._rates, "rates", limit):
                hits = self._rates[key]
                if not hits or hits[-1] <= now - 1.0:
                    del self._rates[key]
            return len(expired)

    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        with self._lock:
            ids = self._created.get((vendor, account), [])
            ids[:] = [task_id for task_id in ids if task_id in self._tasks]  # drop swept ones
            blobs = [self._tasks[task_id] for task_id in reversed(ids)]
        return [self._codec.decode(blob) for blob in blobs
                if since <= _HEADER.unpack_from(blob)[3] < until]

    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        with self._lock:
            blobs = list(reversed(self._tasks.values()))  # insertion order is creation order
        tasks = (self._codec.decode(blob) for blob in blobs)
        return [schedule_of(task) for task in tasks
                if vendor in (None, task.vendor) and account in (None, task.account)]

    def write_count(self) -> int:
        return self._writes

    def _chunk(self, table: dict[Any, Any], cursor: str, limit: int) -> list[Any]:
        """The next `limit` keys of `table` after the cursor, wrapping around."""
        start = self._cursors.get(cursor, 0)
        if start >= len(table):
            start = 0
        keys = list(itertools.islice(table, start, start + limit))
        self._cursors[cursor] = start + len(keys)
        return keys

    # --- records, meta, counters, state --------------------------------------------------------

    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None:
        text = json.dumps(doc, ensure_ascii=False)
        with self._lock:
            self._records.setdefault(kind, {})[record_id] = text

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        text = self._records.get(kind, {}).get(record_id)
        return None if text is None else dict(json.loads(text))

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            texts = list(self._records.get(kind, {}).values())
        return [json.loads(t) for t in texts]

    def delete_record(self, kind: str, record_id: str) -> bool:
        with self._lock:
            return self._records.get(kind, {}).pop(record_id, None) is not None

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def counter_add(self, name: str, delta: int = 1) -> int:
        with self._lock:
            value = self._counters[name] = self._counters.get(name, 0) + delta
            return value

    def counter_get(self, name: str) -> int:
        return self._counters.get(name, 0)

    def counter_take(self, name: str) -> bool:
        with self._lock:
            if self._counters.get(name, 0) <= 0:
                return False
            self._counters[name] -= 1
            return True

    def state(self) -> dict[str, float]:
        with self._lock:
            return dict(self._state)

    def poll_state(self, known_version: float) -> dict[str, float] | None:
        return None if self._state["v"] == known_version else self.state()

    def state_add(self, field: str, delta: float) -> dict[str, float]:
        with self._lock:
            self._state[field] = self._state.get(field, 0) + delta
            self._state["v"] += 1
            return dict(self._state)

    # --- limits, journal, due queues -------------------------------------------------------------

    def rate_hit(self, key: str, per_second: float, now: float) -> bool:
        with self._lock:
            window = self._rates.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True

    def journal_add(self, doc: str, size: int, max_entries: int, max_bytes: int) -> int:
        with self._lock:
            self._journal_ids += 1
            self._journal.append((self._journal_ids, doc, size))
            self._journal_bytes += size
            while self._journal and (len(self._journal) > max_entries
                                     or self._journal_bytes > max_bytes):
                self._journal_bytes -= self._journal.popleft()[2]
            return self._journal_ids

    def journal_extend(self, entries: list[tuple[str, int]], max_entries: int, max_bytes: int
                       ) -> None:
        for doc, size in entries:
            self.journal_add(doc, size, max_entries, max_bytes)

    def journal_entries(self, limit: int | None = None) -> list[tuple[int, str]]:
        with self._lock:
            newest = list(reversed(self._journal))
        return [(entry_id, doc) for entry_id, doc, _ in newest[:limit]]

    def due_put(self, queue: str, item_id: str, due_at: float) -> None:
        with self._lock:
            self._due.setdefault(queue, {})[item_id] = [due_at, 0.0]

    def due_remove(self, queue: str, item_id: str) -> None:
        with self._lock:
            self._due.get(queue, {}).pop(item_id, None)

    def due_claim(self, queue: str, now: float, owner: str, lease_until: float, limit: int
                  ) -> list[str]:
        wall = time.time()
        with self._lock:
            items = self._due.get(queue, {})
            ready = sorted((at, i) for i, (at, lease) in items.items() if at <= now and lease <= wall)
            chosen = [i for _, i in ready[:limit]]
            for item_id in chosen:
                items[item_id][1] = lease_until
            return chosen

    def due_next(self, queue: str, wall_now: float) -> float | None:
        with self._lock:
            free = [at for at, lease in self._due.get(queue, {}).values() if lease <= wall_now]
        return min(free) if free else None

    def due_count(self, queue: str, now: float) -> int:
        with self._lock:
            return sum(1 for at, _ in self._due.get(queue, {}).values() if at <= now)

    def clear(self) -> None:
        with self._lock:
            self._writes += 1
            for table in (self._tasks, self._slots, self._waits, self._records, self._meta,
                          self._counters, self._rates, self._due, self._created):
                table.clear()
            self._journal.clear()
            self._journal_bytes = 0
            self._state = new_state(self._state, time.time())
            self._horizon = -math.inf

    def close(self) -> None:
        pass
