"""DashScope facechain over raw HTTP, in-process and against a real server."""
from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
KEY = {"Authorization": "Bearer sk-alice", "X-DashScope-Async": "enable"}
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 2},
          "resources": LORA}
TRAIN_FREE = {"model": "facechain-generation",
              "parameters": {"style": "train_free_portrait_url_template", "n": 1},
              "input": {"template_url": "http://127.0.0.1/t.jpg",
                        "user_urls": ["http://127.0.0.1/u.jpg"]}}


async def submit(mock, body: dict[str, Any] = PRESET, headers: dict[str, str] = KEY) -> str:
    answer = await mock.client.post(SUBMIT, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]["task_status"] == "PENDING"
    return answer.json()["output"]["task_id"]


async def query(mock, task_id: str, key: str = "sk-alice") -> dict[str, Any]:
    answer = await mock.client.get(f"/api/v1/tasks/{task_id}",
                                   headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    return answer.json()


async def test_task_goes_pending_running_succeeded_with_downloadable_results(mock) -> None:
    task_id = await submit(mock)
    assert (await query(mock, task_id))["output"]["task_status"] == "PENDING"
    await mock.advance(3)
    running = await query(mock, task_id)
    assert running["output"]["task_status"] == "RUNNING"
    assert running["output"]["task_metrics"]["TOTAL"] == 2
    await mock.advance(30)
    done = await query(mock, task_id)
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert done["usage"] == {"image_count": 2}
    urls = [r["url"] for r in done["output"]["results"]]
    assert len(urls) == 2 and all(u.startswith(mock.base_url) for u in urls)
    image = await mock.client.get(urls[0])
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


async def test_results_are_deterministic(mock) -> None:
    task_id = await submit(mock)
    await mock.advance(60)
    url = (await query(mock, task_id))["output"]["results"][0]["url"]
    first, second = await mock.client.get(url), await mock.client.get(url)
    assert first.content == second.content


async def test_task_and_results_expire_after_24_hours(mock) -> None:
    task_id = await submit(mock)
    await mock.advance(60)
    url = (await query(mock, task_id))["output"]["results"][0]["url"]
    await mock.advance(24 * 3600)
    assert (await query(mock, task_id))["output"] == {"task_id": task_id, "task_status": "UNKNOWN"}
    expired = await mock.client.get(url)
    assert expired.status_code == 403 and b"AccessDenied" in expired.content


async def test_one_running_task_per_account_others_wait_pending(mock) -> None:
    first, second = await submit(mock), await submit(mock)
    await mock.advance(3)
    assert (await query(mock, first))["output"]["task_status"] == "RUNNING"
    assert (await query(mock, second))["output"]["task_status"] == "PENDING"
    other = await submit(mock, headers={**KEY, "Authorization": "Bearer sk-bob"})
    await mock.advance(0.5)  # rate window is per account too; bob's task runs at once
    await mock.advance(2)
    assert (await query(mock, other, "sk-bob"))["output"]["task_status"] == "RUNNING"
    await mock.advance(30)
    assert (await query(mock, first))["output"]["task_status"] == "SUCCEEDED"
    assert (await query(mock, second))["output"]["task_status"] == "RUNNING"


async def test_foreign_and_missing_tasks_are_unknown(mock) -> None:
    task_id = await submit(mock)
    foreign = await query(mock, task_id, key="sk-mallory")
    assert foreign["output"] == {"task_id": task_id, "task_status": "UNKNOWN"}
    missing = await query(mock, "no-such-task")
    assert missing["output"]["task_status"] == "UNKNOWN"


async def test_cancel_pending_task_then_not_again(mock) -> None:
    running, waiting = await submit(mock), await submit(mock)
    cancel = await mock.client.post(f"/api/v1/tasks/{waiting}/cancel", headers=KEY)
    assert cancel.status_code == 200 and set(cancel.json()) == {"request_id"}
    assert (await query(mock, waiting))["output"]["task_status"] == "CANCELED"
    again = await mock.client.post(f"/api/v1/tasks/{waiting}/cancel", headers=KEY)
    assert again.status_code == 400 and again.json()["code"] == "UnsupportedOperation"
    await mock.advance(3)
    late = await mock.client.post(f"/api/v1/tasks/{running}/cancel", headers=KEY)
    assert late.json()["code"] == "UnsupportedOperation"


async def test_cancel_lets_the_next_queued_task_move_up(mock) -> None:
    first, second, third = await submit(mock), await submit(mock), None
    await mock.advance(1.1)
    third = await submit(mock)
    await mock.client.post(f"/api/v1/tasks/{second}/cancel", headers=KEY)
    await mock.advance(32)  # first ends at ~32 s; third takes its slot, not 30 s later
    assert (await query(mock, first))["output"]["task_status"] == "SUCCEEDED"
    assert (await query(mock, third))["output"]["task_status"] == "RUNNING"


@pytest.mark.parametrize(
    ("headers", "status", "code", "message"),
    [
        ({"X-DashScope-Async": "enable"}, 401, "InvalidApiKey", "No API-key provided."),
        ({**KEY, "Authorization": "Bearer invalid-token"}, 401, "InvalidApiKey",
         "Invalid API-key provided."),
        ({**KEY, "Authorization": "Basic abc"}, 401, "InvalidApiKey", "Invalid API-key provided."),
        ({"Authorization": "Bearer sk-alice"}, 403, "AccessDenied",
         "current user api does not support synchronous calls"),
    ],
)
async def test_gateway_errors(mock, headers, status, code, message) -> None:
    answer = await mock.client.post(SUBMIT, json=PRESET, headers=headers)
    assert answer.status_code == status
    body = answer.json()
    assert (body["code"], body["message"]) == (code, message)
    assert body["request_id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**PRESET, "model": "wanx-v1"}, "InvalidParameter"),
        ({**PRESET, "parameters": {"style": "f_cartoon"}}, "InvalidParameter"),
        ({**PRESET, "parameters": {"style": "f_idcard_male", "n": 5}}, "InvalidParameter"),
        ({**PRESET, "parameters": {"style": "f_idcard_male", "n": 0}}, "InvalidParameter"),
        ({**PRESET, "parameters": {"style": "f_idcard_male", "size": "512*512"}}, "InvalidParameter"),
        ({**PRESET, "parameters": {"n": 1}}, "InvalidParameter"),
        ({**PRESET, "resources": []}, "InvalidParameter"),
        ({**PRESET, "resources": [{"resource_id": "x", "resource_type": "lora"}]}, "InvalidParameter"),
        ({**PRESET, "parameters": {"style": "portrait_url_template"}}, "InvalidParameter"),
        ({**TRAIN_FREE, "input": {"template_url": "http://127.0.0.1/t.jpg"}}, "InvalidParameter"),
        ({**TRAIN_FREE, "input": {"template_url": "http://127.0.0.1/t.jpg",
                                  "user_urls": ["http://127.0.0.1/u.jpg"] * 6}}, "InvalidParameter"),
        ({**TRAIN_FREE, "input": {"template_url": "http://127.0.0.1/模板.jpg",
                                  "user_urls": ["http://127.0.0.1/u.jpg"]}}, "InvalidURL"),
        ({**TRAIN_FREE, "input": {"template_url": "ftp://127.0.0.1/t.jpg",
                                  "user_urls": ["http://127.0.0.1/u.jpg"]}}, "InvalidURL"),
        ([1, 2], "InvalidParameter"),
    ],
)
async def test_invalid_submissions(mock, body, code) -> None:
    answer = await mock.client.post(SUBMIT, json=body, headers=KEY)
    assert answer.status_code == 400
    assert answer.json()["code"] == code


async def test_malformed_json_is_invalid_parameter(mock) -> None:
    answer = await mock.client.post(SUBMIT, content=b"{not json", headers=KEY)
    assert answer.status_code == 400 and answer.json()["code"] == "InvalidParameter"


async def test_train_free_and_template_modes_are_accepted(mock) -> None:
    await submit(mock, TRAIN_FREE)
    await mock.advance(1)
    template = {**PRESET, "parameters": {"style": "portrait_url_template", "n": 1},
                "input": {"template_url": "http://127.0.0.1/t.jpg"}}
    await submit(mock, template)


async def test_submit_rate_limit_is_two_per_second_per_account(mock) -> None:
    await submit(mock)
    await submit(mock)
    third = await mock.client.post(SUBMIT, json=PRESET, headers=KEY)
    assert third.status_code == 429 and third.json()["code"] == "Throttling.RateQuota"
    await submit(mock, headers={**KEY, "Authorization": "Bearer sk-carol"})
    await mock.advance(1)
    await submit(mock)


async def test_unknown_path_under_api_v1_is_vendor_not_found(mock) -> None:
    answer = await mock.client.get("/api/v1/nothing/here", headers=KEY)
    assert answer.status_code == 404 and answer.json()["code"] == "NotFound"


async def test_journal_records_operations_and_masks_keys(mock) -> None:
    task_id = await submit(mock)
    journal = (await mock.client.get("/__admin/requests", params={"vendor": "dashscope"})).json()
    entry = journal["requests"][0]
    assert entry["operation"] == "gen_potrait" and entry["task_id"] == task_id
    assert "sk-alice" not in entry["headers"]["authorization"]


class TestFailedTasks:
    @pytest.fixture
    def settings(self):
        from mockserver.settings import Settings

        return Settings(validate_responses=True)

    async def test_failed_task_view(self, mock) -> None:
        task_id = await submit(mock)
        task = mock.emulator.store.get_task(task_id)
        task.outcome, task.error_code = "failed", "InvalidImageResolution"
        task.error_message = "The input image resolution is too large or small"
        mock.emulator.store.put_task(task)
        await mock.advance(60)
        body = await query(mock, task_id)
        assert body["output"]["task_status"] == "FAILED"
        assert body["output"]["code"] == "InvalidImageResolution"
        assert body["usage"] == {"image_count": 0}


class TestStrictAuth:
    @pytest.fixture
    def settings(self):
        from mockserver.settings import Settings

        return Settings(validate_responses=True, strict_auth=True, api_keys=("sk-alice",))

    async def test_only_configured_keys_are_accepted(self, mock) -> None:
        await submit(mock)
        other = await mock.client.post(SUBMIT, json=PRESET,
                                       headers={**KEY, "Authorization": "Bearer sk-stranger"})
        assert other.status_code == 401 and other.json()["code"] == "InvalidApiKey"


async def test_the_journal_says_why_a_submit_was_invalid(mock) -> None:
    body = {**PRESET, "parameters": {"style": "f_idcard_male", "size": "512*512"}}
    assert (await mock.client.post(SUBMIT, json=body, headers=KEY)).status_code == 400
    entry = (await mock.client.get("/__admin/requests", params={"vendor": "dashscope"})).json()
    assert entry["requests"][0]["note"]["error_detail"] == "parameters.size '512*512' is not supported"
