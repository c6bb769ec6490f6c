"""DashScope's task list `GET /api/v1/tasks` over raw HTTP, in-process and against a server."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from mockserver.providers.dashscope.models import BEIJING

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
LIST = "/api/v1/tasks"
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
          "resources": LORA}
ITEM_FIELDS = {"task_id", "status", "model_name", "region", "request_id", "api_key_id",
               "caller_uid", "caller_parent_id", "user_api_unique_key", "gmt_create"}


def auth(key: str = "sk-alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def vendor_time(ts: float) -> str:
    """`YYYYMMDDhhmmss` in UTC+8, as the list takes its bounds."""
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y%m%d%H%M%S")


async def submit(mock, key: str = "sk-alice", body: dict[str, Any] = PRESET) -> tuple[str, str]:
    """(task id, the submit's request id)."""
    answer = await mock.client.post(SUBMIT, json=body,
                                    headers={**auth(key), "X-DashScope-Async": "enable"})
    assert answer.status_code == 200, answer.text
    return answer.json()["output"]["task_id"], answer.json()["request_id"]


async def listing(mock, key: str = "sk-alice", path: str = LIST, **params: Any) -> dict[str, Any]:
    answer = await mock.client.get(path, params=params, headers=auth(key))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def refusal(mock, **params: Any) -> tuple[int, str]:
    answer = await mock.client.get(LIST, params=params, headers=auth())
    return answer.status_code, answer.json()["code"]


async def test_the_list_shows_the_accounts_tasks_newest_first_with_or_without_slash(mock) -> None:
    first, _ = await submit(mock)
    await mock.advance(1)  # submit QPS 2
    second, _ = await submit(mock)
    foreign, _ = await submit(mock, "sk-bob")
    for path in (LIST, LIST + "/"):
        page = await listing(mock, path=path)
        assert set(page) == {"request_id", "data", "page_no", "page_size", "total", "total_page"}
        assert (page["page_no"], page["page_size"], page["total"], page["total_page"]) == (1, 10, 2, 1)
        assert [item["task_id"] for item in page["data"]] == [second, first]
    assert [i["task_id"] for i in (await listing(mock, "sk-bob"))["data"]] == [foreign]
    assert (await listing(mock, "sk-carol"))["data"] == []


async def test_items_carry_epoch_milliseconds_as_their_state_allows(mock) -> None:
    running, request_id = await submit(mock)
    waiting, _ = await submit(mock)  # one running task per account: this one stays PENDING
    await mock.advance(3)
    items = {i["task_id"]: i for i in (await listing(mock))["data"]}
    task = mock.emulator.store.get_task(running)
    assert set(items[running]) == ITEM_FIELDS | {"start_time"}
    assert items[running]["status"] == "RUNNING"
    assert items[running]["gmt_create"] == round(task.created_at * 1000)
    assert items[running]["start_time"] == round(task.start_at * 1000)
    assert items[running]["request_id"] == request_id
    assert items[running]["model_name"] == "facechain-generation"
    assert items[running]["region"] == "cn-beijing"
    assert items[running]["user_api_unique_key"] == (
        "apikey:v1:aigc:album:gen_potrait:facechain-generation")
    assert set(items[waiting]) == ITEM_FIELDS and items[waiting]["status"] == "PENDING"
    await mock.client.post(f"{LIST}/{waiting}/cancel", headers=auth())
    await mock.advance(30)
    items = {i["task_id"]: i for i in (await listing(mock))["data"]}
    assert items[running]["status"] == "SUCCEEDED"
    assert items[running]["end_time"] == round(task.end_at * 1000)
    assert items[waiting]["status"] == "CANCELED" and "end_time" in items[waiting]
    assert "start_time" not in items[waiting]


async def test_pages_and_filters(mock) -> None:
    ids = []
    for _ in range(3):
        ids.append((await submit(mock))[0])
        await mock.advance(1)
    ids.reverse()  # newest first
    first = await listing(mock, page_size=2)
    assert [i["task_id"] for i in first["data"]] == ids[:2]
    assert (first["total"], first["total_page"], first["page_size"]) == (3, 2, 2)
    second = await listing(mock, page_size=2, page_no=2)
    assert [i["task_id"] for i in second["data"]] == ids[2:] and second["page_no"] == 2
    assert (await listing(mock, page_no=9))["data"] == []
    statuses = {i["task_id"]: i["status"] for i in first["data"] + second["data"]}
    running = [t for t, s in statuses.items() if s == "RUNNING"]
    assert [i["task_id"] for i in (await listing(mock, status="RUNNING"))["data"]] == running
    assert (await listing(mock, model_name="wanx-v1"))["total"] == 0
    assert (await listing(mock, model_name="facechain-generation"))["total"] == 3
    assert (await listing(mock, region="cn-beijing"))["total"] == 3
    only = await listing(mock, task_id=ids[1])
    assert [i["task_id"] for i in only["data"]] == [ids[1]]
    assert (await listing(mock, "sk-bob", task_id=ids[1]))["data"] == []


async def test_the_window_is_24_hours_of_creation_time_in_utc_plus_8(mock) -> None:
    old, _ = await submit(mock)
    created = mock.emulator.store.get_task(old).created_at
    await mock.advance(3600)
    new, _ = await submit(mock)
    hour_of_old = {"start_time": vendor_time(created - 1), "end_time": vendor_time(created + 60)}
    assert [i["task_id"] for i in (await listing(mock, **hour_of_old))["data"]] == [old]
    # One bound: the 24 h after start_time, or before end_time.
    after = await listing(mock, start_time=vendor_time(created + 60))
    assert [i["task_id"] for i in after["data"]] == [new]
    before = await listing(mock, end_time=vendor_time(created + 60))
    assert [i["task_id"] for i in before["data"]] == [old]
    await mock.advance(23 * 3600)  # old is 24 h old now: out of the default window
    assert [i["task_id"] for i in (await listing(mock))["data"]] == [new]


async def test_expired_tasks_are_gone_from_the_list(mock) -> None:
    await submit(mock)
    await mock.advance(25 * 3600)  # ended ~32 s after submit, kept 24 h
    page = await listing(mock, start_time=vendor_time(mock.emulator.clock.now() - 86000))
    assert page["data"] == [] and page["total"] == 0 and page["total_page"] == 0
    assert (await listing(mock, status="UNKNOWN"))["total"] == 0


async def test_failed_inputs_show_as_failed_never_as_succeeded_first(mock) -> None:
    fixtures = f"{mock.base_url}/__admin/fixtures"
    body = {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": f"{fixtures}/template.jpg",
                      "user_urls": [f"{fixtures}/tiny.jpg"]}}
    task_id, _ = await submit(mock, body=body)
    await mock.advance(60)
    (item,) = (await listing(mock))["data"]
    assert (item["task_id"], item["status"]) == (task_id, "FAILED")


@pytest.mark.parametrize(
    "params",
    [
        {"start_time": "2026-12-01 10:00:00"},
        {"start_time": "20261345000000"},  # month 13
        {"start_time": "20261201000000", "end_time": "20261202000001"},  # over 24 h
        {"start_time": "20261202000000", "end_time": "20261201000000"},  # end before start
        {"status": "DONE"},
        {"page_no": "0"},
        {"page_size": "ten"},
        {"page_size": "-1"},
    ],
)
async def test_bad_parameters_are_invalid_parameter(mock, params) -> None:
    assert await refusal(mock, **params) == (400, "InvalidParameter")


async def test_exactly_24_hours_is_allowed(mock) -> None:
    page = await listing(mock, start_time="20261201000000", end_time="20261202000000")
    assert page["total"] == 0


async def test_key_errors_and_20_lists_per_second(mock) -> None:
    missing = await mock.client.get(LIST)
    assert (missing.status_code, missing.json()["message"]) == (401, "No API-key provided.")
    assert (await mock.client.get(LIST, headers=auth("invalid-token"))).status_code == 401
    answers = [(await mock.client.get(LIST, headers=auth())).status_code for _ in range(21)]
    assert answers[:20] == [200] * 20 and answers[20] == 429
    limited = await mock.client.get(LIST, headers=auth())
    assert limited.json()["code"] == "Throttling.RateQuota"
    assert (await mock.client.get(LIST, headers=auth("sk-bob"))).status_code == 200
    await mock.advance(1)
    assert (await mock.client.get(LIST, headers=auth())).status_code == 200


async def test_cancel_is_limited_to_20_per_second(mock) -> None:
    answers = [(await mock.client.post(f"{LIST}/no-such-task/cancel", headers=auth())).json()["code"]
               for _ in range(21)]
    assert answers[:20] == ["UnsupportedOperation"] * 20
    assert answers[20] == "Throttling.RateQuota"
    await mock.advance(1)
    again = await mock.client.post(f"{LIST}/no-such-task/cancel", headers=auth())
    assert again.json()["code"] == "UnsupportedOperation"


async def test_the_journal_names_the_list_operation(mock) -> None:
    await listing(mock, status="PENDING")
    (entry,) = mock.emulator.journal.entries()
    assert (entry.operation, entry.query, entry.status) == ("list_tasks", "status=PENDING", 200)
