"""AceData headshots over raw HTTP, in-process and against a real server."""
from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from PIL import Image

from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

GENERATE, TASKS = "/headshots/generate", "/headshots/tasks"
KEY = {"authorization": "Bearer alice"}
PORTRAIT = "https://cdn.example.com/portrait.jpg"
BODY = {"mode": "fast", "template": "male_portrait", "image_urls": [PORTRAIT]}
ASYNC = {**BODY, "async": True}
DISPLAY = {"male_portrait": "男形象照", "male_portrait2": "男形象照(另一个版本)",
           "kindergarten": "幼儿园入园照", "logo_tshirt": "企业LogoT恤照", "wedding": "结婚登记照",
           "business_photo": "商务风写真", "bob_suit": "黑西装波波头", "female_portrait": "女性形象照"}


async def submit(mock, body: dict[str, Any] = ASYNC, headers: dict[str, str] = KEY) -> dict[str, Any]:
    answer = await mock.client.post(GENERATE, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"task_id", "trace_id"}
    return answer.json()


async def retrieve(mock, task_id: str, headers: dict[str, str] = KEY) -> dict[str, Any]:
    answer = await mock.client.post(TASKS, json={"action": "retrieve", "id": task_id}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def error_of(answer) -> tuple[int, str]:
    body = answer.json()
    assert body["success"] is False and body["trace_id"], body
    return answer.status_code, body["error"]["code"]


async def blocked_call(mock, body: dict[str, Any]) -> asyncio.Task:
    """Start a blocking generate and return once its task exists (the request has arrived)."""
    call = asyncio.create_task(mock.client.post(GENERATE, json=body, headers=KEY))
    for _ in range(500):
        found = (await mock.client.get("/__admin/tasks", params={"vendor": "acedata"})).json()
        if found["count"]:
            return call
        await asyncio.sleep(0.01)
    raise AssertionError("the generate call never created its task")


async def test_blocking_generate_answers_when_the_clock_reaches_the_end(mock) -> None:
    call = await blocked_call(mock, BODY)
    await mock.advance(30)
    assert not call.done()
    await mock.advance(31)
    answer = await call
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"success", "task_id", "data"} and body["success"] is True
    assert len(body["data"]) == 2
    urls = {photo["image_url"] for photo in body["data"]}
    assert urls == {f"{mock.base_url}/results/acedata/{body['task_id']}/{body['task_id']}.png"}
    for photo in body["data"]:
        assert len(photo["id"]) == 18 and photo["id"].isdigit()
        assert photo["template"] == "男形象照"
    image = await mock.client.get(urls.pop())
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


async def test_photo_ids_are_the_finish_time_in_utc_plus_8(mock) -> None:
    task_id = (await submit(mock))["task_id"]
    await mock.advance(60)
    record = await retrieve(mock, task_id)
    stamp = datetime.fromtimestamp(record["finished_at"], timezone(timedelta(hours=8)))
    ids = [photo["id"] for photo in record["response"]["data"]]
    assert all(i.startswith(stamp.strftime("%Y%m%d%H%M%S")) for i in ids)
    assert len(set(ids)) == len(ids)
    assert (await retrieve(mock, task_id))["response"] == record["response"]  # stable


async def test_async_record_pending_then_succeeded(mock) -> None:
    accepted = await submit(mock)
    pending = await retrieve(mock, accepted["task_id"])
    assert pending["response"] == {"task_id": accepted["task_id"], "status": "unknown", "data": []}
    assert "finished_at" not in pending
    assert pending["id"] == accepted["task_id"] and pending["trace_id"] == accepted["trace_id"]
    assert pending["request"] == ASYNC  # verbatim, defaults not filled in
    assert len(pending["_id"]) == 24
    await mock.advance(60)
    done = await retrieve(mock, accepted["task_id"])
    assert done["response"]["success"] is True and len(done["response"]["data"]) == 2
    assert done["finished_at"] - done["started_at"] == pytest.approx(60, abs=0.01)
    assert isinstance(done["elapsed"], float)
    assert done["elapsed"] == pytest.approx(done["finished_at"] - done["started_at"], abs=0.002)
    assert "elapsed" not in pending
    assert done["created_at"] == pending["created_at"]
    assert {k: done[k] for k in ("application_id", "credential_id", "user_id")} == \
        {k: pending[k] for k in ("application_id", "credential_id", "user_id")}


@pytest.mark.parametrize(("template", "name"), sorted(DISPLAY.items()))
async def test_every_template_answers_its_display_name(mock, template, name) -> None:
    task_id = (await submit(mock, {**ASYNC, "template": template}))["task_id"]
    await mock.advance(60)
    record = await retrieve(mock, task_id)
    assert {p["template"] for p in record["response"]["data"]} == {name}


async def test_relax_is_slower_than_fast(mock) -> None:
    fast = (await submit(mock))["task_id"]
    relax = (await submit(mock, {**ASYNC, "mode": "relax"}))["task_id"]
    await mock.advance(60)
    assert (await retrieve(mock, fast))["response"]["success"] is True
    queued = await retrieve(mock, relax)
    # AD-3: a queued task has no response at all (the web app shows it as pending) ...
    assert "response" not in queued and "started_at" not in queued and "elapsed" not in queued
    await mock.advance(60)
    running = await retrieve(mock, relax)
    # ... and once it runs, the seed's no-result response (the web app: processing).
    assert running["response"] == {"task_id": relax, "status": "unknown", "data": []}
    assert "started_at" in running and "finished_at" not in running
    await mock.advance(60)
    done = await retrieve(mock, relax)
    assert done["response"]["success"] is True
    assert done["elapsed"] == pytest.approx(90, abs=0.01)  # ran 90 s after 90 s in the queue


async def test_callback_url_answers_at_once_and_schedules_a_delivery(mock) -> None:
    hook = "http://127.0.0.1:9/hook"
    accepted = await submit(mock, {**BODY, "callback_url": hook})
    listing = (await mock.client.get("/__admin/callbacks",
                                     params={"task_id": accepted["task_id"]})).json()
    assert listing["count"] == 1
    delivery = listing["callbacks"][0]
    assert (delivery["vendor"], delivery["url"], delivery["status"]) == ("acedata", hook, "pending")
    record = await retrieve(mock, accepted["task_id"])
    assert record["request"]["callback_url"] == hook
    assert delivery["due_at"] == pytest.approx(record["created_at"] + 60, abs=0.01)


async def test_unknown_foreign_and_batch_lookups(mock) -> None:
    mine = (await submit(mock))["task_id"]
    other = (await submit(mock, headers={"authorization": "Bearer bob"}))["task_id"]
    for task_id in ("no-such-task", other):
        answer = await mock.client.post(TASKS, json={"id": task_id}, headers=KEY)
        assert await error_of(answer) == (404, "not_found")
    batch = await mock.client.post(TASKS, headers=KEY, json={
        "action": "retrieve_batch", "ids": ["no-such-task", mine, other, mine]})
    body = batch.json()
    assert body["count"] == 1 and [item["id"] for item in body["items"]] == [mine]
    empty = await mock.client.post(TASKS, json={"action": "retrieve_batch", "ids": []}, headers=KEY)
    assert empty.json() == {"items": [], "count": 0}


async def test_tasks_and_results_expire_after_30_days(mock) -> None:
    task_id = (await submit(mock))["task_id"]
    await mock.advance(60)
    url = (await retrieve(mock, task_id))["response"]["data"][0]["image_url"]
    await mock.advance(30 * 24 * 3600)
    answer = await mock.client.post(TASKS, json={"id": task_id}, headers=KEY)
    assert await error_of(answer) == (404, "not_found")
    expired = await mock.client.get(url)
    assert expired.status_code == 403 and b"AccessDenied" in expired.content


async def test_unfetchable_image_fails_the_task(mock) -> None:
    failing = {**ASYNC, "image_urls": ["https://images.example.invalid/me.jpg"]}
    task_id = (await submit(mock, failing))["task_id"]
    await mock.advance(60)
    record = await retrieve(mock, task_id)
    assert record["response"] == {"success": False, "task_id": task_id, "trace_id": record["trace_id"],
                                  "error": {"code": "api_error", "message": "fetch failed"}}
    assert "finished_at" in record and record["elapsed"] == 0.0  # it failed as it started
    missing = await mock.client.get(f"/results/acedata/{task_id}/{task_id}.png")
    assert missing.status_code == 404


async def test_blocking_call_for_a_failing_task_answers_500_fetch_failed(mock) -> None:
    call = await blocked_call(mock, {**BODY, "image_urls": ["http://nowhere.invalid/a.png"]})
    await mock.advance(60)
    answer = await call
    assert await error_of(answer) == (500, "api_error")
    assert answer.json()["error"]["message"] == "fetch failed"


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, BODY, 401, "invalid_token"),
        ({"authorization": "Basic abc"}, BODY, 401, "invalid_token"),
        ({"authorization": "Bearer invalid-token"}, BODY, 401, "invalid_token"),
        ({"authorization": "Bearer token-mismatched"}, BODY, 400, "token_mismatched"),
        ({"authorization": "Bearer used-up-token"}, BODY, 403, "used_up"),
        (KEY, {**BODY, "image_urls": ["https://cdn.example.com/NSFW/me.jpg"]}, 403, "forbidden"),
        (KEY, {**BODY, "template": "passport"}, 400, "bad_request"),
        (KEY, {**BODY, "mode": "turbo"}, 400, "bad_request"),
        (KEY, {"mode": "fast", "image_urls": [PORTRAIT]}, 400, "bad_request"),
        (KEY, {**BODY, "image_urls": []}, 400, "bad_request"),
        (KEY, {**BODY, "image_urls": PORTRAIT}, 400, "bad_request"),
        (KEY, {**BODY, "image_urls": [1]}, 400, "bad_request"),
        (KEY, {**BODY, "callback_url": "ftp://127.0.0.1/hook"}, 400, "bad_request"),
        (KEY, {**BODY, "async": "yes"}, 400, "bad_request"),
        (KEY, [BODY], 400, "bad_request"),
    ],
)
async def test_generate_errors(mock, headers, body, status, code) -> None:
    answer = await mock.client.post(GENERATE, json=body, headers=headers)
    assert await error_of(answer) == (status, code)


@pytest.mark.parametrize(
    "body",
    [{}, {"action": "retrieve"}, {"action": "cancel", "id": "x"},
     {"action": "retrieve_batch", "ids": "x"}, {"id": 5}, "retrieve",
     {"action": "retrieve_batch", "limit": "10"}, {"action": "retrieve_batch", "limit": -1},
     {"action": "retrieve_batch", "offset": 1.5}, {"action": "retrieve_batch", "user_id": 7},
     {"action": "retrieve_batch", "created_at_min": "yesterday"}],
)
async def test_tasks_bad_requests(mock, body) -> None:
    answer = await mock.client.post(TASKS, json=body, headers=KEY)
    assert await error_of(answer) == (400, "bad_request")


async def test_malformed_json_and_unknown_paths(mock) -> None:
    answer = await mock.client.post(GENERATE, content=b"{nope", headers=KEY)
    assert await error_of(answer) == (400, "bad_request")
    for method, path in (("POST", "/headshots/images"), ("GET", GENERATE)):
        answer = await mock.client.request(method, path, headers=KEY)
        assert await error_of(answer) == (404, "no_api")


async def test_tasks_errors_share_the_gate(mock) -> None:
    for headers, expected in (({}, (401, "invalid_token")),
                              ({"authorization": "Bearer used-up-token"}, (403, "used_up"))):
        answer = await mock.client.post(TASKS, json={"id": "x"}, headers=headers)
        assert await error_of(answer) == expected


async def test_generate_rate_limit_is_per_account(mock) -> None:
    for _ in range(5):
        await submit(mock)
    answer = await mock.client.post(GENERATE, json=ASYNC, headers=KEY)
    assert await error_of(answer) == (429, "too_many_requests")
    await submit(mock, headers={"authorization": "Bearer carol"})
    await mock.advance(1)
    await submit(mock)


async def test_journal_names_operations_and_masks_keys(mock) -> None:
    task_id = (await submit(mock))["task_id"]
    await retrieve(mock, task_id)
    journal = (await mock.client.get("/__admin/requests", params={"vendor": "acedata"})).json()
    operations = {(e["operation"], e["task_id"]) for e in journal["requests"]}
    assert operations == {("generate", task_id), ("tasks", task_id)}
    assert all("alice" not in e["headers"]["authorization"] for e in journal["requests"])


class TestConfigured:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(Settings(validate_responses=True), vendors={"acedata": {
            "sync_timeout_seconds": 0.3, "fast_run_seconds": 5, "photos_per_task": 4,
            "used_up_keys": ["broke"], "generate_qps": 0}})

    async def test_blocking_call_times_out_in_real_time_but_the_task_goes_on(self, mock) -> None:
        answer = await mock.client.post(GENERATE, json=BODY, headers=KEY)
        assert await error_of(answer) == (504, "timeout")
        tasks = (await mock.client.get("/__admin/tasks", params={"vendor": "acedata"})).json()
        await mock.advance(5)
        record = await retrieve(mock, tasks["tasks"][0]["id"])
        assert record["response"]["success"] is True and len(record["response"]["data"]) == 4

    async def test_options_change_keys_and_limits(self, mock) -> None:
        answer = await mock.client.post(GENERATE, json=ASYNC, headers={"authorization": "Bearer broke"})
        assert await error_of(answer) == (403, "used_up")
        for _ in range(8):  # generate_qps = 0 switches the limit off
            await submit(mock)


def test_the_documented_python_example_works_against_a_real_server(server) -> None:
    import requests

    headers = {"accept": "application/json", "authorization": "Bearer {token}",
               "content-type": "application/json"}
    created = requests.post(f"{server.base_url}{GENERATE}", json=ASYNC, headers=headers, timeout=10)
    task_id = created.json()["task_id"]
    server.emulator.clock.advance(60)
    payload = {"ids": [task_id], "action": "retrieve_batch"}
    batch = requests.post(f"{server.base_url}{TASKS}", json=payload, headers=headers, timeout=10)
    assert batch.status_code == 200 and batch.json()["count"] == 1
    assert batch.json()["items"][0]["response"]["task_id"] == task_id
