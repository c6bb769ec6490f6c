"""Task engine: a task's state is derived from the emulated clock and its schedule.

A task is queued, starts at `start_at` (after its queue time and after the account's earlier
tasks free a slot), runs until `end_at`, then holds its predetermined outcome until it expires.
Nothing has to tick in the background: advancing the clock moves every task at once.
"""
from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from .clock import Clock


class State(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self not in (State.QUEUED, State.RUNNING)


@dataclass
class Task:
    id: str
    vendor: str
    account: str
    pool: str  # tasks in one pool share the account's concurrency slots
    created_at: float
    queue_seconds: float
    run_seconds: float
    ttl_seconds: float  # how long a finished task stays queryable
    start_at: float | None = None  # None: stalled in the queue (fault injection)
    end_at: float | None = None
    outcome: str = "succeeded"  # or "failed"
    error_code: str | None = None
    error_message: str | None = None
    canceled_at: float | None = None
    request: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def state_at(self, now: float) -> State:
        if self.canceled_at is not None:
            return State.EXPIRED if now >= self.canceled_at + self.ttl_seconds else State.CANCELED
        if self.start_at is None or now < self.start_at:
            return State.QUEUED
        assert self.end_at is not None
        if now < self.end_at:
            return State.RUNNING
        if now >= self.end_at + self.ttl_seconds:
            return State.EXPIRED
        return State.SUCCEEDED if self.outcome == "succeeded" else State.FAILED

    def progress_at(self, now: float) -> float:
        """Fraction of the run completed, 0.0 to 1.0."""
        if self.start_at is None or self.end_at is None or now <= self.start_at:
            return 0.0
        if now >= self.end_at or self.end_at == self.start_at:
            return 1.0
        return (now - self.start_at) / (self.end_at - self.start_at)

    def occupies_slot(self, now: float) -> bool:
        """True while the task holds or waits for one of the account's concurrency slots."""
        if self.canceled_at is not None or self.start_at is None:
            return False
        return self.end_at is not None and self.end_at > now

    # --- the facts stores index, so scheduling questions never decode tasks ----------------

    @property
    def slot_end(self) -> float | None:
        """When the task frees its concurrency slot (None: it holds or waits for none)."""
        return self.end_at if self.canceled_at is None and self.start_at is not None else None

    @property
    def wait_until(self) -> float | None:
        """Until when the task counts as queued: its start, STALLED for a task without one,
        None for a canceled task (never queued again)."""
        if self.canceled_at is not None:
            return None
        return STALLED if self.start_at is None else self.start_at

    @property
    def expires_at(self) -> float | None:
        """When the task becomes EXPIRED and may be swept (None: not before it ends)."""
        if self.canceled_at is not None:
            return self.canceled_at + self.ttl_seconds
        return None if self.end_at is None else self.end_at + self.ttl_seconds

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict of the fields (no `dataclasses.asdict`: it deep-copies, slowly)."""
        return {name: getattr(self, name) for name in TASK_FIELDS}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Task:
        return cls(**doc)


TASK_FIELDS = tuple(f.name for f in fields(Task))
STALLED = 1e300  # `wait_until` of a task with no start yet: queued until released


class TaskStore(Protocol):
    def put_task(self, task: Task) -> None: ...
    def get_task(self, task_id: str) -> Task | None: ...
    def busy_end(self, vendor: str, account: str, pool: str, now: float, slots: int
                 ) -> float | None: ...
    def waiting_tasks(self, vendor: str, account: str, pool: str, now: float) -> list[Task]: ...
    def account_lock(self, vendor: str, account: str, pool: str) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class Timing:
    queue_seconds: float
    run_seconds: float
    ttl_seconds: float
    concurrency: int | None  # None: unlimited


# Called with each new task (already scheduled) and its timing, before it is stored. A hook may
# set the outcome, stall the task (start_at = end_at = None) or raise VendorError to refuse it.
CreationHook = Callable[[Task, Timing], None]


class TaskEngine:
    """Creates, schedules and cancels tasks; vendors render `Task.state_at()` in their words."""

    def __init__(self, clock: Clock, store: TaskStore) -> None:
        self.clock = clock
        self.store = store
        self.creation_hooks: list[CreationHook] = []

    def create(
        self,
        *,
        task_id: str,
        vendor: str,
        account: str,
        pool: str,
        timing: Timing,
        request: dict[str, Any],
        data: dict[str, Any] | None = None,
        outcome: str = "succeeded",
        error: tuple[str, str] | None = None,
        stalled: bool = False,
    ) -> Task:
        now = self.clock.now()
        task = Task(
            id=task_id,
            vendor=vendor,
            account=account,
            pool=pool,
            created_at=now,
            queue_seconds=timing.queue_seconds,
            run_seconds=timing.run_seconds,
            ttl_seconds=timing.ttl_seconds,
            outcome="failed" if error else outcome,
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
            request=request,
            data=data or {},
        )
        # One scheduler at a time per account, across every worker and instance: two
        # concurrent submits must not both take the same free slot.
        with self.store.account_lock(vendor, account, pool):
            if not stalled:
                self._schedule(task, self._busy_until(task, timing.concurrency, now), now)
            for hook in self.creation_hooks:
                hook(task, timing)
            self.store.put_task(task)
        return task

    def _busy_until(self, task: Task, concurrency: int | None, now: float) -> list[float]:
        """FIFO with N slots: the new task gets the slot that frees first among the N busiest
        (the store keeps the account's slot ends indexed)."""
        if concurrency is None:
            return []
        end = self.store.busy_end(task.vendor, task.account, task.pool, now, concurrency)
        return [] if end is None else [end]

    @staticmethod
    def _schedule(task: Task, busy: list[float], now: float) -> None:
        ready = max(now, task.created_at + task.queue_seconds)
        task.start_at = max([ready, *busy])
        task.end_at = task.start_at + task.run_seconds

    def cancel(self, task: Task, concurrency: int | None) -> None:
        """Cancel a queued task and let the account's later queued tasks move up."""
        with self.store.account_lock(task.vendor, task.account, task.pool):
            now = self.clock.now()
            task.canceled_at = now
            self.store.put_task(task)
            self._reschedule_waiting(task, concurrency, now)

    def _reschedule_waiting(self, freed: Task, concurrency: int | None, now: float) -> None:
        waiting = self.store.waiting_tasks(freed.vendor, freed.account, freed.pool, now)
        for task in waiting:  # leave the slot computation first, then queue again in order
            task.start_at = task.end_at = None
            self.store.put_task(task)
        for task in sorted(waiting, key=lambda t: t.created_at):
            self._schedule(task, self._busy_until(task, concurrency, now), now)
            self.store.put_task(task)

    def release(self, task: Task, concurrency: int | None) -> None:
        """Schedule a stalled task now (used when a stall fault is lifted)."""
        with self.store.account_lock(task.vendor, task.account, task.pool):
            now = self.clock.now()
            self._schedule(task, self._busy_until(task, concurrency, now), now)
            self.store.put_task(task)


STALL_POLL_SECONDS = 1.0  # how often a blocked call looks again at a task with no end yet


async def wait_for_end(clock: Clock, store: TaskStore, task_id: str, real_limit: float) -> Task | None:
    """The one blocking wait of every vendor that can answer a call with the finished task.

    Returns the task once it has ended on the emulated clock (an advance ends the wait at once),
    or as it is when `real_limit` real seconds ran out; None if the task vanished (a reset).
    A task stalled by a fault has no end time: it is looked at again every second.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + real_limit
    while True:
        task = store.get_task(task_id)
        if task is None or task.state_at(clock.now()).terminal:
            return task
        budget = give_up - loop.time()
        if budget <= 0:
            return task
        if task.end_at is None:
            await clock.sleep_until(clock.now() + STALL_POLL_SECONDS * clock.scale,
                                    real_limit=min(budget, STALL_POLL_SECONDS))
        else:
            await clock.sleep_until(task.end_at, real_limit=budget)
