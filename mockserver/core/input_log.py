"""What the mock learned about each input image of a task, kept for the dashboard.

Every vendor judges its input images once it has accepted the task (`core/input_checks.py`,
in the background or before it answers), or while it processes the task. At that point the
vendor's code calls one function here instead of `load_and_inspect`, and the facts of every image it looked at land in a
store record (kind `inputs`, id = the task id), so they survive a restart:

    {"task_id": "...", "images": [{"label", "url", "role", "ok", "problem", "detail",
                                    "format", "width", "height", "bytes", "faces", "thumb"}]}

`url` is set for http(s) references only: the dashboard shows those through the emulator's
fetcher (same host policy, same cache). Inline images (base64, `data:` URIs, gpt.ge uploads) are
not kept anywhere else, so a small JPEG thumbnail (`thumb`, base64) is stored instead.
"""
from __future__ import annotations

import asyncio
import base64
import io
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from .image_fetch import ImageRejected, ImageSource, Problem
from .images import MAX_PIXELS, ImageRules, Inspection, load_and_inspect

KIND = "inputs"
THUMB_SIDE = 160  # long side of a stored thumbnail, in pixels
# Problems after which the bytes were fully read, so their header can still be described.
_BYTES_READ = {Problem.UNSUPPORTED_FORMAT, Problem.DECODE_FAILED, Problem.TOO_SMALL,
               Problem.TOO_LARGE, Problem.NO_FACE, Problem.MULTIPLE_FACES,
               Problem.FACE_TOO_SMALL, Problem.TOO_MANY_FACES, Problem.TOO_FEW_FACES}

class RecordStore(Protocol):
    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None: ...
    def put_record(self, kind: str, record_id: str, doc: dict[str, Any]) -> None: ...


# --- the calls vendors make ---------------------------------------------------------------


async def inspect_logged(store: RecordStore, task_id: str, fetcher: ImageSource, ref: str,
                         rules: ImageRules, *,
                         detect_faces: bool = True) -> tuple[bytes, Inspection]:
    """`load_and_inspect`, and keep what it found (or why it refused) with the task."""
    return await _inspect(fetcher, ref, rules, detect_faces,
                          lambda fact: _keep(store, task_id, fact))


async def _inspect(fetcher: ImageSource, ref: str, rules: ImageRules, detect_faces: bool,
                   keep: Callable[[dict[str, Any]], None]) -> tuple[bytes, Inspection]:
    try:
        data, found = await load_and_inspect(fetcher, ref, rules, detect_faces=detect_faces)
    except ImageRejected as rejected:
        keep(await _rejected_fact(fetcher, ref, rules, rejected))
        raise
    keep(await _fact(ref, rules.name, data, found, detect_faces))
    return data, found


async def log_source(store: RecordStore, task_id: str, ref: str | None, data: bytes | None,
                     outcome: dict[str, Any], *, ok: bool, role: str = "source") -> None:
    """A source the vendor checked itself (gpt.ge): `outcome` holds `err_info` on failure and
    may hold `source_faces`; `ref` None means an uploaded file."""
    fact = _describe(ref, role, data)
    fact.update(ok=ok, faces=outcome.get("source_faces"),
                problem=None if ok else f"state {outcome.get('state')}",
                detail=None if ok else outcome.get("err_info"))
    if data is not None and ref is None:
        fact["thumb"] = await asyncio.to_thread(thumbnail_b64, data)
    _keep(store, task_id, fact)


def inputs_of(store: RecordStore, task_id: str) -> list[dict[str, Any]]:
    """The facts kept for a task's input images, in the order they were judged."""
    doc = store.get_record(KIND, task_id)
    return list(doc["images"]) if doc else []


# --- building and storing facts ----------------------------------------------------------


def _keep(store: RecordStore, task_id: str, fact: dict[str, Any]) -> None:
    """Append, or replace the same image's earlier verdict (a check redone after a restart)."""
    doc = store.get_record(KIND, task_id) or {"task_id": task_id, "images": []}
    images = doc["images"]
    same = next((i for i, old in enumerate(images)
                 if (old["label"], old["role"]) == (fact["label"], fact["role"])), None)
    if same is None:
        images.append(fact)
    else:
        images[same] = fact
    store.put_record(KIND, task_id, doc)


def _is_url(ref: str) -> bool:
    return ref[:8].lower().startswith(("http://", "https://"))


def _describe(ref: str | None, role: str, data: bytes | None) -> dict[str, Any]:
    """Label, URL and the header facts of `data` (no pixels decoded)."""
    if ref is None:
        label = f"uploaded file ({len(data or b'')} bytes)"
    elif _is_url(ref):
        label = ref
    elif ref[:5].lower() == "data:":
        label = f"{ref.split(',', 1)[0]} ({len(ref)} characters)"
    else:
        label = f"inline base64 ({len(ref)} characters)"
    fact: dict[str, Any] = {"label": label, "url": ref if ref and _is_url(ref) else None,
                            "role": role, "format": None, "width": None, "height": None,
                            "bytes": None if data is None else len(data), "faces": None,
                            "thumb": None}
    if data is not None:
        fact.update(_header(data))
    return fact


def _header(data: bytes) -> dict[str, Any]:
    from PIL import Image  # with the first image: start-up does without Pillow

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                return {"format": img.format, "width": img.size[0], "height": img.size[1]}
    except Exception:  # not an image, or a hostile one: its verdict already says so
        return {}


async def _fact(ref: str, role: str, data: bytes, found: Inspection,
                detect_faces: bool) -> dict[str, Any]:
    fact = _describe(ref, role, None)
    fact.update(ok=True, problem=None, detail=None, format=found.format, width=found.width,
                height=found.height, bytes=found.nbytes,
                faces=len(found.faces) if detect_faces else None)
    if not _is_url(ref):
        fact["thumb"] = await asyncio.to_thread(thumbnail_b64, data)
    return fact


async def _rejected_fact(fetcher: ImageSource, ref: str, rules: ImageRules,
                         rejected: ImageRejected) -> dict[str, Any]:
    data = None
    if rejected.problem in _BYTES_READ:
        try:  # the fetcher's cache answers a URL just downloaded; inline data decodes again
            data = await fetcher.fetch(ref, rules.max_bytes)
        except ImageRejected:
            data = None
    fact = _describe(ref, rules.name, data)
    fact.update(ok=False, problem=rejected.problem.value, detail=rejected.detail)
    if data is not None and not _is_url(ref) and fact["format"]:
        fact["thumb"] = await asyncio.to_thread(thumbnail_b64, data)
    return fact


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes | None:
    """A JPEG at most `side` pixels long, or None when `data` is no image we will decode."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.size[0] * img.size[1] > MAX_PIXELS:  # the image pipeline's bomb guard
                    return None
                img.draft("RGB", (side, side))
                shown = ImageOps.exif_transpose(img)  # as a viewer (and the vendor) sees it
                shown.thumbnail((side, side))
                out = io.BytesIO()
                shown.convert("RGB").save(out, "JPEG", quality=80)
                return out.getvalue()
    except Exception:  # truncated, corrupt or not an image
        return None


def thumbnail_b64(data: bytes) -> str | None:
    small = thumbnail(data)
    return None if small is None else base64.b64encode(small).decode("ascii")
