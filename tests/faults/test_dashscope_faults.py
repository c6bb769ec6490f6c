"""Every fault effect against DashScope over raw HTTP, in-process and against a real server."""
from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mockserver.core.labels import mask
from mockserver.features.faults import ConnectionDropped

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
ALICE = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
BOB = {"Authorization": "Bearer sk-bob", "X-DashScope-Async": "enable"}
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": LORA}


async def add_fault(mock, **rule: Any) -> dict[str, Any]:
    answer = await mock.client.post("/__admin/faults", json={"vendor": "dashscope", **rule})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def post_job(mock, headers: dict[str, str] = ALICE, body: dict[str, Any] = JOB) -> httpx.Response:
    return await mock.client.post(SUBMIT, json=body, headers=headers)


async def submit(mock, headers: dict[str, str] = ALICE, body: dict[str, Any] = JOB) -> str:
    answer = await post_job(mock, headers, body)
    assert answer.status_code == 200, answer.text
    return answer.json()["output"]["task_id"]


async def status(mock, task_id: str, headers: dict[str, str] = ALICE) -> dict[str, Any]:
    answer = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["output"]


async def journal(mock, **filters: Any) -> list[dict[str, Any]]:
    answer = await mock.client.get("/__admin/requests", params=filters)
    assert answer.status_code == 200, answer.text
    return answer.json()["requests"]


@pytest.mark.parametrize(("code", "http_status"), [
    ("InternalError", 500), ("Throttling.RateQuota", 429), ("DataInspectionFailed", 400),
    ("ServiceUnavailable", 503), ("Arrearage", 400), ("InvalidApiKey", 401),
])
async def test_error_answers_in_the_vendor_envelope_and_is_journaled_as_injected(
        mock, code: str, http_status: int) -> None:
    await add_fault(mock, effect="error", code=code, operation="gen_potrait")
    answer = await post_job(mock)
    assert answer.status_code == http_status
    body = answer.json()
    assert body["code"] == code and body["message"] and body["request_id"]
    entry = (await journal(mock, operation="gen_potrait"))[0]
    assert entry["injected"] is True and entry["status"] == http_status
    assert entry["note"]["faults"][0]["effect"] == "error"
    assert mock.emulator.store.list_tasks("dashscope") == []  # the handler never ran


async def test_error_with_custom_message(mock) -> None:
    await add_fault(mock, effect="error", code="InternalError", message="upstream exploded")
    assert (await post_job(mock)).json()["message"] == "upstream exploded"


async def test_times_limits_firings_then_the_rule_is_spent(mock) -> None:
    rule = await add_fault(mock, effect="error", code="InternalError", times=2)
    assert [(await post_job(mock)).status_code for _ in range(2)] == [500, 500]
    await mock.advance(1)  # stay inside DashScope's 2 QPS
    assert (await post_job(mock)).status_code == 200
    shown = (await mock.client.get(f"/__admin/faults/{rule['id']}")).json()
    assert (shown["fired"], shown["times"], shown["active"]) == (2, 0, False)


async def test_matching_by_operation_account_and_body_field(mock) -> None:
    await add_fault(mock, effect="error", code="Throttling", operation="query_task")
    await add_fault(mock, effect="error", code="AccessDenied.Unpurchased", account="sk-bob")
    await add_fault(mock, effect="error", code="InvalidURL",
                    body={"/parameters/style": "f_business_male"})
    await add_fault(mock, effect="error", code="InvalidImageResolution", body={"parameters.n": 3})
    task_id = await submit(mock)  # alice, another style, n=1: nothing matches
    query = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=ALICE)
    assert query.json()["code"] == "Throttling"
    assert (await post_job(mock, BOB)).json()["code"] == "AccessDenied.Unpurchased"
    await mock.advance(1)
    male = {**JOB, "parameters": {"style": "f_business_male", "n": 1}}
    assert (await post_job(mock, body=male)).json()["code"] == "InvalidURL"
    three = {**JOB, "parameters": {"style": "f_idcard_female", "n": 3}}
    assert (await post_job(mock, body=three)).json()["code"] == "InvalidImageResolution"


async def test_fail_task_ends_failed_with_the_vendor_failure_code(mock) -> None:
    # The seed's spelling names the same catalogue entry; the answer uses the current one.
    await add_fault(mock, effect="fail_task", code="InternalError:Algo", times=1)
    failing, healthy = await submit(mock), await submit(mock, BOB)
    assert (await status(mock, failing))["task_status"] == "PENDING"  # fails only when done
    await mock.advance(40)
    failed = await status(mock, failing)
    assert failed["task_status"] == "FAILED" and failed["code"] == "InternalError.Algo"
    assert failed["message"].startswith("An internal error occurs during computation")
    assert (await status(mock, healthy, BOB))["task_status"] == "SUCCEEDED"
    submits = await journal(mock, operation="gen_potrait")
    assert [e["injected"] for e in submits] == [False, True]  # newest first


async def test_stall_holds_the_task_queued_until_the_rule_is_removed(mock) -> None:
    rule = await add_fault(mock, effect="stall", account="sk-alice")
    stalled = await submit(mock)
    await mock.advance(3600)
    assert (await status(mock, stalled))["task_status"] == "PENDING"
    removed = await mock.client.delete(f"/__admin/faults/{rule['id']}")
    assert removed.json()["removed"] == 1
    await mock.advance(1)
    assert (await status(mock, stalled))["task_status"] == "RUNNING"
    await mock.advance(30)
    assert (await status(mock, stalled))["task_status"] == "SUCCEEDED"


async def test_stalled_task_can_be_canceled(mock) -> None:
    await add_fault(mock, effect="stall")
    task_id = await submit(mock)
    cancel = await mock.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=ALICE)
    assert cancel.status_code == 200
    assert (await status(mock, task_id))["task_status"] == "CANCELED"


async def test_latency_delays_the_real_answer(mock) -> None:
    await add_fault(mock, effect="latency", latency=0.3, operation="query_task")
    task_id = await submit(mock)
    started = time.perf_counter()
    assert (await status(mock, task_id))["task_status"] == "PENDING"
    assert time.perf_counter() - started >= 0.3
    entry = (await journal(mock, operation="query_task"))[0]
    assert entry["injected"] and entry["note"]["fault_latency_seconds"] == 0.3


async def test_latency_range_is_seeded(mock) -> None:
    rule = {"effect": "latency", "latency": [0.05, 0.15], "seed": 11, "times": 3}
    delays = []
    for _ in range(2):
        await mock.client.delete("/__admin/faults")
        await add_fault(mock, **rule)
        for _ in range(3):
            await mock.client.get("/api/v1/tasks/x", headers=ALICE)
        entries = await journal(mock, operation="query_task", limit=3)
        delays.append([e["note"]["fault_latency_seconds"] for e in entries])
    assert delays[0] == delays[1] and len(set(delays[0])) == 3
    assert all(0.05 <= d <= 0.15 for d in delays[0])


async def test_drop_closes_the_connection_without_an_answer(mock) -> None:
    await add_fault(mock, effect="drop", times=1)
    with pytest.raises((httpx.TransportError, ConnectionDropped)):
        await post_job(mock)
    assert (await post_job(mock)).status_code == 200  # the rule was spent
    dropped = (await journal(mock, injected="true"))[0]
    assert dropped["status"] == 0 and dropped["response"] is None
    assert dropped["operation"] == "gen_potrait" and dropped["account"] == mask("sk-alice")


async def test_latency_and_error_combine(mock) -> None:
    await add_fault(mock, effect="latency", latency=0.1)
    await add_fault(mock, effect="error", code="RequestTimeOut")
    started = time.perf_counter()
    answer = await post_job(mock)
    assert answer.status_code == 504 and time.perf_counter() - started >= 0.1
    assert [f["effect"] for f in (await journal(mock))[0]["note"]["faults"]] == ["latency", "error"]


async def test_listing_and_deleting_rules(mock) -> None:
    first = await add_fault(mock, effect="error", code="InternalError")
    await add_fault(mock, effect="stall")
    listed = (await mock.client.get("/__admin/faults")).json()
    assert listed["count"] == 2 and [r["id"] for r in listed["faults"]] == [first["id"], "f2"]
    assert (await mock.client.delete("/__admin/faults/nope")).status_code == 404
    assert (await mock.client.delete("/__admin/faults")).json() == {"removed": 2}
    assert (await mock.client.get("/__admin/faults")).json()["count"] == 0
    assert (await post_job(mock)).status_code == 200


async def test_reset_forgets_api_rules(mock) -> None:
    await add_fault(mock, effect="error", code="InternalError")
    await mock.client.post("/__admin/reset")
    assert (await mock.client.get("/__admin/faults")).json()["count"] == 0
    assert (await post_job(mock)).status_code == 200
