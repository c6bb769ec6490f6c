"""The one mechanism for the work a vendor does on a task's inputs once it has accepted it:
download, decode, judge the photos (and, for some vendors, render the result).

A vendor gives a `verdict(task)` coroutine; `InputChecks` runs it once per task in the
background from submit (or inline, for a vendor that judges before it answers), lets a query
wait for it (so a task never shows success and later failure), and stores the verdict with the
task, so it survives a restart: a task whose check never finished is checked again on its next
query. A failed verdict fails the task (an injected failure wins) and may shorten its run.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .image_fetch import fetch_account
from .store import Store
from .tasks import Task

PENDING, CHECKED = "pending", "checked"
PROBLEM_KEY = "input_problem"  # task data: why the inputs failed the task (for journals, UIs)


@dataclass(frozen=True)
class Verdict:
    failure: tuple[str, str] | None = None  # (error code, message) that fails the task
    data: dict[str, Any] = field(default_factory=dict)  # facts to keep with the task
    detail: str = ""  # why it failed, in the mock's words (never shown to the client)
    run_seconds: float | None = None  # a failed task may end sooner than it would have run


def mark_pending(data: dict[str, Any]) -> dict[str, Any]:
    """Task data for a task whose inputs still have to be checked."""
    return {**data, "inputs": PENDING}


def needs_check(task: Task) -> bool:
    return task.data.get("inputs") == PENDING


class InputChecks:
    def __init__(self, store: Store, verdict: Callable[[Task], Awaitable[Verdict]]) -> None:
        self._store = store
        self._verdict = verdict
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(self, task: Task) -> None:
        """Begin checking in the background so the first query rarely has to wait."""
        if needs_check(task) and task.id not in self._running:
            job = asyncio.get_running_loop().create_task(self._check(task.id))
            self._running[task.id] = job
            job.add_done_callback(lambda _: self._running.pop(task.id, None))

    async def settled(self, task: Task) -> Task:
        """The task once its inputs have been checked (checking them now if nobody has)."""
        if not needs_check(task):
            return task
        self.start(task)
        await asyncio.shield(self._running[task.id])
        return self._store.get_task(task.id) or task

    async def _check(self, task_id: str) -> None:
        task = self._store.get_task(task_id)
        if task is None:
            return
        fetch_account.set(task.account)  # its downloads use the account's share of the pool
        verdict = await self._verdict(task)
        task = self._store.get_task(task_id) or task  # reload: a cancel may have landed meanwhile
        if verdict.failure and task.outcome == "succeeded":  # an injected failure wins
            task.outcome = "failed"
            task.error_code, task.error_message = verdict.failure
            task.data[PROBLEM_KEY] = verdict.detail or verdict.failure[1]
            if verdict.run_seconds is not None and task.start_at is not None:
                task.end_at = task.start_at + verdict.run_seconds
        task.data.update(verdict.data, inputs=CHECKED)
        self._store.put_task(task)

    def reset(self) -> None:
        """Forget checks in flight (the emulator was reset; their tasks are gone)."""
        for job in self._running.values():
            job.cancel()
        self._running.clear()

    async def close(self) -> None:
        jobs = list(self._running.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
