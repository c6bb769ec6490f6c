"""The real work behind an ID-photo task: get the source image, check it, render the photo.

Each task is processed once, in the background, right after it is created, by the shared
input-check mechanism: the download runs on the event loop, the CPU-bound check and render in a
worker thread. The answer is kept in a
store record (`gptge.result`: the encoded photo plus its facts), so a restarted server serves
the same bytes without rendering again. Until that record exists an uploaded source image is
kept in a `gptge.source` record, so a task acknowledged just before a crash can still be
processed after the restart; a URL source is simply downloaded again.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core.images import ImageRejected, ImageSource, inspect, load_opencv
from ...core.input_checks import Verdict
from ...core.input_log import log_source
from ...core.memo import Memo
from ...core.tasks import Task
from .models import (
    IDPHOTO_RULES,
    MAX_IMAGE_BYTES,
    STATE_DONE,
    STATE_FAILED,
    STATE_INVALID_IMAGE,
    default_size,
    problem_state,
)

if TYPE_CHECKING:
    from ...core.store import Store

RESULT_KIND = "gptge.result"
SOURCE_KIND = "gptge.source"
LOST_SOURCE_INFO = "The source image is no longer available."


def _failure(state: int, err_info: str, detail: str | None = None) -> dict[str, Any]:
    """`err_info` is the tenant's; `detail` (the operator's, in the task's input_problem) may
    name what a download target answered, which a tenant must never learn."""
    return {"state": state, "err_info": err_info, "detail": detail or err_info}


def _rejected(rejected: ImageRejected) -> dict[str, Any]:
    return _failure(problem_state(rejected.problem), rejected.public, rejected.detail)


# Renderings by (source digest, size, format, background): deterministic, so the same photo
# with the same parameters is rendered once (test suites and load tests send a few photos).
_renderings: Memo[dict[str, Any]] = Memo(entries=32, max_bytes=64 * 1024 * 1024,
                                         size=lambda facts: len(facts.get("image_b64", "")))


def render_source(data: bytes, params: dict[str, Any]) -> dict[str, Any]:
    """`render_fresh` once per distinct source and parameters; the same facts after that."""
    started = time.perf_counter()
    key = (hashlib.blake2b(data, digest_size=20).digest(),
           *(params[k] for k in ("width", "height", "format", "bg_color")))
    found = _renderings.get(key)
    if found is None:
        found = render_fresh(data, params)
        _renderings.put(key, found)
        return dict(found)
    return {**found, "elapsed_ms": round((time.perf_counter() - started) * 1000, 3)}


def render_fresh(data: bytes, params: dict[str, Any]) -> dict[str, Any]:
    """Check `data` against the PicWish image rules and render the ID photo (CPU bound).

    Returns the result record without the download facts. The shared image check finds the
    faces (no face: state -1) and the largest one is framed, so the verdict and the framing
    always agree.
    """
    load_opencv()  # OpenCV, imported once under its lock before idphoto needs it
    from PIL import Image, ImageOps  # with the first image: start-up does without Pillow

    from .idphoto import FaceBox, NoFaceFound, render_id_photo

    started = time.perf_counter()
    try:
        found = inspect(data, IDPHOTO_RULES)
        face = FaceBox(found.faces[0].x, found.faces[0].y, found.faces[0].width,
                       found.faces[0].height)
        with Image.open(io.BytesIO(data)) as opened:
            # Face boxes are in displayed pixels: render the photo as a viewer shows it.
            source = ImageOps.exif_transpose(opened)
            if params["width"]:
                width, height = params["width"], params["height"]
            else:
                width, height = default_size(found.width, found.height)
            photo = render_id_photo(source, face, width, height, params["format"],
                                    params["bg_color"])
    except ImageRejected as rejected:
        return _rejected(rejected)
    except NoFaceFound as exc:  # only if the renderer ever disagrees with the check
        return _failure(STATE_FAILED, str(exc))
    except (OSError, ValueError, SyntaxError) as exc:  # hostile input the checks let through
        return _failure(STATE_INVALID_IMAGE, f"image could not be processed ({type(exc).__name__})")
    rect = photo.foreground_rect
    return {
        "state": STATE_DONE, "err_info": "", "width": photo.width, "height": photo.height,
        "rect": {"x": rect.x, "y": rect.y, "width": rect.width, "height": rect.height},
        "content_type": photo.content_type, "ext": params["format"],
        "image_b64": base64.b64encode(photo.data).decode("ascii"),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
        "source_faces": len(found.faces),  # for the dashboard (core/input_log.py)
    }


async def download(fetcher: ImageSource, url: str) -> tuple[bytes | None, dict[str, Any]]:
    """(bytes, {"download_ms"}) or (None, failure record)."""
    started = time.perf_counter()
    try:
        data = await fetcher.fetch(url, MAX_IMAGE_BYTES)
    except ImageRejected as rejected:
        return None, _rejected(rejected)
    return data, {"download_ms": round((time.perf_counter() - started) * 1000)}


class Processing:
    """The ID-photo work of each task, run by the shared input-check mechanism
    (`core.input_checks`): its verdict is the photo, kept as a `gptge.result` record."""

    def __init__(self, store: Store, fetcher: Callable[[], ImageSource]) -> None:
        self._store = store
        self._fetcher = fetcher

    def keep_source(self, task_id: str, data: bytes) -> None:
        self._store.put_record(SOURCE_KIND, task_id,
                               {"image_b64": base64.b64encode(data).decode("ascii")})

    def record(self, task_id: str) -> dict[str, Any] | None:
        return self._store.get_record(RESULT_KIND, task_id)

    async def verdict(self, task: Task) -> Verdict:
        """Process the task once; a failed photo fails the task with its PicWish state."""
        if task.outcome != "succeeded":  # failed before any work (timeout, injected fault)
            return Verdict()
        facts = self.record(task.id) or await self._process(task)
        if facts["state"] == STATE_DONE:
            return Verdict()
        return Verdict((str(facts["state"]), facts["err_info"]),
                       detail=facts.get("detail") or facts["err_info"])

    async def _process(self, task: Task) -> dict[str, Any]:
        params = task.data
        facts: dict[str, Any] = {"download_ms": 0}  # an upload needs no download
        data: bytes | None = None
        if params["image_url"]:
            data, facts = await download(self._fetcher(), params["image_url"])
        else:
            kept = self._store.get_record(SOURCE_KIND, task.id) or {}
            data = base64.b64decode(kept["image_b64"]) if kept.get("image_b64") else None
            if data is None:
                facts = _failure(STATE_FAILED, LOST_SOURCE_INFO)
        if data is not None:
            facts.update(await asyncio.to_thread(render_source, data, params))
        self._store.put_record(RESULT_KIND, task.id, facts)
        if params["image_url"] is None:
            self._store.put_record(SOURCE_KIND, task.id, {"released": True})
        await log_source(self._store, task.id, params["image_url"], data, facts,
                         ok=facts.get("state") == STATE_DONE)  # for the dashboard
        return facts
