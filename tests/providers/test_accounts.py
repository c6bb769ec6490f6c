"""One account, several keys (`[vendors.<vendor>.accounts]`) for every bearer vendor.

DashScope documents it: tasks, limits and the running slot belong to the Alibaba Cloud account,
shared by all of its keys. The same table works for AceData and gpt.ge; any key not listed
stays its own account.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.core.auth import AccountsError, BearerAuth, KeyStatus
from mockserver.settings import Settings, load_settings

pytestmark = pytest.mark.anyio

DS_SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
DS_BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
           "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
ACEDATA_BODY = {"mode": "fast", "template": "male_portrait",
                "image_urls": ["https://cdn.example.com/portrait.jpg"], "async": True}
ACCOUNTS: dict[str, dict[str, Any]] = {
    "dashscope": {"accounts": {"team": ["sk-submit", "sk-poll"]}},
    "acedata": {"accounts": {"studio": ["tok-a", "tok-b"]}},
    "gptge": {"accounts": {"shop": ["sk-front", "sk-back"]}, "concurrency": 1},
}


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True, vendors=ACCOUNTS)


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


async def ds_submit(mock, key: str) -> Any:
    return await mock.client.post(DS_SUBMIT, json=DS_BODY,
                                  headers=bearer(key, **{"X-DashScope-Async": "enable"}))


async def ds_status(mock, task_id: str, key: str) -> str:
    answer = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=bearer(key))
    return str(answer.json()["output"]["task_status"])


# --- DashScope ---------------------------------------------------------------------------------

async def test_dashscope_keys_of_one_account_see_list_and_cancel_each_others_tasks(mock) -> None:
    first = (await ds_submit(mock, "sk-submit")).json()["output"]["task_id"]
    second = (await ds_submit(mock, "sk-poll")).json()["output"]["task_id"]
    assert await ds_status(mock, first, "sk-poll") == "PENDING"
    assert await ds_status(mock, first, "sk-outsider") == "UNKNOWN"
    listed = (await mock.client.get("/api/v1/tasks", headers=bearer("sk-poll"))).json()["data"]
    assert [i["task_id"] for i in listed] == [second, first]
    by_id = {i["task_id"]: i for i in listed}
    assert by_id[first]["api_key_id"] != by_id[second]["api_key_id"]  # the key that submitted
    assert by_id[first]["caller_parent_id"] == by_id[second]["caller_parent_id"]
    assert (await mock.client.get("/api/v1/tasks", headers=bearer("sk-outsider"))).json()[
        "data"] == []
    canceled = await mock.client.post(f"/api/v1/tasks/{second}/cancel", headers=bearer("sk-submit"))
    assert canceled.status_code == 200
    assert await ds_status(mock, second, "sk-poll") == "CANCELED"


async def test_dashscope_keys_of_one_account_share_qps_and_the_running_slot(mock) -> None:
    assert (await ds_submit(mock, "sk-submit")).status_code == 200
    first = (await ds_submit(mock, "sk-poll")).json()["output"]["task_id"]
    limited = await ds_submit(mock, "sk-submit")  # the account's third submit in one second
    assert (limited.status_code, limited.json()["code"]) == (429, "Throttling.RateQuota")
    assert (await ds_submit(mock, "sk-outsider")).status_code == 200  # its own account
    await mock.advance(3)
    statuses = {i["task_id"]: i["status"] for i in (await mock.client.get(
        "/api/v1/tasks", headers=bearer("sk-submit"))).json()["data"]}
    assert sorted(statuses.values()) == ["PENDING", "RUNNING"]  # one slot for the account
    assert statuses[first] == "PENDING"


async def test_journal_admin_views_and_fault_rules_name_the_account(mock) -> None:
    by_account = {"vendor": "dashscope", "effect": "error", "code": "Throttling",
                  "account": "team", "times": 2}
    assert (await mock.client.post("/__admin/faults", json=by_account)).status_code == 201
    assert (await ds_submit(mock, "sk-submit")).json()["code"] == "Throttling"
    assert (await ds_submit(mock, "sk-poll")).json()["code"] == "Throttling"
    by_key = {"vendor": "dashscope", "effect": "error", "code": "Throttling",
              "account": "sk-poll", "times": 1}
    await mock.client.post("/__admin/faults", json=by_key)
    assert (await ds_submit(mock, "sk-submit")).status_code == 200
    await mock.advance(1)
    assert (await ds_submit(mock, "sk-poll")).json()["code"] == "Throttling"
    journal = (await mock.client.get("/__admin/requests",
                                     params={"vendor": "dashscope", "account": "team"})).json()
    assert len(journal["requests"]) == 4
    tasks = (await mock.client.get("/__admin/tasks", params={"account": "team"})).json()
    assert tasks["count"] == 1 and tasks["tasks"][0]["account"] == "team"


async def test_an_account_name_is_not_a_key(mock) -> None:
    refused = await ds_submit(mock, "team")
    assert (refused.status_code, refused.json()["code"]) == (401, "InvalidApiKey")


# --- AceData -----------------------------------------------------------------------------------

async def test_acedata_keys_of_one_account_share_tasks_and_limits(mock) -> None:
    created = await mock.client.post("/headshots/generate", json=ACEDATA_BODY,
                                     headers=bearer("tok-a"))
    task_id = created.json()["task_id"]
    retrieve = {"action": "retrieve", "id": task_id}
    mine = await mock.client.post("/headshots/tasks", json=retrieve, headers=bearer("tok-b"))
    assert mine.status_code == 200 and mine.json()["id"] == task_id
    other = await mock.client.post("/headshots/tasks", json=retrieve, headers=bearer("tok-c"))
    assert other.status_code == 404
    answers = [(await mock.client.post("/headshots/generate", json=ACEDATA_BODY,
                                       headers=bearer(key))).status_code
               for key in ("tok-b", "tok-a", "tok-b", "tok-a", "tok-b")]
    assert answers == [200, 200, 200, 200, 429]  # 5 per second for the account, one in already


# --- gpt.ge ------------------------------------------------------------------------------------

async def test_gptge_keys_of_one_account_share_tasks_limits_and_slots(mock) -> None:
    form = {"image_url": f"{mock.base_url}/__admin/fixtures/face.jpg", "size": "100x100"}
    ids = []
    for key in ("sk-front", "sk-back"):
        answer = await mock.client.post("/task/pic/idphoto", data=form, headers=bearer(key))
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["data"]["task_id"])
    limited = await mock.client.post("/task/pic/idphoto", data=form, headers=bearer("sk-front"))
    assert limited.status_code == 429
    seen = await mock.client.get(f"/task/{ids[0]}", headers=bearer("sk-back"), timeout=60)
    assert seen.status_code == 200
    assert (await mock.client.get(f"/task/{ids[0]}", headers=bearer("sk-else"))).status_code == 404
    first, second = (mock.emulator.store.get_task(i) for i in ids)
    assert first.account == second.account == "shop"
    assert second.start_at >= first.end_at  # `concurrency = 1` is the account's, not the key's


# --- configuration -----------------------------------------------------------------------------

def test_accounts_from_the_toml_config(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[vendors.dashscope.accounts]\nteam = ["sk-1", "sk-2"]\n')
    settings = load_settings({}, {"MOCKSERVER_CONFIG": str(config)})
    auth = create_app(settings).state.emulator.auth
    assert auth.check("Bearer sk-2", "dashscope").account == "team"
    assert auth.check("Bearer sk-2", "acedata").account == "sk-2"  # per vendor
    assert auth.check("Bearer sk-9", "dashscope").account == "sk-9"


def test_strict_auth_accepts_the_accounts_keys() -> None:
    auth = BearerAuth.configure(True, ("sk-listed",), {"gptge": {"accounts": {"t": ["sk-t"]}}})
    assert auth.check("Bearer sk-t", "gptge").status is KeyStatus.OK
    assert auth.check("Bearer sk-listed", "gptge").account == "sk-listed"
    assert auth.check("Bearer sk-t", "acedata").status is KeyStatus.INVALID


@pytest.mark.parametrize(("table", "says"), [
    (["sk-1"], "must be a table"),
    ({"team": "sk-1"}, "non-empty list"),
    ({"team": []}, "non-empty list"),
    ({"team": ["sk 1"]}, "not a usable bearer key"),
    ({"team": ["invalid-token"]}, "always refused"),
    ({"a": ["sk-1"], "b": ["sk-1"]}, "in both"),
    ({"a": ["b"], "b": ["sk-2"]}, "both an account name and another account's key"),
])
def test_a_bad_accounts_table_is_one_line(table: Any, says: str) -> None:
    with pytest.raises(AccountsError) as refused:
        create_app(Settings(vendors={"dashscope": {"accounts": table}}))
    assert says in str(refused.value) and "[vendors.dashscope.accounts]" in str(refused.value)
