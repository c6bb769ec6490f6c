"""A restarted server on the same SQLite store serves the same photo and finishes tasks that
were acknowledged before the restart."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:8000"
KEY = {"Authorization": "Bearer sk-alice"}
FACE = (Path(__file__).resolve().parents[3] / "fixtures" / "images" / "face.jpg").read_bytes()


async def _run(store: str, steps):  # type: ignore[no-untyped-def]
    app = create_app(Settings(store=store, validate_responses=True))
    emulator = app.state.emulator
    await emulator.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
            return await steps(c, emulator)
    finally:
        await emulator.stop()
        assert emulator.schema_violations == []


async def test_result_survives_a_restart_byte_for_byte(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'store.db'}"

    async def first(c: httpx.AsyncClient, emulator: object) -> tuple[str, bytes]:
        answer = await c.post("/task/pic/idphoto", headers=KEY, data={"size": "200x260"},
                              files={"image_file": ("f.jpg", FACE)})
        task_id = answer.json()["data"]["task_id"]
        await c.post("/__admin/clock/advance", json={"seconds": 5})
        done = (await c.get(f"/task/{task_id}", headers=KEY)).json()["data"]
        return task_id, (await c.get(done["image"])).content

    async def second(c: httpx.AsyncClient, emulator: object) -> tuple[dict, bytes]:
        return await _photo(c, task_id)

    task_id, before = await _run(store, first)
    done, after = await _run(store, second)
    assert done["state"] == 1 and after == before


async def _photo(c: httpx.AsyncClient, task_id: str) -> tuple[dict, bytes]:
    done = (await c.get(f"/task/{task_id}", headers=KEY)).json()["data"]
    return done, (await c.get(done["image"])).content


async def test_an_upload_acknowledged_before_a_crash_is_processed_after_it(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'store.db'}"

    async def acknowledge_then_die(c: httpx.AsyncClient, emulator) -> str:  # type: ignore[no-untyped-def]
        answer = await c.post("/task/pic/idphoto", headers=KEY, data={"size": "200x260"},
                              files={"image_file": ("f.jpg", FACE)})
        emulator.providers["gptge"].inputs.reset()  # the job dies with the process
        return str(answer.json()["data"]["task_id"])

    async def later(c: httpx.AsyncClient, emulator: object) -> tuple[dict, bytes]:
        await c.post("/__admin/clock/advance", json={"seconds": 5})
        return await _photo(c, task_id)

    task_id = await _run(store, acknowledge_then_die)
    done, photo = await _run(store, later)
    assert done["state"] == 1 and photo[:8] == b"\x89PNG\r\n\x1a\n"
