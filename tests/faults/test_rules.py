"""Fault rules: validation, the Python API, standing rules from the config, seeded chaos."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.features.fault_rules import FaultError
from mockserver.settings import Settings, load_settings

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
ALICE = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}


@pytest.fixture(scope="module")
def admin_app() -> Starlette:
    """Validation is admin logic only: one in-process app serves every case."""
    return create_app(Settings(validate_responses=True))


@pytest.fixture
async def admin(admin_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.mark.parametrize(("rule", "complaint"), [
    ({"vendor": "nobody", "effect": "error", "code": "x"}, "unknown vendor 'nobody'"),
    ({"vendor": "dashscope", "effect": "explode"}, "unknown effect 'explode'"),
    ({"vendor": "dashscope", "effect": "error"}, "needs a 'code'"),
    ({"vendor": "dashscope", "effect": "error", "code": "Boom"}, "'Boom' is not a dashscope error"),
    ({"vendor": "dashscope", "effect": "fail_task", "code": "Nope"}, "not a dashscope task failure"),
    ({"vendor": "dashscope", "effect": "stall", "code": "InternalError"}, "takes no 'code'"),
    ({"vendor": "dashscope", "effect": "error", "code": "InternalError", "operation": "x"},
     "has no operation 'x'"),
    ({"vendor": "dashscope", "effect": "latency"}, "'latency' must be seconds"),
    ({"vendor": "dashscope", "effect": "latency", "latency": [2, 1]}, "min <= max"),
    ({"vendor": "dashscope", "effect": "latency", "latency": -1}, "min <= max"),
    ({"vendor": "dashscope", "effect": "drop", "latency": 1}, "takes no 'latency'"),
    ({"vendor": "dashscope", "effect": "drop", "times": 0}, "'times' must be a positive"),
    ({"vendor": "dashscope", "effect": "drop", "times": True}, "'times' must be a positive"),
    ({"vendor": "dashscope", "effect": "drop", "probability": 0}, "'probability' must be"),
    ({"vendor": "dashscope", "effect": "drop", "probability": 1.5}, "'probability' must be"),
    ({"vendor": "dashscope", "effect": "drop", "body": ["x"]}, "'body' must be an object"),
    ({"vendor": "dashscope", "effect": "drop", "account": 5}, "'account' must be a string"),
    ({"vendor": "dashscope", "effect": "drop", "colour": "red"}, "unknown field(s) ['colour']"),
    ([1, 2], "must be an object"),
])
async def test_invalid_rules_answer_400_with_a_clear_message(
        admin: httpx.AsyncClient, rule: Any, complaint: str) -> None:
    answer = await admin.post("/__admin/faults", json=rule)
    assert answer.status_code == 400
    assert complaint in answer.json()["error"]
    assert (await admin.get("/__admin/faults")).json()["count"] == 0


async def test_malformed_json_rule_is_400(admin: httpx.AsyncClient) -> None:
    answer = await admin.post("/__admin/faults", content=b"{nope")
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]


def test_python_api_mirrors_the_admin_api() -> None:
    emulator = create_app(Settings()).state.emulator
    rule = emulator.features["faults"].add({"vendor": "dashscope", "effect": "error", "code": "Throttling"})
    assert emulator.features["faults"].get(rule.id) is rule and rule.to_dict()["code"] == "Throttling"
    with pytest.raises(FaultError, match="unknown vendor"):
        emulator.features["faults"].add({"vendor": "x", "effect": "drop"})
    assert emulator.features["faults"].remove(rule.id) and not emulator.features["faults"].remove(rule.id)
    assert emulator.features["faults"].rules() == []


def test_claimed_account_reads_bearer_keys_and_tc3_secret_ids() -> None:
    emulator = create_app(Settings()).state.emulator
    assert emulator.claimed_account({"authorization": "Bearer sk-1"}) == "sk-1"
    tc3 = "TC3-HMAC-SHA256 Credential=AKIDmock/2024-01-01/aiart/tc3_request, SignedHeaders=x"
    assert emulator.claimed_account({"authorization": tc3}) == "AKIDmock"
    assert emulator.claimed_account({"authorization": tc3}, "tencent") == "AKIDmock"
    assert emulator.claimed_account({"authorization": tc3}, "dashscope") is None
    assert emulator.claimed_account({"authorization": "Basic abc"}) is None
    assert emulator.claimed_account({}) is None


CHAOS_TOML = """
[[faults]]
vendor = "dashscope"
operation = "gen_potrait"
effect = "error"
code = "InternalError"
probability = 0.3
seed = 7
"""


class TestStandingChaosRules:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        config = tmp_path / "chaos.toml"
        config.write_text(CHAOS_TOML, encoding="utf-8")
        loaded = load_settings({"config_path": str(config)}, env={})
        return replace(loaded, validate_responses=True, limits_enabled=False)

    async def test_the_same_sequence_again_after_reset(self, mock) -> None:
        listed = (await mock.client.get("/__admin/faults")).json()["faults"]
        assert [(r["code"], r["probability"], r["seed"]) for r in listed] == [
            ("InternalError", 0.3, "7")]
        first = await chaos_sequence(mock)
        assert set(first) == {200, 500} and 3 <= first.count(500) <= 16  # about 30 %
        await mock.client.post("/__admin/reset")  # standing rules come back, seeds fresh
        assert await chaos_sequence(mock) == first
        injected = await mock.client.post("/__admin/requests/count", json={"injected": True})
        assert injected.json()["count"] == first.count(500)

    async def test_the_same_seed_gives_the_same_sequence_in_another_app(
            self, mock, settings: Settings) -> None:
        rule = create_app(settings).state.emulator.features["faults"].rules()[0]
        fired = [rule.try_fire() for _ in range(30)]
        statuses = await chaos_sequence(mock)
        assert [s == 500 for s in statuses] == fired


async def chaos_sequence(mock, runs: int = 30) -> list[int]:
    return [(await mock.client.post(SUBMIT, json=JOB, headers=ALICE)).status_code
            for _ in range(runs)]


def test_a_bad_standing_rule_stops_the_start_up() -> None:
    bad = Settings(faults=({"vendor": "dashscope", "effect": "error", "code": "Nope"},))
    with pytest.raises(FaultError, match=r"\[\[faults\]\] entry 1: 'Nope'"):
        create_app(bad)
