"""The callback dispatcher against a real receiver on 127.0.0.1 that fails a fixed share of
attempts: every callback arrives with the right body, exactly as often as the log says."""
from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings
from mockserver.testing import ServerThread

pytestmark = pytest.mark.anyio

KEY = {"authorization": "Bearer alice"}
BODY = {"template": "female_portrait", "image_urls": ["https://cdn.example.com/me.jpg"]}
FAST_RETRIES = {"callback_backoff_seconds": 1, "callback_backoff_cap_seconds": 8,
                "callback_max_attempts": 10, "callback_timeout_seconds": 5}


@dataclass
class Receiver:
    """Answers request i (0-based, arrival order) per `plan[i % len(plan)]`: an HTTP status, or
    "drop" to close the connection without an answer."""

    plan: list[int | str] = field(default_factory=lambda: [200])
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer_for_next(self, body: Any, headers: dict[str, str]) -> int | str:
        with self.lock:
            outcome = self.plan[len(self.seen) % len(self.plan)]
            self.seen.append({"body": body, "headers": headers, "outcome": outcome})
            return outcome

    def delivered(self) -> list[Any]:
        return [s["body"] for s in self.seen if isinstance(s["outcome"], int) and s["outcome"] < 300]


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            outcome = receiver.answer_for_next(json.loads(raw), headers)
            if outcome == "drop":
                self.close_connection = True
                return
            self.send_response(int(outcome))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True, vendors={"acedata": dict(FAST_RETRIES)})


async def create(client: httpx.AsyncClient, url: str, body: dict[str, Any] = BODY) -> str:
    answer = await client.post("/headshots/generate", json={**body, "callback_url": url}, headers=KEY)
    assert answer.status_code == 200, answer.text
    return answer.json()["task_id"]


async def deliveries(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    listing = await client.get("/__admin/callbacks", params=filters)
    return listing.json()["callbacks"]


async def drain(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.post("/__admin/callbacks/drain")
    assert answer.status_code == 200
    return answer.json()


async def record_response(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    answer = await client.post("/headshots/tasks", json={"id": task_id}, headers=KEY)
    return answer.json()["response"]


async def settle(mock, rounds: int = 20) -> None:
    """Deliver, then move the clock past the longest backoff, until nothing is pending."""
    for _ in range(rounds):
        if not (await drain(mock.client))["pending"]:
            return
        await mock.advance(FAST_RETRIES["callback_backoff_cap_seconds"])
    raise AssertionError("callbacks still pending")


async def test_every_callback_arrives_once_despite_failing_attempts(mock, receiver) -> None:
    receiver.plan = [503, "drop", 200]  # two of three attempts fail, deterministically
    tasks = [await create(mock.client, receiver.url) for _ in range(4)]
    await drain(mock.client)
    assert receiver.seen == []  # nothing is due before the tasks end
    await mock.advance(60)
    await settle(mock)
    log = await deliveries(mock.client, vendor="acedata")
    assert sorted(d["task_id"] for d in log) == sorted(tasks)
    assert all(d["status"] == "delivered" for d in log)
    attempts = [a for d in log for a in d["attempts"]]
    assert len(attempts) == len(receiver.seen)  # the log is exactly what the receiver saw
    assert sum(a["ok"] for a in attempts) == 4
    for attempt in attempts:
        assert (attempt["status_code"], attempt["error"] is not None) in {
            (503, False), (200, False), (None, True)}
    delivered = receiver.delivered()
    assert sorted(b["task_id"] for b in delivered) == sorted(tasks)
    for body in delivered:
        assert body == await record_response(mock.client, body["task_id"])
        assert body["success"] is True and body["data"][0]["template"] == "女性形象照"
    assert all(s["headers"]["content-type"] == "application/json" for s in receiver.seen)


class TestBackoff:
    @pytest.fixture
    def settings(self) -> Settings:  # long gaps, so real time passing in the test is noise
        options = {**FAST_RETRIES, "callback_backoff_seconds": 10, "callback_backoff_cap_seconds": 80}
        return Settings(validate_responses=True, vendors={"acedata": options})

    async def test_retries_back_off_exponentially_on_the_emulated_clock(self, mock, receiver) -> None:
        receiver.plan = [500]
        task_id = await create(mock.client, receiver.url)
        await mock.advance(60)
        await drain(mock.client)
        for expected_tries, wait in ((2, 10), (3, 20), (4, 40), (5, 80), (6, 80)):
            await mock.advance(wait - 1)
            await drain(mock.client)
            assert len(receiver.seen) == expected_tries - 1  # not due yet
            await mock.advance(1.5)
            await drain(mock.client)
            assert len(receiver.seen) == expected_tries
        (log,) = await deliveries(mock.client, task_id=task_id)
        gaps = [b["time"] - a["time"] for a, b in zip(log["attempts"], log["attempts"][1:])]
        assert gaps == pytest.approx([10, 20, 40, 80, 80], abs=1)
        assert [a["attempt"] for a in log["attempts"]] == [1, 2, 3, 4, 5, 6]


class TestGivingUpAndRedelivery:
    @pytest.fixture
    def settings(self) -> Settings:
        options = {**FAST_RETRIES, "callback_max_attempts": 2}
        return Settings(validate_responses=True, vendors={"acedata": options})

    async def test_gives_up_then_redelivers_on_request(self, mock, receiver) -> None:
        receiver.plan = [500, 500, 200]
        task_id = await create(mock.client, receiver.url)
        await mock.advance(60)
        await settle(mock)
        (log,) = await deliveries(mock.client, task_id=task_id)
        assert log["status"] == "failed" and len(log["attempts"]) == 2
        await mock.advance(3600)
        await drain(mock.client)
        assert len(receiver.seen) == 2  # no automatic attempt after giving up
        again = await mock.client.post(f"/__admin/callbacks/{log['id']}/redeliver")
        assert again.status_code == 200
        assert again.json()["status"] == "delivered" and again.json()["attempts"][-1]["manual"]
        assert receiver.delivered() == [await record_response(mock.client, task_id)]
        missing = await mock.client.post("/__admin/callbacks/nope/redeliver")
        assert missing.status_code == 404


async def test_a_failed_task_calls_back_with_the_error(mock, receiver) -> None:
    body = {**BODY, "image_urls": ["https://img.nowhere.invalid/me.jpg"]}
    task_id = await create(mock.client, receiver.url, body)
    await mock.advance(60)
    await drain(mock.client)
    (sent,) = receiver.delivered()
    assert sent["success"] is False and sent["task_id"] == task_id
    assert sent["error"] == {"code": "api_error", "message": "fetch failed"}


async def test_the_worker_wakes_on_a_clock_advance_without_drain(mock, receiver) -> None:
    await create(mock.client, receiver.url)
    await mock.advance(60)
    for _ in range(500):  # waiting for the worker's I/O, not for task progress
        if receiver.seen:
            break
        await asyncio.sleep(0.01)
    assert len(receiver.delivered()) == 1


async def test_reset_forgets_deliveries(mock, receiver) -> None:
    await create(mock.client, receiver.url)
    await mock.client.post("/__admin/reset")
    await mock.advance(60)
    await drain(mock.client)
    assert receiver.seen == [] and await deliveries(mock.client) == []


async def test_a_body_that_violates_its_schema_is_never_sent(receiver) -> None:
    app = create_app(Settings(validate_responses=True))
    emulator = app.state.emulator
    provider = emulator.providers["acedata"]
    provider.callback_body = lambda task: ({"success": "maybe"}, "acedata/callback")
    await emulator.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://127.0.0.1:8000") as client:
            await create(client, receiver.url)
            emulator.clock.advance(60)
            await emulator.callbacks.drain()
            (log,) = await deliveries(client)
    finally:
        await emulator.stop()
    assert receiver.seen == [] and log["status"] == "dropped"
    assert [v["schema"] for v in emulator.schema_violations] == ["acedata/callback"]


def _sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(validate_responses=True, store=f"sqlite:{tmp_path / 'mock.db'}",
                    vendors={"acedata": dict(FAST_RETRIES)})


async def test_a_callback_due_after_a_restart_is_delivered(tmp_path, receiver) -> None:
    settings = _sqlite_settings(tmp_path)
    with ServerThread(settings) as first:
        async with httpx.AsyncClient(base_url=first.base_url) as client:
            task_id = await create(client, receiver.url)
            await client.post("/__admin/clock/advance", json={"seconds": 30})
    with ServerThread(settings) as second:
        async with httpx.AsyncClient(base_url=second.base_url) as client:
            (pending,) = await deliveries(client)
            assert pending["status"] == "pending" and receiver.seen == []
            await client.post("/__admin/clock/advance", json={"seconds": 30})
            await drain(client)
            assert [b["task_id"] for b in receiver.delivered()] == [task_id]
            assert (await deliveries(client))[0]["status"] == "delivered"
            assert second.emulator.schema_violations == []


async def test_a_retry_interrupted_by_a_restart_resumes(tmp_path, receiver) -> None:
    receiver.plan = ["drop", 200]
    settings = _sqlite_settings(tmp_path)
    with ServerThread(settings) as first:
        async with httpx.AsyncClient(base_url=first.base_url) as client:
            await create(client, receiver.url)
            await client.post("/__admin/clock/advance", json={"seconds": 60})
            await drain(client)
    assert len(receiver.seen) == 1
    with ServerThread(replace(settings)) as second:
        async with httpx.AsyncClient(base_url=second.base_url) as client:
            await client.post("/__admin/clock/advance", json={"seconds": 1})
            await drain(client)
            (log,) = await deliveries(client)
    assert log["status"] == "delivered" and len(log["attempts"]) == len(receiver.seen) == 2


async def test_admin_says_so_when_the_dispatcher_is_not_running() -> None:
    app = create_app(Settings(validate_responses=True))  # lifespan never started
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1:8000") as client:
        assert (await client.post("/__admin/callbacks/drain")).status_code == 503
        assert (await client.post("/__admin/callbacks/x/redeliver")).status_code == 503
        assert (await client.get("/__admin/callbacks/x")).status_code == 404
        assert (await deliveries(client)) == []


async def test_an_unusable_callback_host_is_a_failed_attempt_not_a_stuck_record(mock) -> None:
    task_id = await create(mock.client, "http://☃.invalid/hook")
    await mock.advance(60)
    await drain(mock.client)
    (record,) = [d for d in await deliveries(mock.client, vendor="acedata") if d["task_id"] == task_id]
    assert record["attempts"] and record["attempts"][0]["ok"] is False
    assert record["attempts"][0]["error"]
