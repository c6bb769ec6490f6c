"""Persistence behind one interface, shared by every worker and instance that opens the same store.

- `memory`: one process (tests, the in-process mode). Compact: about 0.3 KB per stored task.
- `sqlite:PATH`: one machine, any number of worker processes (`serve --workers N`). WAL mode,
  every acknowledged write committed before the answer; atomic sections are `BEGIN IMMEDIATE`
  transactions.
- `redis://HOST:PORT/DB`: several machines behind one URL. Atomic sections are Lua scripts or
  per-account locks; the shared state row is announced on a pub/sub channel.

What the store holds, and why each is here rather than in one process's memory:

- tasks, with the scheduling facts indexed (`Task.slot_end`, `wait_until`, `expires_at`), so a
  submit asks O(log n) questions whatever the store or the account holds;
- records (`kind` + id + JSON document): callbacks, gpt.ge results, fault rules, ...;
- counters (atomic add / take-one), e.g. a fault rule's remaining `times`;
- the state row (`poll_state`/`state_add`): the clock's origin and offset, the fault rules'
  version and the reset epoch, with a version `v` that changes on every update, so each
  request can check cheaply whether anything changed elsewhere;
- rate-limit windows (`rate_hit`, atomic), the journal (bounded in entries and bytes), and due
  queues with leases (`due_*`), from which exactly one worker claims each due item.
"""
from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .tasks import Task

# A task's fields but its request and data: what listings need (`task_schedules`).
SCHEDULE_FIELDS = tuple(f.name for f in dataclasses.fields(Task))[:-2]
assert [f.name for f in dataclasses.fields(Task)[-2:]] == ["request", "data"]


def schedule_of(task: Task) -> Task:
    """`task` without its request and data."""
    return dataclasses.replace(task, request={}, data={})

# Fields of the state row. `v` changes on every update; the others are read by their owners.
STATE_FIELDS = ("v", "clock_origin", "clock_offset", "faults", "epoch")


class Store(Protocol):
    # --- tasks ----------------------------------------------------------------------------
    def put_task(self, task: Task) -> None: ...
    def get_task(self, task_id: str) -> Task | None: ...
    def list_tasks(self, vendor: str | None = None, limit: int = 1000) -> list[Task]: ...
    def busy_end(self, vendor: str, account: str, pool: str, now: float, slots: int
                 ) -> float | None:
        """The `slots`-th latest `slot_end` after `now` of the account's pool (None: a slot is
        free)."""
    def queued_count(self, vendor: str, account: str, pool: str, now: float, cap: int) -> int:
        """How many of the account's tasks are queued at `now` (`wait_until > now`), counting
        no further than `cap`."""
    def waiting_tasks(self, vendor: str, account: str, pool: str, now: float) -> list[Task]:
        """The account's tasks scheduled to start after `now` (not stalled, not canceled)."""
    def account_lock(self, vendor: str, account: str, pool: str) -> AbstractContextManager[None]:
        """Mutual exclusion for scheduling one account's pool, across processes."""
    def sweep(self, now: float, limit: int = 1000) -> int:
        """Delete up to `limit` tasks expired at `now` (emulated) and idle rate windows."""
    def created_tasks(self, vendor: str, account: str, since: float, until: float) -> list[Task]:
        """The account's tasks created in [since, until), newest first (task lists)."""
    def task_schedules(self, vendor: str | None = None, account: str | None = None
                       ) -> list[Task]:
        """Every task (of a vendor, of an account), newest first, without `request` and
        `data` (listings of thousands: the dashboard)."""
    def write_count(self) -> int:
        """A number that changes whenever this store (any instance on it) writes a task or is
        cleared: listings cache on it."""

    # --- records and meta -----------------------------------------------------------------
    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None: ...
    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...
    def list_records(self, kind: str) -> list[dict[str, Any]]: ...
    def delete_record(self, kind: str, record_id: str) -> bool: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    # --- counters and the shared state row -----------------------------------------------
    def counter_add(self, name: str, delta: int = 1) -> int: ...
    def counter_get(self, name: str) -> int: ...
    def counter_take(self, name: str) -> bool:
        """Decrement the counter if it is positive; False when it was not."""
    def state(self) -> dict[str, float]: ...
    def poll_state(self, known_version: float) -> dict[str, float] | None:
        """The state row if its version differs from `known_version`, else None (cheap)."""
    def state_add(self, field: str, delta: float) -> dict[str, float]:
        """Add `delta` to one field and bump the version, atomically; the new row."""

    # --- limits, journal, due queues ------------------------------------------------------
    def rate_hit(self, key: str, per_second: float, now: float) -> bool:
        """Record a hit in `key`'s sliding one-second window if it fits; whether it did."""
    def journal_add(self, doc: str, size: int, max_entries: int, max_bytes: int) -> int:
        """Append one entry (JSON text of `size` bytes), drop the oldest beyond either bound;
        the new entry's id (increasing)."""
    def journal_extend(self, entries: list[tuple[str, int]], max_entries: int, max_bytes: int
                       ) -> None:
        """`journal_add` for a batch, in one transaction or round trip."""
    def journal_entries(self, limit: int | None = None) -> list[tuple[int, str]]:
        """(id, JSON text), newest first."""
    def due_put(self, queue: str, item_id: str, due_at: float) -> None:
        """Schedule (or reschedule, dropping any lease) an item at emulated time `due_at`."""
    def due_remove(self, queue: str, item_id: str) -> None: ...
    def due_claim(self, queue: str, now: float, owner: str, lease_until: float, limit: int
                  ) -> list[str]:
        """Atomically lease up to `limit` items due at `now` whose lease (wall time) ran out."""
    def due_next(self, queue: str, wall_now: float) -> float | None:
        """The earliest due time among items nobody holds a live lease on."""
    def due_count(self, queue: str, now: float) -> int:
        """Items due at `now`, leased or not."""

    def clear(self) -> None:
        """Forget everything except the state row, which moves to: offset 0, a new reset
        epoch and fault version (so every instance notices and resets its local caches)."""
    def close(self) -> None: ...


def new_state(previous: dict[str, float] | None, origin: float) -> dict[str, Any]:
    """The state row after a reset (or for a new store): offset 0, everything else moved on."""
    old = previous or {}
    return {"v": int(old.get("v", 0)) + 1, "clock_origin": old.get("clock_origin", origin),
            "clock_offset": 0.0, "faults": int(old.get("faults", 0)) + 1,
            "epoch": int(old.get("epoch", 0)) + 1}
