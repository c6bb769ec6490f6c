"""Every fault effect against AceData headshots over raw HTTP, including failed callback
deliveries (against a real receiver on 127.0.0.1)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.features.faults import ConnectionDropped
from mockserver.testing import CallbackReceiver

pytestmark = pytest.mark.anyio

GENERATE, TASKS = "/headshots/generate", "/headshots/tasks"
ALICE = {"authorization": "Bearer alice"}
BOB = {"authorization": "Bearer bob"}
ASYNC = {"mode": "fast", "template": "male_portrait", "async": True,
         "image_urls": ["https://cdn.example.com/portrait.jpg"]}


async def add_fault(mock, **rule: Any) -> dict[str, Any]:
    answer = await mock.client.post("/__admin/faults", json={"vendor": "acedata", **rule})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def submit(mock, headers: dict[str, str] = ALICE, body: dict[str, Any] = ASYNC) -> str:
    answer = await mock.client.post(GENERATE, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["task_id"]


async def record(mock, task_id: str, headers: dict[str, str] = ALICE) -> dict[str, Any]:
    answer = await mock.client.post(TASKS, json={"action": "retrieve", "id": task_id},
                                    headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize(("code", "http_status"), [
    ("api_error", 500), ("too_many_requests", 429), ("used_up", 403), ("timeout", 504),
    ("token_mismatched", 400),
])
async def test_error_answers_in_the_acedata_envelope(mock, code: str, http_status: int) -> None:
    await add_fault(mock, effect="error", code=code, operation="generate")
    answer = await mock.client.post(GENERATE, json=ASYNC, headers=ALICE)
    assert answer.status_code == http_status
    body = answer.json()
    assert body["success"] is False and body["error"]["code"] == code and body["trace_id"]
    assert (await mock.client.post("/__admin/requests/count",
                                   json={"vendor": "acedata", "injected": True})).json()["count"] == 1


async def test_fail_task_shows_in_the_record_and_the_blocking_answer(mock) -> None:
    await add_fault(mock, effect="fail_task", code="api_error", message="upstream timeout",
                    account="alice")
    failing, healthy = await submit(mock), await submit(mock, BOB)
    await mock.advance(61)
    failed = (await record(mock, failing))["response"]
    assert failed["success"] is False
    assert failed["error"] == {"code": "api_error", "message": "upstream timeout"}
    assert (await record(mock, healthy, BOB))["response"]["success"] is True


async def test_stall_keeps_the_record_pending_until_the_rule_goes(mock) -> None:
    rule = await add_fault(mock, effect="stall", body={"template": "male_portrait"})
    task_id = await submit(mock)
    await mock.advance(3600)
    assert "finished_at" not in await record(mock, task_id)
    await mock.client.delete(f"/__admin/faults/{rule['id']}")
    await mock.advance(61)
    assert (await record(mock, task_id))["response"]["success"] is True


async def test_latency_and_drop(mock) -> None:
    await add_fault(mock, effect="latency", latency=0.2, operation="tasks", times=1)
    await add_fault(mock, effect="drop", operation="generate", times=1)
    with pytest.raises((httpx.TransportError, ConnectionDropped)):
        await mock.client.post(GENERATE, json=ASYNC, headers=ALICE)
    task_id = await submit(mock)
    started = time.perf_counter()
    await record(mock, task_id)
    assert time.perf_counter() - started >= 0.2
    entries = (await mock.client.get("/__admin/requests",
                                     params={"vendor": "acedata", "injected": "true"})).json()
    assert [(e["operation"], e["status"]) for e in entries["requests"]] == [
        ("tasks", 200), ("generate", 0)]


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


async def deliveries(mock, task_id: str) -> dict[str, Any]:
    await mock.client.post("/__admin/callbacks/drain")
    listed = (await mock.client.get("/__admin/callbacks", params={"task_id": task_id})).json()
    return listed["callbacks"][0]


async def test_callback_deliveries_fail_as_injected_then_retry_through(mock, receiver) -> None:
    await add_fault(mock, effect="callback_fail", account="alice", times=2)
    task_id = await submit(mock, body={**ASYNC, "callback_url": receiver.url})
    await mock.advance(61)
    first = await deliveries(mock, task_id)
    assert first["status"] == "pending" and first["attempts"][0]["injected"] is True
    assert "injected delivery failure" in first["attempts"][0]["error"]
    await mock.advance(10)  # the dispatcher's first backoff
    await deliveries(mock, task_id)
    await mock.advance(20)
    done = await deliveries(mock, task_id)
    assert done["status"] == "delivered"
    assert [a.get("injected", False) for a in done["attempts"]] == [True, True, False]
    assert len(receiver.bodies) == 1 and receiver.bodies[0]["task_id"] == task_id


async def test_callback_fail_rule_takes_no_operation(mock) -> None:
    answer = await mock.client.post("/__admin/faults", json={
        "vendor": "acedata", "effect": "callback_fail", "operation": "generate"})
    assert answer.status_code == 400 and "not 'operation'" in answer.json()["error"]
