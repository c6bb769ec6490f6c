"""One place resolves result URLs: a task is served only under its own vendor's path."""
from __future__ import annotations

import httpx
import pytest

from mockserver.app import create_app
from mockserver.providers import vendor_names
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio
HEADERS = {"Authorization": "Bearer sk-results", "X-DashScope-Async": "enable"}
BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
        "resources": [{"resource_id": "lora", "resource_type": "facelora"}]}


async def test_a_task_under_another_vendors_path_is_no_such_key() -> None:
    app = create_app(Settings())
    emulator = app.state.emulator
    await emulator.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://127.0.0.1:8000") as client:
            submitted = await client.post("/api/v1/services/aigc/album/gen_potrait",
                                          json=BODY, headers=HEADERS)
            task_id = submitted.json()["output"]["task_id"]
            emulator.clock.advance(120)
            own = await client.get(f"/results/dashscope/{task_id}/0.jpg")
            assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
            for vendor in set(vendor_names()) - {"dashscope"}:
                for name in (f"{task_id}.png", "0.jpg", "image.png"):
                    other = await client.get(f"/results/{vendor}/{task_id}/{name}")
                    assert other.status_code == 404, (vendor, name, other.text)
                    assert "<Code>NoSuchKey</Code>" in other.text
    finally:
        await emulator.stop()
