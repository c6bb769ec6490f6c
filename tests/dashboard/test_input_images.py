"""Input images as the dashboard shows them: every vendor keeps the verdict facts of the images
it judged (core/input_log.py), and the dashboard serves thumbnails through the mock's fetcher."""
from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from mockserver.core.input_log import inputs_of
from mockserver.providers.tencent.signing import sign_request
from mockserver.settings import Settings
from mockserver.testing import fixture_url

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
BEARER = {"Authorization": "Bearer sk-inputs"}
DASHSCOPE = {**BEARER, "X-DashScope-Async": "enable"}


def template_mode(base: str, user: str) -> dict:
    return {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": fixture_url(base, "template.jpg"),
                      "user_urls": [fixture_url(base, user)]}}


async def dashscope_task(mock, user: str) -> str:
    answer = await mock.client.post("/api/v1/services/aigc/album/gen_potrait",
                                    json=template_mode(mock.base_url, user), headers=DASHSCOPE)
    task_id = str(answer.json()["output"]["task_id"])
    await mock.client.get(f"/api/v1/tasks/{task_id}", headers=DASHSCOPE)  # waits for the check
    return task_id


async def thumbnail(mock, task_id: str, index: int, size: str = "small") -> Image.Image:
    answer = await mock.client.get(f"/__admin/ui/tasks/{task_id}/inputs/{index}?size={size}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(answer.content))


def facts(mock, task_id: str) -> list[dict]:
    return inputs_of(mock.emulator.store, task_id)


async def test_dashscope_keeps_each_judged_image_and_serves_thumbnails(mock) -> None:
    task_id = await dashscope_task(mock, "face.jpg")
    template, user = facts(mock, task_id)
    assert (template["role"], template["format"], template["width"], template["height"],
            template["faces"], template["ok"]) == ("dashscope template", "JPEG", 900, 1200, 1, True)
    assert (user["role"], user["width"], user["height"], user["faces"]) == (
        "dashscope user photo", 800, 800, 1)
    assert user["url"] == fixture_url(mock.base_url, "face.jpg") and user["thumb"] is None
    small = await thumbnail(mock, task_id, 0)
    assert max(small.size) == 240 and small.size[0] / small.size[1] == pytest.approx(0.75, 0.02)
    assert max((await thumbnail(mock, task_id, 1, "large")).size) == 800  # never enlarged
    html = (await mock.client.get(f"/__admin/ui/tasks/{task_id}")).text
    assert html.count('class="thumb"') == 2 and "900x1200 px" in html


async def test_a_refused_image_keeps_its_problem_and_header_facts(mock) -> None:
    task_id = await dashscope_task(mock, "no_face.jpg")
    _, user = facts(mock, task_id)
    assert user["ok"] is False and user["problem"] == "no_face"
    assert (user["format"], user["width"], user["height"]) == ("JPEG", 900, 600)
    assert "no face detected" in user["detail"]
    await thumbnail(mock, task_id, 1)  # still viewable: the photo was read, only judged bad
    html = (await mock.client.get(f"/__admin/ui/tasks/{task_id}")).text
    assert "refused: <code>no_face</code>" in html


async def test_an_undecodable_image_has_no_thumbnail(mock) -> None:
    task_id = await dashscope_task(mock, "corrupt.jpg")
    _, user = facts(mock, task_id)
    assert user["problem"] == "decode_failed"
    answer = await mock.client.get(f"/__admin/ui/tasks/{task_id}/inputs/1")
    assert answer.status_code == 404 and answer.text.startswith("no thumbnail")
    assert (await mock.client.get(f"/__admin/ui/tasks/{task_id}/inputs/7")).status_code == 404


async def test_acedata_inline_images_are_kept_as_thumbnails(mock) -> None:
    inline = base64.b64encode((FIXTURES / "face.jpg").read_bytes()).decode()
    body = {"template": "business_photo", "async": True,
            "image_urls": [fixture_url(mock.base_url, "face.png"), inline]}
    answer = await mock.client.post("/headshots/generate", json=body, headers=BEARER)
    task_id = answer.json()["task_id"]
    by_url, by_value = facts(mock, task_id)
    assert (by_url["format"], by_url["faces"], by_url["ok"]) == ("PNG", None, True)
    assert by_value["url"] is None and by_value["label"].startswith("inline base64 (")
    assert by_value["thumb"] and (by_value["width"], by_value["height"]) == (800, 800)
    assert (await thumbnail(mock, task_id, 1)).size == (160, 160)
    html = (await mock.client.get(f"/__admin/ui/tasks/{task_id}")).text
    assert "not counted (no face rule)" in html and inline not in html


async def test_gptge_keeps_the_uploaded_source(mock) -> None:
    upload = {"image_file": ("me.jpg", (FIXTURES / "face.jpg").read_bytes(), "image/jpeg")}
    answer = await mock.client.post("/task/pic/idphoto", data={"sync": "1", "size": "295x413"},
                                    files=upload, headers=BEARER, timeout=60)
    task_id = answer.json()["data"]["task_id"]
    (source,) = facts(mock, task_id)
    assert (source["role"], source["ok"], source["faces"], source["format"]) == (
        "source", True, 1, "JPEG")
    assert source["label"].startswith("uploaded file (") and source["thumb"]
    await thumbnail(mock, task_id, 0)


async def test_tencent_keeps_template_and_user_photos(mock) -> None:
    params = {"TemplateUrl": fixture_url(mock.base_url, "template.jpg"),
              "FaceInfos": [{"ImageUrls": [fixture_url(mock.base_url, "six_faces.jpg")]}]}

    async def call(action: str, doc: dict) -> dict:
        headers, content = sign_request(
            secret_id="AKIDmock", secret_key="mock-secret", host=urlsplit(mock.base_url).netloc,
            action=action, timestamp=int(mock.emulator.clock.now()), params=doc)
        return (await mock.client.post("/", content=content, headers=headers)).json()["Response"]

    job_id = (await call("SubmitGlamPicJob", params))["JobId"]
    await call("QueryGlamPicJob", {"JobId": job_id})  # waits for the check
    template, user = facts(mock, job_id)
    assert (template["role"], template["faces"], user["role"], user["faces"]) == (
        "tencent template", 1, "tencent user photo", 6)


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True)


@pytest.mark.parametrize("settings", [replace(Settings(validate_responses=True),
                                              fetch_deny_hosts=("127.0.0.1",))])
async def test_thumbnails_obey_the_fetch_policy(mock) -> None:
    task_id = await dashscope_task(mock, "face.jpg")
    template = facts(mock, task_id)[0]
    assert template["problem"] == "url_forbidden"
    answer = await mock.client.get(f"/__admin/ui/tasks/{task_id}/inputs/0")
    assert answer.status_code == 404 and "url_forbidden" in answer.text
    html = (await mock.client.get(f"/__admin/ui/tasks/{task_id}")).text
    assert not re.search(r'class="thumb"', html)
