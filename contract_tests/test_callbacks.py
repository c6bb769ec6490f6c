"""Callbacks (AceData, gpt.ge): the receiver gets exactly one documented payload per finished
task, equal to what a poll of the finished task says."""
from __future__ import annotations

import uuid

import pytest

from contract_tests.adapters.base import Adapter
from contract_tests.checks import Expect
from contract_tests.lifecycle import wait_for_end
from contract_tests.receiver import Delivery, Receiver
from contract_tests.targets import Exchange

MOCK_WAIT, LIVE_WAIT = 10.0, 120.0  # real seconds for a delivery after the task ended


@pytest.mark.billable
def test_a_finished_task_calls_back_once_with_the_documented_body(
        adapter: Adapter, receiver: Receiver) -> None:
    if not adapter.callbacks:
        pytest.skip(f"{adapter.vendor} documents no callbacks")
    creds = adapter.credentials("A")
    assert creds is not None
    adapter.target.budget.spend()
    token = uuid.uuid4().hex
    ex = adapter.submit(creds, adapter.with_callback(adapter.example_body(), receiver.url(token)))
    adapter.verify(adapter.submit_op, ex, Expect(status=adapter.accepted_status))
    task_id = adapter.task_id(ex)
    assert task_id is not None
    final = wait_for_end(adapter, creds, task_id)
    assert final is not None, "the task did not finish in time"
    if adapter.target.is_mock:
        adapter.target.drain_callbacks()
    deliveries = receiver.wait(token, MOCK_WAIT if adapter.target.is_mock else LIVE_WAIT)
    spec = adapter.spec(adapter.submit_op)
    if len(deliveries) != 1:
        adapter.fail("callback", "callback_delivered",
                     f"{len(deliveries)} callbacks for one finished task (expected 1)", final)
    delivery = deliveries[0]
    payload = delivery.json
    assert spec.callback_schema is not None
    error = adapter.schemas.first_error(spec.callback_schema, payload)
    if error is not None:
        adapter.fail("callback", "callback_schema",
                     f"callback body does not match {spec.callback_schema}: {error.json_path}: "
                     f"{error.message}", _as_exchange(receiver, delivery))
    if not adapter.callback_matches(final, payload):
        adapter.fail("callback", "callback_body",
                     "callback body differs from the finished task's documented result",
                     _as_exchange(receiver, delivery))
    adapter.passed("callback", "callback_body")


@pytest.mark.billable
def test_a_blocking_call_answers_the_finished_task(adapter: Adapter) -> None:
    if not adapter.blocking:
        pytest.skip(f"{adapter.vendor} documents no blocking submit")
    ex = adapter.submit_blocking()
    adapter.verify(adapter.submit_op, ex, Expect(status=200, schemas=adapter.blocking_schemas))


def _as_exchange(receiver: Receiver, delivery: Delivery) -> Exchange:
    """A callback as an exchange: the request the vendor sent to the kit's receiver."""
    return Exchange("POST", f"{receiver.base_url}{delivery.path}", delivery.headers,
                    delivery.body, 0, {}, b"")
