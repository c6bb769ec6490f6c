"""gpt.ge test fixtures: `api` (requests and result-photo checks over the `mock` fixture) and
`receiver` (a real HTTP server on 127.0.0.1 that records callback bodies)."""
from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from mockserver.core.images import detect_faces
from mockserver.testing import CallbackReceiver

CREATE = "/task/pic/idphoto"
# Answers that wait for a render can take seconds on a loaded machine (httpx's default is 5 s).
SLOW = 60.0
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "images"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class IdPhotoApi:
    """The gpt.ge calls a test makes, on one running mock."""

    create_path = CREATE

    def __init__(self, mock: Any) -> None:
        self.mock = mock
        self.client = mock.client

    @staticmethod
    def key(name: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer sk-{name}"}

    @staticmethod
    def upload(name: str = "face.jpg", data: bytes | None = None) -> dict[str, Any]:
        body = fixture_bytes(name) if data is None else data
        return {"image_file": (name, body, "application/octet-stream")}

    def fixture_url(self, name: str) -> str:
        return f"{self.mock.base_url}/__admin/fixtures/{name}"

    async def post(self, data: dict[str, str] | None = None, files: dict[str, Any] | None = None,
                   who: str = "alice") -> Any:
        return await self.client.post(CREATE, data=data, files=files, headers=self.key(who),
                                      timeout=SLOW)

    async def create(self, data: dict[str, str], files: dict[str, Any] | None = None,
                     who: str = "alice") -> str:
        """Create a sync=0 task and return its id."""
        answer = await self.post(data, files, who)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": 200, "data": {"task_id": answer.json()["data"]["task_id"]}}
        return str(answer.json()["data"]["task_id"])

    async def query(self, task_id: str, who: str = "alice") -> dict[str, Any]:
        answer = await self.client.get(f"/task/{task_id}", headers=self.key(who), timeout=SLOW)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == 200
        return dict(answer.json()["data"])

    async def finish(self, task_id: str, who: str = "alice") -> dict[str, Any]:
        """Advance past the default timings and query the ended task."""
        await self.mock.advance(5)
        return await self.query(task_id, who)

    async def advance_when_created(self, seconds: float, count: int = 1) -> None:
        """Advance the clock once `count` gpt.ge tasks exist (a sync=1 call is waiting then)."""
        for _ in range(1000):
            listing = await self.client.get("/__admin/tasks", params={"vendor": "gptge"})
            if listing.json()["count"] >= count:
                await self.mock.advance(seconds)
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the sync call never created its task")

    async def sync(self, data: dict[str, str], files: dict[str, Any] | None = None,
                   who: str = "alice", advance: float = 5.0) -> Any:
        """A sync=1 create, released by a clock advance once its task exists."""
        call = asyncio.ensure_future(self.post({**data, "sync": "1"}, files, who))
        await self.advance_when_created(advance)
        return await asyncio.wait_for(call, SLOW)

    async def photo(self, data: dict[str, Any]) -> Image.Image:
        answer = await self.client.get(data["image"], timeout=SLOW)
        assert answer.status_code == 200, answer.text
        image = Image.open(io.BytesIO(answer.content))
        image.load()
        return image

    @staticmethod
    def face_in_rect(image: Image.Image, rect: dict[str, int]) -> None:
        """The largest face in the photo lies inside `foreground_rect` (a few px of slack for
        the detector's box)."""
        flat = image.convert("RGB")
        if image.mode == "RGBA":  # judge the person, not the transparency: put them on grey
            flat = Image.new("RGB", image.size, (128, 128, 128))
            flat.paste(image, (0, 0), image.getchannel("A"))
        faces = detect_faces(flat)
        assert faces, "no face in the result photo"
        face, slack = faces[0], 4
        assert face.x >= rect["x"] - slack and face.y >= rect["y"] - slack, (face, rect)
        assert face.x + face.width <= rect["x"] + rect["width"] + slack, (face, rect)
        assert face.y + face.height <= rect["y"] + rect["height"] + slack, (face, rect)

    @staticmethod
    def top_corners(image: Image.Image) -> list[Any]:
        """Pixels at the two top corners (the bottom ones may hold the shoulders)."""
        w = image.width
        return [image.getpixel((x, y)) for x, y in ((0, 0), (w - 1, 0), (1, 1), (w - 2, 1))]

    @staticmethod
    def alpha_shares(image: Image.Image) -> tuple[float, float]:
        """(share of fully transparent pixels, share of fully opaque pixels)."""
        alpha = np.asarray(image.getchannel("A"))
        return float((alpha == 0).mean()), float((alpha == 255).mean())


@pytest.fixture
def api(mock: Any) -> IdPhotoApi:
    return IdPhotoApi(mock)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running
