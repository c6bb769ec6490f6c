"""A gpt.ge task's life on the mock clock: states 2 -> 3 -> 4 -> 1, timing fields, expiry."""
from __future__ import annotations

from typing import Any

import pytest

from mockserver.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings() -> Settings:
    # Long phases so every state can be observed between clock advances.
    return Settings(validate_responses=True,
                    vendors={"gptge": {"queue_seconds": 10, "run_seconds": 20}})


async def test_async_task_walks_through_the_documented_states(api: Any) -> None:
    task_id = await api.create({"size": "300x400"}, api.upload("face.jpg"))
    preparing = await api.query(task_id)
    assert (preparing["state"], preparing["state_detail"], preparing["progress"]) == (2, "Preparing", 0)
    assert "image" not in preparing and "processed_at" not in preparing
    await api.mock.advance(6)
    assert (await api.query(task_id))["state"] == 3
    await api.mock.advance(9)  # 5 s into the 20 s run
    running = await api.query(task_id)
    assert running["state"] == 4 and 0 < running["progress"] < 100
    assert running["processed_at"] >= running["created_at"]
    await api.mock.advance(20)
    done = await api.query(task_id)
    assert (done["state"], done["state_detail"], done["progress"], done["err_info"]) == (1, "Complete", 100, "")
    assert (done["image_width"], done["image_height"]) == (300, 400)
    assert done["completed_at"] - done["processed_at"] == 20
    assert done["processed_at"] - done["created_at"] == 10
    assert (done["type"], done["output_type"], done["result_type"], done["return_type"]) == ("auto", 2, "object", 1)
    assert done["download_time"] == 0 and done["time_elapsed"] > 0
    assert done["image"].startswith(f"{api.mock.base_url}/results/gptge/{task_id}/")


async def test_sync_call_waits_for_the_clock_and_answers_the_finished_task(api: Any) -> None:
    answer = await api.sync({"size": "200x200", "image_url": api.fixture_url("face.jpg")},
                            advance=31)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert answer.json()["status"] == 200 and data["state"] == 1
    assert (data["image_width"], data["image_height"]) == (200, 200)
    assert data["completed_at"] - data["created_at"] == 30
    assert data == await api.query(data["task_id"])  # the query answers the same object


async def test_task_and_result_url_expire_one_hour_after_completion(api: Any) -> None:
    task_id = await api.create({"size": "120x160"}, api.upload("face.jpg"))
    await api.mock.advance(31)
    done = await api.query(task_id)
    assert (await api.client.get(done["image"])).status_code == 200
    await api.mock.advance(3500)  # 1 h after completion is 3569 s from here
    assert (await api.client.get(done["image"])).status_code == 200
    await api.mock.advance(100)
    expired = await api.client.get(done["image"])
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    gone = await api.client.get(f"/task/{task_id}", headers=api.key())
    assert gone.status_code == 404 and gone.json()["status"] == 404
