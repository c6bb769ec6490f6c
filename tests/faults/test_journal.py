"""The request journal: filters, WireMock-style counting, HAR 1.2 export, near misses."""
from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.labels import mask

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
ALICE = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
BOB = {"Authorization": "Bearer sk-bob", "X-DashScope-Async": "enable"}
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}


async def submit(mock, headers: dict[str, str] = ALICE, n: int = 1) -> str:
    body = {**JOB, "parameters": {"style": "f_idcard_female", "n": n}}
    answer = await mock.client.post(SUBMIT, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["output"]["task_id"]


async def listing(mock, **params: Any) -> list[dict[str, Any]]:
    answer = await mock.client.get("/__admin/requests", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["requests"]


async def count(mock, **pattern: Any) -> int:
    answer = await mock.client.post("/__admin/requests/count", json=pattern)
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]


async def test_entries_carry_request_response_and_time_with_secrets_masked(mock) -> None:
    task_id = await submit(mock)
    entry = (await listing(mock, task_id=task_id))[0]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", SUBMIT, 200)
    assert entry["body"] == JOB and entry["response"]["output"]["task_id"] == task_id
    assert entry["headers"]["authorization"] == "Bearer sk-a***"
    assert entry["account"] == mask("sk-alice") and entry["time"] > 0


async def test_filters_by_vendor_operation_account_task_and_status(mock) -> None:
    alice_task = await submit(mock)
    await submit(mock, BOB)
    await mock.client.get(f"/api/v1/tasks/{alice_task}", headers=ALICE)
    await mock.client.post(SUBMIT, json=JOB, headers={"Authorization": "Bearer invalid-token",
                                                      "X-DashScope-Async": "enable"})
    assert len(await listing(mock, vendor="dashscope")) == 4
    assert len(await listing(mock, vendor="tencent")) == 0
    assert len(await listing(mock, operation="gen_potrait")) == 3
    assert [e["operation"] for e in await listing(mock, account="sk-alice")] == [
        "query_task", "gen_potrait"]
    assert len(await listing(mock, task_id=alice_task)) == 2
    assert len(await listing(mock, status=200)) == 3
    assert [e["status"] for e in await listing(mock, status="4xx")] == [401]
    assert len(await listing(mock, limit=1)) == 1


async def test_time_range_on_the_emulated_clock(mock) -> None:
    await submit(mock)
    middle = (await mock.client.get("/__admin/clock")).json()["now"]
    await mock.advance(10)
    await submit(mock)
    assert len(await listing(mock, since=middle + 1)) == 1
    assert len(await listing(mock, until=middle)) == 1
    assert len(await listing(mock, since=middle - 60, until=middle + 60)) == 2


@pytest.mark.parametrize("params", [{"status": "abc"}, {"since": "yesterday"},
                                    {"colour": "red"}, {"injected": "maybe"},
                                    {"body": "x"}])
async def test_bad_filters_answer_400(mock, params: dict[str, str]) -> None:
    answer = await mock.client.get("/__admin/requests", params=params)
    assert answer.status_code == 400 and answer.json()["error"]


async def test_count_verifies_how_often_the_app_called(mock) -> None:
    task_id = await submit(mock, n=2)
    for _ in range(3):
        await mock.client.get(f"/api/v1/tasks/{task_id}", headers=ALICE)
    assert await count(mock, vendor="dashscope", operation="gen_potrait") == 1
    assert await count(mock, method="GET", path=f"/api/v1/tasks/{task_id}") == 3
    assert await count(mock, path_regex=r"/api/v1/tasks/[^/]+") == 3
    assert await count(mock, body={"/parameters/n": 2}) == 1
    assert await count(mock, body={"parameters.style": "f_idcard_female", "parameters.n": 1}) == 0
    assert await count(mock, account="sk-bob") == 0
    assert await count(mock) == 4


@pytest.mark.parametrize("pattern", [[1], {"path_regex": "("}, {"body": [1]}, {"status": "9yy"}])
async def test_bad_count_patterns_answer_400(mock, pattern: Any) -> None:
    answer = await mock.client.post("/__admin/requests/count", json=pattern)
    assert answer.status_code == 400 and answer.json()["error"]


async def test_har_export_is_har_1_2_oldest_first(mock) -> None:
    task_id = await submit(mock)
    await mock.client.get(f"/api/v1/tasks/{task_id}", headers=ALICE, params={"x": "1"})
    answer = await mock.client.get("/__admin/requests.har", params={"vendor": "dashscope"})
    assert answer.status_code == 200 and "requests.har" in answer.headers["content-disposition"]
    log = answer.json()["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "portrait-mockserver"
    first, second = log["entries"]
    assert first["request"]["method"] == "POST" and first["request"]["url"].endswith(SUBMIT)
    assert first["request"]["postData"]["text"].startswith('{"model"')
    assert first["response"]["status"] == 200 and task_id in first["response"]["content"]["text"]
    assert first["startedDateTime"].endswith("Z") and first["time"] >= 0
    assert second["request"]["queryString"] == [{"name": "x", "value": "1"}]
    assert "postData" not in second["request"]
    headers = {h["name"]: h["value"] for h in first["request"]["headers"]}
    assert "sk-alice" not in headers["authorization"]
    for entry in log["entries"]:
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)


async def test_near_miss_unknown_segment_answers_not_found_and_names_the_closest_route(mock) -> None:
    answer = await mock.client.post("/api/v1/services/aigc/album/gen_portrait", json=JOB,
                                    headers=ALICE)
    assert answer.status_code == 404 and answer.json()["code"] == "NotFound"
    entry = (await listing(mock, near_miss="true"))[0]
    assert entry["vendor"] == "dashscope" and entry["account"] == mask("sk-alice")
    assert entry["body"] == JOB and entry["status"] == 404
    miss = entry["note"]["near_miss"]
    assert miss["operation"] == "gen_potrait"
    assert miss["reason"] == ("unknown path segment 'gen_portrait' at position 6 "
                              "(expected 'gen_potrait')")


async def test_near_miss_wrong_method(mock) -> None:
    answer = await mock.client.get(SUBMIT, headers=ALICE)
    assert answer.json()["code"] == "NotFound"
    miss = (await listing(mock, near_miss="true"))[0]["note"]["near_miss"]
    assert miss["operation"] == "gen_potrait"
    assert miss["reason"] == "wrong method GET (the route takes POST)"


async def test_near_miss_short_path_and_paths_outside_any_vendor(mock) -> None:
    await mock.client.post("/api/v1/tasks/abc/cancel/now", headers=ALICE)
    miss = (await listing(mock, near_miss="true"))[0]["note"]["near_miss"]
    assert (miss["operation"], miss["reason"]) == ("cancel_task", "path too long: unexpected 'now'")
    outside = await mock.client.post("/v1/services/aigc/album/gen_potrait", json=JOB)
    assert outside.status_code == 404
    entry = (await listing(mock, near_miss="true"))[0]
    assert entry["vendor"] is None and entry["note"]["near_miss"]["vendor"] == "dashscope"
    assert await count(mock, near_miss=True, vendor="dashscope") == 1
