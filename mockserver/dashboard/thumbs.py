"""Thumbnails of the input images a vendor judged, served by the mock itself.

The browser never loads a user's image from its host: a URL input is fetched here through the
emulator's own fetcher (its host policy, and its cache, which still holds a recent download),
then scaled down. Inline inputs were stored as thumbnails when they were judged.
"""
from __future__ import annotations

import asyncio
import base64
from collections import OrderedDict
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..core.image_fetch import ImageRejected
from ..core.input_log import inputs_of, thumbnail

if TYPE_CHECKING:
    from ..emulator import Emulator

MAX_INPUT_BYTES = 32 * 1024 * 1024  # above every vendor's cap (gpt.ge: 15 MB)
SIDES = {"small": 240, "large": 1024}
CACHED = 128


class Thumbnails:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._cache: OrderedDict[tuple[str, int, str, int], bytes] = OrderedDict()

    def clear(self) -> None:
        self._cache.clear()

    async def serve(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        index = int(request.path_params["index"])
        side = SIDES.get(request.query_params.get("size", "small"), SIDES["small"])
        facts = inputs_of(self.emulator.store, task_id)
        if index >= len(facts):
            return PlainTextResponse(f"task {task_id} has no input image #{index}", 404)
        fact = facts[index]
        key = (task_id, index, fact["label"], side)
        image = self._cache.get(key)
        if image is None:
            image, problem = await self._make(fact, side)
            if image is None:
                return PlainTextResponse(f"no thumbnail: {problem}", 404)
            self._remember(key, image)
        return Response(image, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=300"})

    async def _make(self, fact: dict[str, object], side: int) -> tuple[bytes | None, str]:
        url = fact.get("url")
        if not isinstance(url, str):
            stored = fact.get("thumb")
            if isinstance(stored, str):
                return base64.b64decode(stored), ""
            return None, "the image was not kept (inline data that could not be decoded)"
        try:
            data = await self.emulator.fetcher.fetch(url, MAX_INPUT_BYTES)
        except ImageRejected as rejected:
            return None, f"{rejected.problem.value}: {rejected.detail}"
        image = await asyncio.to_thread(thumbnail, data, side)
        return image, "" if image is not None else "the image cannot be decoded"

    def _remember(self, key: tuple[str, int, str, int], image: bytes) -> None:
        self._cache[key] = image
        while len(self._cache) > CACHED:
            self._cache.popitem(last=False)
