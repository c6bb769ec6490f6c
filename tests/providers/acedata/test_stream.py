"""`accept: application/x-ndjson` on generate (vendors-2026-12.md AD-1), over HTTP in-process
and against a real server: one line for an async call, a stream for a blocking one that ends
when the task ends on the emulated clock or when `sync_timeout_seconds` runs out."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from mockserver.web import Part

pytestmark = pytest.mark.anyio

GENERATE, TASKS = "/headshots/generate", "/headshots/tasks"
KEY = {"authorization": "Bearer alice"}
NDJSON = {**KEY, "accept": "application/x-ndjson"}
BODY = {"mode": "fast", "template": "male_portrait", "image_urls": ["https://cdn.example.com/me.jpg"]}
PROGRESS_KEYS = {"task_id", "trace_id", "status", "progress", "data"}


@pytest.fixture
def settings() -> Settings:
    return replace(Settings(validate_responses=True),
                   vendors={"acedata": {"stream_interval_seconds": 0.05}})


def lines_of(answer: httpx.Response) -> list[dict[str, Any]]:
    """Every line of an NDJSON answer; each must end with CRLF, as the platform's do."""
    content = answer.content
    assert content.endswith(b"\r\n"), content[-40:]
    return [json.loads(chunk) for chunk in content.split(b"\r\n") if chunk]


async def task_ids(mock) -> list[str]:
    found = (await mock.client.get("/__admin/tasks", params={"vendor": "acedata"})).json()
    return [task["id"] for task in found["tasks"]]


async def started(mock, body: dict[str, Any], headers: dict[str, str] = NDJSON) -> asyncio.Task:
    """Start a streamed generate; return once its task exists (the request has arrived)."""
    before = len(await task_ids(mock))
    call = asyncio.create_task(mock.client.post(GENERATE, json=body, headers=headers))
    for _ in range(500):
        if len(await task_ids(mock)) > before:
            return call
        await asyncio.sleep(0.01)
    raise AssertionError("the generate call never created its task")


async def record_of(mock, task_id: str) -> dict[str, Any]:
    answer = await mock.client.post(TASKS, json={"id": task_id}, headers=KEY)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("extra", [{"async": True}, {"callback_url": "http://127.0.0.1:9/hook"}])
async def test_an_async_call_answers_one_line(mock, extra) -> None:
    answer = await mock.client.post(GENERATE, json={**BODY, **extra}, headers=NDJSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    [accepted] = lines_of(answer)
    assert set(accepted) == {"task_id", "trace_id"}
    assert (await record_of(mock, accepted["task_id"]))["request"] == {**BODY, **extra}


async def test_a_blocking_stream_ends_when_another_task_advances_the_clock(mock) -> None:
    call = await started(mock, BODY)
    await asyncio.sleep(0.2)  # a few progress lines at 0 %
    await mock.advance(30)
    await asyncio.sleep(0.2)  # more, at 50 %
    assert not call.done()
    await mock.advance(30)  # the task ends: the stream ends at once
    answer = await asyncio.wait_for(call, 5)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    *progress, final = lines_of(answer)
    assert len(progress) >= 3
    assert all(set(line) == PROGRESS_KEYS and line["status"] == "unknown" and line["data"] == []
               for line in progress)
    percents = [line["progress"] for line in progress]
    assert percents == sorted(percents) and percents[0] == 0 and 50 in percents
    # The last line is exactly the blocking answer: the finished record's response.
    assert set(final) == {"success", "task_id", "data"} and final["success"] is True
    assert {line["task_id"] for line in progress} == {final["task_id"]}
    record = await record_of(mock, final["task_id"])
    assert final == record["response"]
    assert {line["trace_id"] for line in progress} == {record["trace_id"]}


async def test_the_stream_is_sent_line_by_line(mock) -> None:
    if mock.mode == "inprocess":
        pytest.skip("httpx's ASGI transport hands over a response only once it is complete")
    async with mock.client.stream("POST", GENERATE, json=BODY, headers=NDJSON) as answer:
        lines = answer.aiter_lines()
        first = json.loads(await asyncio.wait_for(anext(lines), 5))
        assert first["progress"] == 0 and set(first) == PROGRESS_KEYS
        await mock.advance(60)
        rest = [json.loads(text) async for text in lines if text]
    assert rest[-1]["success"] is True and rest[-1]["task_id"] == first["task_id"]


async def test_a_relax_task_streams_zero_progress_while_queued(mock) -> None:
    call = await started(mock, {**BODY, "mode": "relax"})
    await asyncio.sleep(0.15)
    await mock.advance(180)
    *progress, final = lines_of(await asyncio.wait_for(call, 5))
    assert progress and {line["progress"] for line in progress} == {0}
    assert final["success"] is True


async def test_a_task_that_failed_as_it_started_streams_only_its_error_body(mock) -> None:
    failing = {**BODY, "image_urls": ["https://images.example.invalid/me.jpg"]}
    answer = await mock.client.post(GENERATE, json=failing, headers=NDJSON)
    assert answer.status_code == 200  # sent before the outcome is known, as for any stream
    [final] = lines_of(answer)
    assert set(final) == {"success", "error", "trace_id"}
    assert final["success"] is False
    assert final["error"] == {"code": "api_error", "message": "fetch failed"}


async def test_the_journal_records_the_stream_with_its_last_line(mock) -> None:
    call = await started(mock, BODY)
    await asyncio.sleep(0.1)
    await mock.advance(60)
    lines = lines_of(await asyncio.wait_for(call, 5))
    journal = (await mock.client.get("/__admin/requests",
                                     params={"vendor": "acedata", "operation": "generate"})).json()
    [entry] = journal["requests"]
    assert entry["status"] == 200 and entry["response"] == lines[-1]
    assert entry["note"]["stream_parts"] == len(lines)
    assert entry["task_id"] == lines[-1]["task_id"]


async def test_refusals_before_a_task_exists_stay_json_errors(mock) -> None:
    answer = await mock.client.post(GENERATE, json={**BODY, "template": "passport"}, headers=NDJSON)
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == "bad_request"
    rule = {"vendor": "acedata", "operation": "generate", "effect": "error",
            "code": "too_many_requests"}
    assert (await mock.client.post("/__admin/faults", json=rule)).status_code == 201
    injected = await mock.client.post(GENERATE, json=BODY, headers=NDJSON)
    assert injected.status_code == 429 and injected.json()["error"]["code"] == "too_many_requests"


async def test_the_task_api_still_refuses_ndjson(mock) -> None:
    answer = await mock.client.post(TASKS, json={"id": "x"}, headers=NDJSON)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "api_not_implemented"


async def test_a_reset_ends_the_stream_with_the_internal_error(mock) -> None:
    call = await started(mock, BODY)
    await asyncio.sleep(0.1)
    await mock.client.post("/__admin/reset")
    *_, final = lines_of(await asyncio.wait_for(call, 5))
    assert final["success"] is False and final["error"]["code"] == "api_error"


class TestTimeout:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(Settings(validate_responses=True), vendors={"acedata": {
            "stream_interval_seconds": 0.1, "sync_timeout_seconds": 0.35}})

    async def test_the_stream_ends_with_the_timeout_body_and_the_task_goes_on(self, mock) -> None:
        answer = await mock.client.post(GENERATE, json=BODY, headers=NDJSON)
        assert answer.status_code == 200
        *progress, final = lines_of(answer)
        assert 2 <= len(progress) <= 6
        assert final["success"] is False and final["error"]["code"] == "timeout"
        await mock.advance(60)
        record = await record_of(mock, progress[0]["task_id"])
        assert record["response"]["success"] is True


class TestRefuse:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(Settings(validate_responses=True),
                       vendors={"acedata": {"ndjson_accept": "refuse"}})

    async def test_the_older_behaviour_refuses_ndjson(self, mock) -> None:
        answer = await mock.client.post(GENERATE, json={**BODY, "async": True}, headers=NDJSON)
        assert answer.status_code == 400
        assert answer.json()["error"] == {"code": "api_not_implemented",
                                          "message": "The API is not implemented."}


def _wrapping(mock, wrap) -> None:
    """A reply filter (the pipeline's extension point) that wraps every streamed body."""
    def reply_filter(call, reply):
        return replace(reply, body=wrap(reply.body)) if reply.streamed else reply
    mock.emulator.pipeline.reply_filters.append(reply_filter)


async def test_each_streamed_part_is_schema_checked_as_it_is_sent(mock) -> None:
    async def broken_last(parts):
        async for part in parts:
            body = {k: v for k, v in part.body.items() if k != "success"}
            yield Part(json.dumps(body).encode() + b"\r\n", body, part.schema)

    _wrapping(mock, broken_last)
    call = await started(mock, BODY)
    await mock.advance(60)
    lines_of(await asyncio.wait_for(call, 5))
    violations = list(mock.emulator.schema_violations)
    mock.emulator.schema_violations.clear()  # seen: the fixture's own check would fail on them
    assert [v["schema"] for v in violations] == ["acedata/generate-response"]
    assert "'success' is a required property" in violations[0]["problem"]


async def test_a_stream_that_breaks_ends_early_and_is_still_journaled(mock) -> None:
    async def breaking(parts):
        async for part in parts:
            yield part
            raise RuntimeError("a bug in the middle of a stream")

    _wrapping(mock, breaking)
    answer = await mock.client.post(GENERATE, json=BODY, headers=NDJSON)
    assert answer.status_code == 200
    [first] = lines_of(answer)  # what was sent before the bug; never a traceback
    assert first["progress"] == 0
    [entry] = (await mock.client.get("/__admin/requests", params={"vendor": "acedata"})).json()[
        "requests"]
    assert entry["note"]["stream_error"] is True and entry["response"] == first
