"""The real work behind an ID-photo task: get the source image, check it, render the photo.

Each task is processed once, in the background, right after it is created: the download runs
on the event loop, the CPU-bound check and render in a worker thread. The answer is kept in a
store record (`gptge.result`: the encoded photo plus its facts), so a restarted server serves
the same bytes without rendering again. Until that record exists an uploaded source image is
kept in a `gptge.source` record, so a task acknowledged just before a crash can still be
processed after the restart; a URL source is simply downloaded again.
"""
from __future__ import annotations

import asyncio
import base64
import io
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps

from ...core.images import GPTGE_IDPHOTO, ImageRejected, ImageSource, inspect, load_opencv
from ...core.input_log import log_source
from ...core.tasks import Task
from .models import (
    MAX_IMAGE_BYTES,
    STATE_DONE,
    STATE_FAILED,
    STATE_INVALID_IMAGE,
    default_size,
    problem_state,
)

if TYPE_CHECKING:
    from ...core.store import Store

log = logging.getLogger("mockserver")
RESULT_KIND = "gptge.result"
SOURCE_KIND = "gptge.source"
LOST_SOURCE_INFO = "The source image is no longer available."


def _failure(state: int, err_info: str) -> dict[str, Any]:
    return {"state": state, "err_info": err_info}


def render_source(data: bytes, params: dict[str, Any]) -> dict[str, Any]:
    """Check `data` against the PicWish image rules and render the ID photo (CPU bound).

    Returns the result record without the download facts. The shared image check finds the
    faces (no face: state -1) and the largest one is framed, so the verdict and the framing
    always agree.
    """
    load_opencv()  # OpenCV, imported once under its lock before idphoto needs it
    from .idphoto import FaceBox, NoFaceFound, render_id_photo

    started = time.perf_counter()
    try:
        found = inspect(data, GPTGE_IDPHOTO)
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
        return _failure(problem_state(rejected.problem), rejected.detail)
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
        return None, _failure(problem_state(rejected.problem), rejected.detail)
    return data, {"download_ms": round((time.perf_counter() - started) * 1000)}


class Processing:
    """One background job per task; `result()` waits for it (or redoes it after a restart)."""

    def __init__(self, store: Store, fetcher: Callable[[], ImageSource],
                 on_done: Callable[[str, dict[str, Any]], None]) -> None:
        self._store = store
        self._fetcher = fetcher
        self._on_done = on_done
        self._jobs: dict[str, asyncio.Task[dict[str, Any]]] = {}

    def keep_source(self, task_id: str, data: bytes) -> None:
        self._store.put_record(SOURCE_KIND, task_id,
                               {"image_b64": base64.b64encode(data).decode("ascii")})

    def record(self, task_id: str) -> dict[str, Any] | None:
        return self._store.get_record(RESULT_KIND, task_id)

    def start(self, task: Task, data: bytes | None) -> asyncio.Task[dict[str, Any]]:
        job = self._jobs.get(task.id)
        if job is None:
            job = asyncio.get_running_loop().create_task(self._run(task, data))
            self._jobs[task.id] = job
            job.add_done_callback(lambda done, key=task.id: self._forget(key, done))
        return job

    def _forget(self, task_id: str, job: asyncio.Task[dict[str, Any]]) -> None:
        if self._jobs.get(task_id) is job:
            del self._jobs[task_id]
        if not job.cancelled() and job.exception() is not None:
            log.error("gptge processing of %s failed", task_id, exc_info=job.exception())

    async def result(self, task: Task) -> dict[str, Any]:
        """The task's result record, processing it first if that has not happened yet."""
        found = self.record(task.id)
        if found is not None:
            return found
        return await asyncio.shield(self.start(task, None))

    async def _run(self, task: Task, data: bytes | None) -> dict[str, Any]:
        params = task.data
        facts: dict[str, Any] = {"download_ms": 0}  # an upload needs no download
        if data is None and params["image_url"]:
            data, facts = await download(self._fetcher(), params["image_url"])
        elif data is None:
            kept = self._store.get_record(SOURCE_KIND, task.id) or {}
            data = base64.b64decode(kept["image_b64"]) if kept.get("image_b64") else None
            if data is None:
                facts = _failure(STATE_FAILED, LOST_SOURCE_INFO)
        if data is not None:
            facts.update(await asyncio.to_thread(render_source, data, params))
        self._store.put_record(RESULT_KIND, task.id, facts)
        if params["image_url"] is None:
            self._store.put_record(SOURCE_KIND, task.id, {"released": True})
        self._on_done(task.id, facts)  # before any await: the record and the task must agree
        await log_source(self._store, task.id, params["image_url"], data, facts,
                         ok=facts.get("state") == STATE_DONE)  # for the dashboard
        return facts

    def reset(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        self._jobs.clear()

    async def close(self) -> None:
        jobs = list(self._jobs.values())
        self.reset()
        await asyncio.gather(*jobs, return_exceptions=True)
