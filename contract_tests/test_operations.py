"""Every documented operation, with valid requests drawn from the request schemas, answers with
a documented status and a body that matches the schema documented for it."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from contract_tests.adapters.base import Adapter
from contract_tests.checks import Expect


def test_the_adapter_exercises_every_documented_operation(adapter: Adapter) -> None:
    covered = {adapter.submit_op, adapter.poll_op, adapter.cancel_op} | adapter.other_operations()
    missing = sorted(set(adapter.operations) - covered)
    assert not missing, f"{adapter.vendor}: no contract test exercises {missing}"


@pytest.mark.billable
def test_valid_submissions_are_accepted_and_pollable(adapter: Adapter,
                                                     hypothesis_profile: settings) -> None:
    @hypothesis_profile
    @given(body=adapter.submit_bodies())
    def submit_then_poll(body: object) -> None:
        adapter.target.budget.spend()
        creds = adapter.credentials("A")
        assert creds is not None
        accepted = adapter.submit(creds, body)
        adapter.verify(adapter.submit_op, accepted, Expect(status=adapter.accepted_status))
        task_id = adapter.task_id(accepted)
        if task_id is None:
            adapter.fail(adapter.submit_op, "task_id", "an accepted submission names no task",
                         accepted)
        assert task_id is not None
        polled = adapter.poll(creds, task_id)
        adapter.verify(adapter.poll_op, polled)
        if adapter.invisible(polled):
            adapter.fail(adapter.poll_op, "own_task_visible",
                         "a task just created is unknown to its own account", polled)

    submit_then_poll()


def test_other_operations_answer_as_documented(adapter: Adapter) -> None:
    """Operations beyond submit/poll/cancel (batch queries and the like), where the adapter
    knows how to call them without creating a task."""
    for operation in sorted(adapter.other_operations()):
        ex = adapter.call_other(operation)
        adapter.verify(operation, ex)
