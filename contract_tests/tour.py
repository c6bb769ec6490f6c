"""The state tour: every documented state of a vendor observed and checked, once per run.

The state machine (`lifecycle.py`) explores at random and may miss a short state; the tour
does not. On a mock it walks three tasks through their lives by moving the mock's clock in
small, growing steps and polling after each: one that succeeds (queued, running, succeeded,
then expired after days), one whose input the vendor documents as failing (failed), one
canceled at once (canceled, where the vendor can cancel), and an id nobody created (unknown).
Every answer goes through all checks and the transition rules, and each read path (retrieve,
batch, list) is asked as another account, which must see nothing. Nothing here learns the
mock's timings: it steps until the vendor's own words say the task moved on.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .adapters.base import Adapter, Credentials
from .checks import Expect
from .lifecycle import (
    LINGER_SECONDS,
    accepted_task,
    check_batch_isolation,
    check_list_isolation,
    check_poll_isolation,
    check_state,
)
from .targets import Exchange

# 0.1 s, then 25 % longer each time: a state is seen if it lasts longer than about a quarter
# of the time the task has already lived (gpt.ge's 0.8 s run after 0.2 s in the queue is).
FIRST_STEP, GROWTH, MAX_STEPS = 0.1, 1.25, 60
DAY = 86_400.0
EXPIRY_STEPS = (DAY, DAY, 2 * DAY, 4 * DAY, 8 * DAY, 16 * DAY, 32 * DAY)
LIVE_POLL_EVERY, LIVE_WAIT = 5.0, 300.0
TOUR_TASKS = 3
STEP_KINDS = ("queued", "running", "succeeded", "failed", "canceled")


@dataclass
class Tour:
    adapter: Adapter
    owner: Credentials
    other: Credentials | None
    kinds: set[str] = field(default_factory=set)  # kinds of state this tour observed
    seen: dict[str, str] = field(default_factory=dict)  # task -> last state
    last: Exchange | None = None  # the latest poll, for findings about it

    # --- the walk -----------------------------------------------------------------------------

    def run(self) -> set[str]:
        adapter = self.adapter
        done = self.submit(adapter.example_body())
        self.isolated(done)
        self.until_terminal(done)
        self.after_a_while(done)
        failing = adapter.failing_body()
        if failing is not None:
            self.until_terminal(self.submit(failing))
        if adapter.cancel_op is not None:
            self.cancel_at_once(self.submit(adapter.example_body()))
        self.unknown_id()
        if adapter.target.is_mock:
            self.expire(done)
        return self.kinds

    def submit(self, body: Any) -> str:
        adapter = self.adapter
        adapter.target.budget.spend()
        ex = adapter.submit(self.owner, body)
        adapter.verify(adapter.submit_op, ex, Expect(status=adapter.accepted_status))
        task = accepted_task(adapter, ex)
        if adapter.state(ex) is not None:
            self.note(adapter.submit_op, task, ex)
        self.poll(task)
        return task

    def isolated(self, task: str) -> None:
        """Another account sees nothing of `task` on any read path; the owner's list does."""
        adapter = self.adapter
        if self.other is not None:
            check_poll_isolation(adapter, self.other, task)
            if adapter.supports_batch:
                check_batch_isolation(adapter, self.other, [task])
            if adapter.supports_list:
                check_list_isolation(adapter, self.other, {task})
        if adapter.supports_batch:
            unknown = adapter.unknown_task_id()
            ex = adapter.poll_many(self.owner, [task, unknown])
            adapter.verify(adapter.poll_op, ex)
            listed = set(adapter.batch_records(ex))
            if listed != {task}:
                adapter.fail(adapter.poll_op, "batch", "a batch query of one own task and one "
                             "unknown id did not list exactly the own task", ex,
                             expected=f"records for [{task}]", got=f"records for {sorted(listed)}")
            adapter.passed(adapter.poll_op, "batch")
        if adapter.supports_list and adapter.list_op is not None:
            ex = adapter.list_tasks(self.owner)
            adapter.verify(adapter.list_op, ex)
            if task not in adapter.listed_ids(ex):
                adapter.fail(adapter.list_op, "own_task_visible", "a task just created is "
                             "missing from its own account's list", ex,
                             expected=f"{task} in the account's list", got="not listed")
            adapter.passed(adapter.list_op, "own_task_visible")

    def until_terminal(self, task: str) -> str:
        """Poll after each clock step until the task ends; its states on the way are noted."""
        state = self.seen.get(task)
        for _ in self.steps():
            if state is not None and self.adapter.terminal(state):
                return state
            state = self.poll(task)
        assert self.last is not None
        self.adapter.fail(self.adapter.poll_op, "task_ends", "the task did not end", self.last,
                          expected="a terminal state once the documented run time is over",
                          got=f"still {state!r}")
        raise AssertionError("unreachable")

    def after_a_while(self, task: str) -> None:
        """A finished task stays as it was (no regression), a minute later."""
        if self.adapter.target.is_mock:
            self.adapter.target.advance(LINGER_SECONDS)
        self.poll(task)

    def cancel_at_once(self, task: str) -> None:
        adapter = self.adapter
        assert adapter.cancel_op is not None
        before = self.seen.get(task)
        ex = adapter.cancel(self.owner, task)
        adapter.verify(adapter.cancel_op, ex)
        if not adapter.cancel_acknowledged(ex) and before in adapter.cancelable_states:
            adapter.fail(adapter.cancel_op, "cancel_refused_wrongly", "cancel was refused "
                         f"while the task was still {before}", ex,
                         expected=f"cancel accepted in {sorted(adapter.cancelable_states)}",
                         got=f"refused while {before}")
        state = self.poll(task)
        if adapter.cancel_acknowledged(ex) and state != adapter.canceled_state:
            assert self.last is not None
            adapter.fail(adapter.cancel_op, "cancel_takes_effect", "cancel was acknowledged "
                         f"but the task is then {state}", self.last,
                         expected=str(adapter.canceled_state), got=str(state))
        adapter.passed(adapter.cancel_op, "cancel_semantics")
        self.after_a_while(task)

    def unknown_id(self) -> None:
        adapter = self.adapter
        ex = adapter.poll(self.owner, adapter.unknown_task_id())
        adapter.verify(adapter.poll_op, ex)
        state = adapter.state(ex)
        if adapter.invisible(ex) and state in adapter.state_kinds.get("unknown", ()):
            self.kinds.add("unknown")

    def expire(self, task: str) -> None:
        """Days pass: the finished task ends up in the vendor's expired answer."""
        expired = self.adapter.state_kinds.get("expired", frozenset())
        for step in EXPIRY_STEPS:
            self.adapter.target.advance(step)
            if self.poll(task) in expired:
                self.kinds.add("expired")
                return

    # --- observing ----------------------------------------------------------------------------

    def poll(self, task: str) -> str | None:
        adapter = self.adapter
        ex = adapter.poll(self.owner, task)
        adapter.verify(adapter.poll_op, ex)
        self.note(adapter.poll_op, task, ex)
        return self.seen.get(task)

    def note(self, operation: str, task: str, ex: Exchange) -> None:
        adapter = self.adapter
        state = adapter.state(ex)
        check_state(adapter, operation, self.seen.get(task), state, adapter.has_results(ex), ex)
        assert state is not None
        self.seen[task], self.last = state, ex
        self.kinds |= {k for k in STEP_KINDS if state in adapter.state_kinds.get(k, ())}

    def steps(self) -> Iterator[None]:
        target = self.adapter.target
        if target.is_mock:
            step = FIRST_STEP
            for _ in range(MAX_STEPS):
                yield
                target.advance(round(step, 3))
                step *= GROWTH
            yield
            return
        deadline = time.monotonic() + LIVE_WAIT
        while time.monotonic() < deadline:
            yield
            time.sleep(LIVE_POLL_EVERY)
        yield


def missing_kinds(adapter: Adapter, kinds: set[str]) -> list[str]:
    return [kind for kind in adapter.state_kinds if kind not in kinds]
