"""Limits: the generic queue-depth cap (`max_queued`), and the documented defaults per vendor."""
from __future__ import annotations

from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
ALICE = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
BOB = {"Authorization": "Bearer sk-bob", "X-DashScope-Async": "enable"}
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}


async def post(mock, headers: dict[str, str] = ALICE) -> tuple[int, Any]:
    answer = await mock.client.post(SUBMIT, json=JOB, headers=headers)
    body = answer.json()
    return answer.status_code, body.get("code") or body["output"]["task_status"]


class TestQueueDepth:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"dashscope": {"max_queued": 2}})

    async def test_the_third_waiting_task_of_an_account_is_refused(self, mock) -> None:
        assert [await post(mock), await post(mock)] == [(200, "PENDING")] * 2
        await mock.advance(1)  # out of the 2 QPS window, both tasks still wait
        assert await post(mock) == (429, "Throttling")
        assert await post(mock, BOB) == (200, "PENDING")  # per account
        await mock.advance(2)  # the first task runs, one waits
        assert await post(mock) == (200, "PENDING")
        assert len(mock.emulator.store.list_tasks("dashscope")) == 4


class TestQueueDepthOptions:
    @pytest.fixture
    def settings(self) -> Settings:
        options = {"max_queued": 5, "gen_potrait_max_queued": 0,
                   "queue_full_code": "Throttling.AllocationQuota"}
        return Settings(validate_responses=True, vendors={"dashscope": options})

    async def test_pool_option_beats_vendor_option_and_the_code_is_configurable(self, mock) -> None:
        answer = await mock.client.post(SUBMIT, json=JOB, headers=ALICE)
        assert answer.status_code == 429
        assert answer.json()["code"] == "Throttling.AllocationQuota"


class TestNoLimits:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, limits_enabled=False,
                        vendors={"dashscope": {"max_queued": 0}})

    async def test_no_limits_switches_the_cap_off_too(self, mock) -> None:
        assert [await post(mock) for _ in range(5)] == [(200, "PENDING")] * 5


def test_queue_full_code_defaults_to_each_vendors_429_code() -> None:
    providers = create_app(Settings()).state.emulator.providers
    assert providers["dashscope"].queue_full_code() == "Throttling"
    assert providers["acedata"].queue_full_code() == "too_many_requests"
    assert providers["gptge"].queue_full_code() == "too_many_requests"


def test_documented_default_limits() -> None:
    """DashScope: 1 running task per account; the concurrency option and --no-limits change it."""
    emulator = create_app(Settings()).state.emulator
    assert emulator.providers["dashscope"].timing().concurrency == 1
    tuned = create_app(Settings(vendors={"dashscope": {"concurrency": 3}})).state.emulator
    assert tuned.providers["dashscope"].timing().concurrency == 3
    off = create_app(Settings(limits_enabled=False)).state.emulator
    assert off.providers["dashscope"].timing().concurrency is None
