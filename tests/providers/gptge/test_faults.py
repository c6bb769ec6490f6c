"""Fault injection on gpt.ge: documented failure states, stalls (state 0) and gateway errors."""
from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio


async def add_fault(api: Any, **rule: Any) -> str:
    answer = await api.client.post("/__admin/faults", json={"vendor": "gptge", **rule})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_fail_task_with_a_documented_state(api: Any) -> None:
    await add_fault(api, effect="fail_task", code="-2", times=1)
    task_id = await api.create({"size": "200x200"}, api.upload("face.jpg"))
    failed = await api.finish(task_id)
    assert (failed["state"], failed["state_detail"], failed["err_info"]) == (-2, "Upload failed", "Upload failed")
    assert "image" not in failed


async def test_a_stalled_task_stays_in_state_0_until_released(api: Any) -> None:
    rule = await add_fault(api, effect="stall")
    task_id = await api.create({"size": "200x200"}, api.upload("face.jpg"))
    await api.mock.advance(60)
    held = await api.query(task_id)
    assert (held["state"], held["state_detail"], held["progress"]) == (0, "Queued", 0)
    assert (await api.client.delete(f"/__admin/faults/{rule}")).status_code == 200
    assert (await api.finish(task_id))["state"] == 1


async def test_gateway_error_uses_the_vendor_envelope(api: Any) -> None:
    await add_fault(api, effect="error", code="internal_error", operation="idphoto", times=1)
    answer = await api.post({"image_url": api.fixture_url("face.jpg")})
    assert answer.status_code == 500
    assert answer.json() == {"status": 500, "message": "Internal server error."}
