"""DashScope input images: URL syntax is refused at submit; everything that needs the image
fails the task with the vendor's code, after the task was accepted."""
from __future__ import annotations

import io

import pytest
from PIL import Image

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
KEY = {"Authorization": "Bearer sk-images", "X-DashScope-Async": "enable"}


def train_free(mock, user: str = "face.jpg", template: str = "template.jpg") -> dict:
    fixtures = f"{mock.base_url}/__admin/fixtures"
    return {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": f"{fixtures}/{template}", "user_urls": [f"{fixtures}/{user}"]}}


async def outcome(mock, body: dict) -> dict:
    answer = await mock.client.post(SUBMIT, json=body, headers=KEY)
    assert answer.status_code == 200, answer.text
    task_id = answer.json()["output"]["task_id"]
    await mock.advance(60)
    query = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=KEY)
    return query.json()


async def test_valid_inputs_succeed_at_768x1024_whatever_the_template_size(mock) -> None:
    body = await outcome(mock, train_free(mock))  # template.jpg is 900x1200
    assert body["output"]["task_status"] == "SUCCEEDED"
    image = await mock.client.get(body["output"]["results"][0]["url"])
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


@pytest.mark.parametrize(
    ("user", "template", "code"),
    [
        ("tiny.jpg", "template.jpg", "InvalidImageResolution"),
        ("huge.jpg", "template.jpg", "InvalidImageResolution"),
        ("face.jpg", "tiny.jpg", "InvalidImageResolution"),
        ("face_small.jpg", "template.jpg", "InternalError.Algo"),
        ("two_faces.jpg", "template.jpg", "InternalError.Algo"),
        ("no_face.jpg", "template.jpg", "InternalError.Algo"),
        ("corrupt.jpg", "template.jpg", "InvalidURL"),
        ("not_image.txt", "template.jpg", "InvalidURL"),
        ("face.webp", "template.jpg", "InvalidURL"),
        ("missing.jpg", "template.jpg", "InvalidURL"),
        ("big_bytes.png", "template.jpg", "InvalidParameter"),
    ],
)
async def test_bad_inputs_fail_the_task(mock, user, template, code) -> None:
    body = await outcome(mock, train_free(mock, user, template))
    assert body["output"]["task_status"] == "FAILED"
    assert body["output"]["code"] == code
    assert body["output"]["message"]
    assert body["usage"] == {"image_count": 0}


async def test_a_failed_task_stays_failed(mock) -> None:
    answer = await mock.client.post(SUBMIT, json=train_free(mock, "tiny.jpg"), headers=KEY)
    task_id = answer.json()["output"]["task_id"]
    states = []
    for _ in range(3):
        await mock.advance(20)
        query = await mock.client.get(f"/api/v1/tasks/{task_id}", headers=KEY)
        states.append(query.json()["output"]["task_status"])
    assert states[-1] == "FAILED" and "SUCCEEDED" not in states


async def test_inputs_are_fetched_once_per_url(mock) -> None:
    before = mock.emulator.fetcher.requests_sent
    for _ in range(2):
        await outcome(mock, train_free(mock))
    assert mock.emulator.fetcher.requests_sent - before == 2  # template + user photo, once each
