"""Every fault effect against gpt.ge idphoto (multipart requests, PicWish negative states)."""
from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mockserver.features.faults import ConnectionDropped

pytestmark = pytest.mark.anyio

CREATE = "/task/pic/idphoto"
ALICE = {"Authorization": "Bearer sk-alice"}
BOB = {"Authorization": "Bearer sk-bob"}
SLOW = 60.0  # creating renders a real photo


async def add_fault(mock, **rule: Any) -> dict[str, Any]:
    answer = await mock.client.post("/__admin/faults", json={"vendor": "gptge", **rule})
    assert answer.status_code == 201, answer.text
    return answer.json()


def form(mock, **fields: str) -> dict[str, str]:
    return {"image_url": f"{mock.base_url}/__admin/fixtures/face.jpg", "size": "120x150", **fields}


async def post(mock, headers: dict[str, str] = ALICE, **fields: str) -> httpx.Response:
    # files= forces multipart/form-data, as the vendor requires
    return await mock.client.post(CREATE, data=form(mock, **fields), files={"_": ("", b"")},
                                  headers=headers, timeout=SLOW)


async def create(mock, headers: dict[str, str] = ALICE, **fields: str) -> str:
    answer = await post(mock, headers, **fields)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


async def query(mock, task_id: str, headers: dict[str, str] = ALICE) -> dict[str, Any]:
    answer = await mock.client.get(f"/task/{task_id}", headers=headers, timeout=SLOW)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


@pytest.mark.parametrize(("code", "status"), [("internal_error", 500), ("too_many_requests", 429),
                                              ("unauthorized", 401), ("file_too_large", 413)])
async def test_error_answers_in_the_status_message_envelope(mock, code: str, status: int) -> None:
    await add_fault(mock, effect="error", code=code, operation="idphoto")
    answer = await post(mock)
    assert answer.status_code == status
    body = answer.json()
    assert body["status"] == status and body["message"]


async def test_fail_task_with_the_processing_timeout_state(mock) -> None:
    await add_fault(mock, effect="fail_task", code="-8", account="sk-alice")
    failing, healthy = await create(mock), await create(mock, BOB)
    await mock.advance(5)
    failed = await query(mock, failing)
    assert (failed["state"], failed["state_detail"]) == (-8, "Timeout")
    assert (await query(mock, healthy, BOB))["state"] == 1


async def test_fail_task_codes_are_the_documented_states(mock) -> None:
    answer = await mock.client.post("/__admin/faults", json={
        "vendor": "gptge", "effect": "fail_task", "code": "-4"})
    assert answer.status_code == 400 and "not a gptge task failure code" in answer.json()["error"]


async def test_body_field_of_a_multipart_form_matches(mock) -> None:
    await add_fault(mock, effect="error", code="bad_request", body={"size": "300x400"})
    assert (await post(mock, size="300x400")).status_code == 400
    assert (await post(mock, size="120x150")).status_code == 200


async def test_stall_keeps_state_0(mock) -> None:
    await add_fault(mock, effect="stall")
    task_id = await create(mock)
    await mock.advance(600)
    assert (await query(mock, task_id))["state"] == 0


async def test_latency_and_drop(mock) -> None:
    await add_fault(mock, effect="drop", operation="query_task", times=1)
    await add_fault(mock, effect="latency", latency=0.2, operation="query_task")
    task_id = await create(mock)
    with pytest.raises((httpx.TransportError, ConnectionDropped)):
        await query(mock, task_id)
    started = time.perf_counter()
    await query(mock, task_id)
    assert time.perf_counter() - started >= 0.2
    count = await mock.client.post("/__admin/requests/count",
                                   json={"vendor": "gptge", "injected": True, "status": 0})
    assert count.json()["count"] == 1


async def test_injected_callback_failure_is_recorded(mock) -> None:
    await add_fault(mock, effect="callback_fail", times=1)
    task_id = await create(mock, callback_url="http://127.0.0.1:9/hook")  # nothing listens
    await mock.advance(5)
    assert (await query(mock, task_id))["state"] == 1  # processed: the callback is scheduled
    await mock.client.post("/__admin/callbacks/drain")
    listed = (await mock.client.get("/__admin/callbacks", params={"task_id": task_id})).json()
    attempts = listed["callbacks"][0]["attempts"]
    assert attempts[0]["injected"] is True and attempts[0]["status_code"] is None
