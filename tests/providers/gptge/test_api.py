"""gpt.ge /task/pic/idphoto and /task/{id} over raw HTTP, in-process and against a real server."""
from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.anyio


async def test_query_of_unknown_or_foreign_task_is_404(api: Any) -> None:
    task_id = await api.create({"size": "150x200"}, api.upload("face.jpg"))
    for path, who in ((f"/task/{task_id}", "bob"), ("/task/no-such-task", "alice")):
        answer = await api.client.get(path, headers=api.key(who))
        assert answer.status_code == 404
        assert answer.json() == {"status": 404,
                                 "message": "The requested resource or task_id does not exist."}
    assert (await api.finish(task_id))["state"] == 1  # the owner still sees it


async def test_unknown_paths_under_task_answer_the_vendor_404(api: Any) -> None:
    for method, path in (("GET", "/task/pic/idphoto"), ("POST", "/task/pic/cutout"),
                         ("DELETE", "/task/abc")):
        answer = await api.client.request(method, path, headers=api.key())
        assert answer.status_code == 404 and answer.json()["status"] == 404


async def test_return_type_2_puts_the_photo_itself_in_image(api: Any) -> None:
    task_id = await api.create({"size": "120x150", "format": "jpg", "return_type": "2"},
                               api.upload("face.jpg"))
    done = await api.finish(task_id)
    assert done["return_type"] == 2
    image = Image.open(io.BytesIO(base64.b64decode(done["image"])))
    assert (image.format, image.size) == ("JPEG", (120, 150))


async def test_without_size_the_photo_keeps_the_source_size(api: Any) -> None:
    task_id = await api.create({}, api.upload("face.jpg"))  # face.jpg is 800x800
    done = await api.finish(task_id)
    assert (done["image_width"], done["image_height"]) == (800, 800)
    assert (await api.photo(done)).size == (800, 800)


async def test_same_input_gives_the_same_bytes(api: Any) -> None:
    form = {"size": "240x320", "format": "png"}
    first = await api.create(form, api.upload("face.jpg"))
    second = await api.create({**form, "image_url": api.fixture_url("face.jpg")})
    a, b = await api.finish(first), await api.query(second)
    assert a["foreground_rect"] == b["foreground_rect"]
    assert (await api.client.get(a["image"])).content == (await api.client.get(b["image"])).content
    assert b["download_time"] >= 0


async def test_two_creates_per_second_per_key_then_429(api: Any) -> None:
    form = {"image_url": api.fixture_url("face.jpg"), "size": "100x100"}
    assert [(await api.post(form)).status_code for _ in range(2)] == [200, 200]
    limited = await api.post(form)
    assert limited.status_code == 429
    assert limited.json() == {"status": 429, "message": "Too many requests: the QPS limit is 2."}
    assert (await api.post(form, who="bob")).status_code == 200  # per key
    await api.mock.advance(1)
    assert (await api.post(form)).status_code == 200


async def test_callback_receives_the_finished_task(api: Any, receiver: Any) -> None:
    task_id = await api.create({"size": "160x200", "callback_url": receiver.url},
                               api.upload("face.jpg"))
    done = await api.finish(task_id)
    drained = await api.client.post("/__admin/callbacks/drain")
    assert drained.status_code == 200
    assert receiver.bodies == [{"status": 200, "data": done}]


async def test_callback_of_a_failed_task_carries_its_state(api: Any, receiver: Any) -> None:
    task_id = await api.create({"size": "160x200", "callback_url": receiver.url},
                               api.upload("corrupt.jpg"))
    done = await api.finish(task_id)
    await api.client.post("/__admin/callbacks/drain")
    assert done["state"] == -7
    assert receiver.bodies == [{"status": 200, "data": done}]
