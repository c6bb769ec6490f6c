"""Task lifecycles as a Hypothesis state machine, the same for every vendor.

Rules submit, poll, cancel, poll as another account and (on a mock) advance the clock. After
every answer the machine checks what the vendor documents: states come from its vocabulary and
only follow documented transitions, terminal states stay terminal, results appear exactly in the
done states, an acknowledged cancel shows as canceled, a refused one only when the task could no
longer be canceled, and another account never sees the task.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

from .adapters.base import Adapter, Credentials
from .checks import Expect
from .targets import Exchange, Target

# Small steps see every state; the day-long jump lets tasks expire (where documented).
CLOCK_STEPS = st.sampled_from([0.5, 1.0, 3.0, 10.0, 40.0, 90_000.0])
# Waiting for a task to end: growing clock steps on a mock, polls within a time budget live.
MOCK_WAIT_STEPS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
LIVE_WAIT_SECONDS, LIVE_POLL_EVERY = 300.0, 5.0
LINGER_SECONDS = 60.0  # well inside every vendor's retention, well past any queue or run
# Tasks one machine run may create: each costs the mock a real image check (and gpt.ge a real
# rendering); polls, cancels and clock moves on a few tasks find the lifecycle drifts.
MAX_TASKS = 4


def machine_for(adapter: Adapter) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one vendor's adapter."""

    class Lifecycle(RuleBasedStateMachine):
        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            self.owner = adapter.credentials("A")
            self.other = adapter.credentials("B")
            self.seen: dict[str, str] = {}
            self.created = 0

        @precondition(lambda self: self.created < MAX_TASKS)
        @rule(target=tasks, body=adapter.lifecycle_bodies())
        def submit(self, body: Any) -> Any:
            if not adapter.target.budget.allows() or self.owner is None:
                return multiple()
            adapter.target.budget.spend()
            self.created += 1
            ex = adapter.submit(self.owner, body)  # refusals under load are waited out
            adapter.verify(adapter.submit_op, ex, Expect(status=adapter.accepted_status))
            task_id = accepted_task(adapter, ex)
            if adapter.state(ex) is not None:
                self.observe(adapter.submit_op, task_id, ex)
            return task_id

        @rule(task=tasks)
        def poll(self, task: str) -> None:
            self.observe(adapter.poll_op, task, self.polled(task))

        @precondition(lambda self: adapter.cancel_op is not None)
        @rule(task=tasks)
        def cancel(self, task: str) -> None:
            assert adapter.cancel_op is not None and self.owner is not None
            ex = adapter.cancel(self.owner, task)
            adapter.verify(adapter.cancel_op, ex)
            after = self.polled(task)
            state = adapter.state(after)
            if 200 <= ex.status < 300 and adapter.cancel_acknowledged(ex) \
                    and state != adapter.canceled_state:
                adapter.fail(adapter.cancel_op, "cancel_takes_effect",
                             f"cancel was acknowledged but the task is then {state}", after,
                             expected=f"the task {adapter.canceled_state} after an "
                                      "acknowledged cancel", got=f"task state {state}")
            if not adapter.cancel_acknowledged(ex) and state in adapter.cancelable_states:
                adapter.fail(adapter.cancel_op, "cancel_refused_wrongly",
                             f"cancel was refused while the task was still {state}", ex,
                             expected="cancel accepted in states "
                                      f"{sorted(adapter.cancelable_states)}",
                             got=f"refused while {state}")
            adapter.passed(adapter.cancel_op, "cancel_semantics")
            self.observe(adapter.poll_op, task, after)
            if state == adapter.canceled_state:  # and it stays canceled as time goes on
                self.linger()
                self.observe(adapter.poll_op, task, self.polled(task))

        def linger(self) -> None:
            """Let time pass before looking again at a task that should not move any more."""
            if adapter.target.is_mock:
                adapter.target.advance(LINGER_SECONDS)

        @rule(task=tasks)
        def wait_until_it_ends(self, task: str) -> None:
            """Poll until the task reaches a terminal state, then once more: it must stay."""
            assert self.owner is not None
            final = wait_for_end(adapter, self.owner, task,
                                 lambda ex: self.observe(adapter.poll_op, task, ex))
            if final is not None:
                self.linger()
                self.observe(adapter.poll_op, task, self.polled(task))

        @precondition(lambda self: adapter.supports_batch and self.seen)
        @rule()
        def poll_all_at_once(self) -> None:
            """A batch query lists exactly the account's own tasks it asked for."""
            assert self.owner is not None
            unknown = adapter.unknown_task_id()
            ex = adapter.poll_many(self.owner, [*self.seen, unknown])
            adapter.verify(adapter.poll_op, ex)
            records = adapter.batch_records(ex)
            if set(records) - set(self.seen):
                adapter.fail(adapter.poll_op, "batch", "a batch answer lists ids nobody asked "
                             "for or that do not exist", ex,
                             expected="only the account's own ids that were asked for",
                             got=f"ids {sorted(set(records) - set(self.seen))}")
            for task, record in records.items():
                state = adapter.record_state(record)
                self.check(adapter.poll_op, task, state, adapter.record_has_results(record), ex)
                adapter.observed(state)
            if self.other is not None:
                check_batch_isolation(adapter, self.other, list(self.seen))

        @precondition(lambda self: adapter.supports_list and self.seen)
        @rule()
        def list_as_another_account(self) -> None:
            """The task list of another account never shows this account's tasks."""
            if self.other is not None:
                check_list_isolation(adapter, self.other, set(self.seen))

        @precondition(lambda self: adapter.target.is_mock)
        @rule(seconds=CLOCK_STEPS)
        def advance(self, seconds: float) -> None:
            adapter.target.advance(seconds)

        @rule(task=tasks)
        def poll_as_another_account(self, task: str) -> None:
            if self.other is not None:
                check_poll_isolation(adapter, self.other, task)

        def polled(self, task: str) -> Exchange:
            assert self.owner is not None
            ex = adapter.poll(self.owner, task)
            adapter.verify(adapter.poll_op, ex)
            return ex

        def observe(self, operation: str, task: str, ex: Exchange) -> None:
            self.check(operation, task, adapter.state(ex), adapter.has_results(ex), ex)

        def check(self, operation: str, task: str, state: str | None, results: bool,
                  ex: Exchange) -> None:
            check_state(adapter, operation, self.seen.get(task), state, results, ex)
            assert state is not None
            self.seen[task] = state

    Lifecycle.__name__ = f"{type(adapter).__name__}Lifecycle"
    return Lifecycle


def accepted_task(adapter: Adapter, ex: Exchange) -> str:
    """The task id of an accepted submission (a finding when it names none)."""
    task_id = adapter.task_id(ex)
    if task_id is None:
        adapter.fail(adapter.submit_op, "task_id", "an accepted submission names no task", ex,
                     expected="the task's id in the accepted answer", got="no task id")
    assert task_id is not None
    return task_id


def check_state(adapter: Adapter, operation: str, before: str | None, state: str | None,
                results: bool, ex: Exchange) -> None:
    """One observed state against the documented ones: in the vocabulary, reached by a
    documented transition from the state seen before, with results exactly when done."""
    problem, expected = None, ""
    if state is None:
        problem, expected = "the answer reports no task state", "a task state"
    elif state not in adapter.states:
        problem = f"state {state!r} is not in the documented vocabulary {sorted(adapter.states)}"
        expected = f"one of {sorted(adapter.states)}"
    elif before is not None and state != before and state not in adapter.transitions[before]:
        problem = f"{before} -> {state} is not a documented transition"
        expected = f"{before} -> one of {sorted(adapter.transitions[before]) or '(none)'}"
    elif results != (state in adapter.done_states):
        problem = f"results {'present' if results else 'missing'} in state {state}"
        expected = f"results exactly in {sorted(adapter.done_states)}"
    if problem is not None:
        adapter.fail(operation, "lifecycle", problem, ex, expected=expected,
                     got=f"state {state!r} after {before!r}, results {'yes' if results else 'no'}")
    adapter.passed(operation, "lifecycle")


def _leak(adapter: Adapter, operation: str, path: str, ex: Exchange, tasks: object) -> None:
    adapter.fail(operation, "account_isolation",
                 f"{path}: a task is visible to an account that did not create it", ex,
                 expected="another account's tasks look like missing ones",
                 got=f"{path} shows {tasks}")


def check_poll_isolation(adapter: Adapter, other: Credentials, task: str) -> None:
    ex = adapter.poll(other, task)
    adapter.verify(adapter.poll_op, ex)
    if not adapter.invisible(ex):
        _leak(adapter, adapter.poll_op, "retrieve", ex, task)
    adapter.passed(adapter.poll_op, "account_isolation")


def check_batch_isolation(adapter: Adapter, other: Credentials, tasks: list[str]) -> None:
    ex = adapter.poll_many(other, tasks)
    adapter.verify(adapter.poll_op, ex)
    leaked = sorted(set(adapter.batch_records(ex)) & set(tasks))
    if leaked:
        _leak(adapter, adapter.poll_op, "batch", ex, leaked)
    adapter.passed(adapter.poll_op, "account_isolation")


def check_list_isolation(adapter: Adapter, other: Credentials, tasks: set[str]) -> None:
    assert adapter.list_op is not None
    ex = adapter.list_tasks(other)
    adapter.verify(adapter.list_op, ex)
    leaked = sorted(adapter.listed_ids(ex) & tasks)
    if leaked:
        _leak(adapter, adapter.list_op, "list", ex, leaked)
    adapter.passed(adapter.list_op, "account_isolation")


def wait_for_end(adapter: Adapter, creds: Credentials, task: str,
                 seen: Callable[[Exchange], None] | None = None) -> Exchange | None:
    """Poll `task` until it is in a terminal state (the mock's clock is moved on in growing
    steps; a live vendor gets a time budget). Returns the final poll, or None on time-out."""
    for _ in _waits(adapter.target):
        ex = adapter.poll(creds, task)
        adapter.verify(adapter.poll_op, ex)
        if seen is not None:
            seen(ex)
        state = adapter.state(ex)
        if state is not None and adapter.terminal(state):
            return ex
    return None


def _waits(target: Target) -> Iterator[None]:
    if target.is_mock:
        for step in MOCK_WAIT_STEPS:
            yield
            target.advance(step)
        return
    deadline = time.monotonic() + LIVE_WAIT_SECONDS
    while time.monotonic() < deadline:
        yield
        time.sleep(LIVE_POLL_EVERY)
