"""Many accounts submitting and polling at once against a real server (127.0.0.1, bounded):
every answer is in the vendor's catalogue, no task is lost, and limits hold per account."""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

ACCOUNTS = 20
ROUNDS = 4  # each round every account submits 3 times; 2 QPS lets 2 through
SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
CATALOGUE = json.loads((Path(__file__).parents[2] / "schemas/dashscope/catalogue.json")
                       .read_text(encoding="utf-8"))["errors"]


@pytest.fixture
def settings() -> Settings:
    # The emulated clock barely moves on its own, so a 2 QPS window is one round, however
    # long the round takes in real time; the test advances it.
    return Settings(validate_responses=True, time_scale=0.001)


def headers(account: int) -> dict[str, str]:
    return {"Authorization": f"Bearer sk-load-{account}", "X-DashScope-Async": "enable"}


def check_in_catalogue(answer: httpx.Response) -> None:
    if answer.status_code != 200:
        code = answer.json()["code"]
        assert code in CATALOGUE and CATALOGUE[code]["status"] == answer.status_code, answer.text


async def test_many_accounts_at_once(server) -> None:
    started = time.perf_counter()
    accepted: dict[int, list[str]] = {a: [] for a in range(ACCOUNTS)}
    # Idle connections expire before uvicorn's 5 s keep-alive timeout closes them under us.
    limits = httpx.Limits(max_connections=64, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:

        async def submit(account: int) -> tuple[int, str]:
            answer = await client.post(SUBMIT, json=JOB, headers=headers(account))
            check_in_catalogue(answer)
            body = answer.json()
            if answer.status_code == 200:
                accepted[account].append(body["output"]["task_id"])
                return account, "submitted"
            return account, body["code"]

        async def poll(account: int, task_id: str) -> tuple[int, str]:
            answer = await client.get(f"/api/v1/tasks/{task_id}", headers=headers(account))
            check_in_catalogue(answer)
            return account, answer.json()["output"]["task_status"]

        for _ in range(ROUNDS):  # submits and polls of every earlier task, all at once
            polls = [poll(a, t) for a, ids in accepted.items() for t in ids]
            outcomes = Counter(await asyncio.gather(
                *(submit(a) for a in range(ACCOUNTS) for _ in range(3)), *polls))
            for account in range(ACCOUNTS):  # per account, not one global budget
                assert outcomes[(account, "submitted")] == 2
                assert outcomes[(account, "Throttling.RateQuota")] == 1
                assert outcomes[(account, "RUNNING")] <= 1
            server.emulator.clock.advance(1.0)

        total = ACCOUNTS * ROUNDS * 2
        for _ in range(12):  # 8 tasks an account, one at a time: about 8 x 30 s
            listed = (await client.get("/__admin/tasks", params={"vendor": "dashscope"})).json()
            assert listed["count"] == total  # none lost
            running = Counter(t["account"] for t in listed["tasks"] if t["state"] == "running")
            assert max(running.values(), default=0) <= 1, running  # 1 running task each
            if all(t["state"] == "succeeded" for t in listed["tasks"]):
                break
            server.emulator.clock.advance(30.0)
        final = Counter(await asyncio.gather(*(poll(a, t) for a, ids in accepted.items()
                                               for t in ids)))
        assert final == Counter({(a, "SUCCEEDED"): ROUNDS * 2 for a in range(ACCOUNTS)})
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"the load test took {elapsed:.1f} s"
