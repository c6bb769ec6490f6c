"""Vendor image rules: format, size, resolution and face checks on user images.

Every emulated vendor validates the portraits it is sent before queueing a job.
:func:`inspect` reproduces those checks on raw bytes (format sniffed from the
content, byte cap, decompression-bomb guard, full decode, resolution bounds,
face count/size with OpenCV's Haar cascade) and reports the first failure as an
:class:`ImageRejected` whose :class:`Problem` the provider layer maps onto its
vendor's error code.  :func:`load_and_inspect` adds the download step from
:mod:`mockserver.core.image_fetch` (re-exported here).

``inspect`` is synchronous and CPU bound: call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import cv2
    from PIL import Image

from .gctune import freeze_again
from .image_fetch import (
    FetchPolicy,
    ImageFetcher,
    ImageRejected,
    ImageSource,
    Problem,
    check_ref,
    contains_cjk,
)
from .memo import Memo

__all__ = [
    "COMMON_WEB_FORMATS",
    "MAX_PIXELS",
    "MiB",
    "Box",
    "FetchPolicy",
    "ImageFetcher",
    "ImageRejected",
    "ImageRules",
    "ImageSource",
    "Inspection",
    "Problem",
    "check_ref",
    "contains_cjk",
    "detect_faces",
    "inspect",
    "load_and_inspect",
]

MiB = 1024 * 1024
#: Header-declared pixel count above which an image is treated as a
#: decompression bomb (DECODE_FAILED) without decoding it: ~120 MB as RGB.
MAX_PIXELS = 40_000_000
#: Long side the face detector works at; faces are rescaled to the original.
DETECT_LONG_SIDE = 640
DETECT_SCALE_FACTOR = 1.2
DETECT_MIN_NEIGHBORS = 8
#: Smallest face searched for, in detector pixels (5 % of a 640 px long side):
#: the smallest scales cost the most and no vendor rule cares about such faces.
DETECT_MIN_FACE = 32

# Formats we are willing to sniff, in probe order, each with the Pillow plugin that opens it.
# Restricting Pillow's probe keeps lenient, header-less plugins (TGA, ...) from claiming
# random bytes as an "image".
_WANTED_SNIFF = {"JPEG": "JpegImagePlugin", "MPO": "MpoImagePlugin", "PNG": "PngImagePlugin",
                 "WEBP": "WebPImagePlugin", "BMP": "BmpImagePlugin", "TIFF": "TiffImagePlugin",
                 "GIF": "GifImagePlugin", "JPEG2000": "Jpeg2KImagePlugin",
                 "ICO": "IcoImagePlugin", "AVIF": "AvifImagePlugin"}


@functools.cache
def sniff_formats() -> tuple[str, ...]:
    """The wanted formats this Pillow build has (it raises KeyError for others, e.g. AVIF).
    Asked beside the first image's download (`start_image_imports`) or at its decode. Only
    the wanted formats' plugins are imported (~30 ms), not all of Pillow's through
    `Image.init()` (~40 plugins, ~55-80 ms): the first image request waits for them."""
    from PIL import Image

    for plugin in _WANTED_SNIFF.values():
        try:
            importlib.import_module(f"PIL.{plugin}")
        except ImportError:  # not in this build, as `Image.init()` would skip it
            continue
    return tuple(f for f in _WANTED_SNIFF if f in Image.OPEN)


# Phones write multi-picture JPEGs that Pillow calls MPO; vendors see a JPEG.
_FORMAT_ALIASES = {"MPO": "JPEG"}
#: The formats every browser shows; a vendor that documents "common formats" means these.
COMMON_WEB_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP"})


@dataclass(frozen=True)
class ImageRules:
    """One vendor's constraints on one kind of input image.

    ``max_bytes`` is inclusive.  Resolution bounds apply per side; the
    ``*_exclusive`` flags turn ``>=``/``<=`` into ``>``/``<`` (vendor wording
    such as "resolution > 256x256").  Face rules are skipped when ``None``;
    ``min_face_px`` applies to the shorter side of every detected face box.
    """

    formats: frozenset[str]
    max_bytes: int
    min_width: int = 1
    min_height: int = 1
    min_exclusive: bool = False
    max_width: int | None = None
    max_height: int | None = None
    max_exclusive: bool = False
    faces_exactly: int | None = None
    faces_min: int | None = None
    faces_max: int | None = None
    min_face_px: int | None = None
    forbid_cjk_in_url: bool = False
    max_url_chars: int | None = None
    name: str = "image"


@dataclass(frozen=True)
class Box:
    """A face rectangle in full-resolution pixels of the displayed (EXIF-rotated) image."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Inspection:
    """What :func:`inspect` learned.

    ``format`` is a Pillow name (``MPO`` reported as ``JPEG``); ``width`` and
    ``height`` are as displayed (EXIF rotation applied); ``faces`` is largest
    first and empty when detection was not requested.
    """

    format: str
    width: int
    height: int
    nbytes: int
    faces: tuple[Box, ...]


_tls = threading.local()
_OPENCV_IMPORT = threading.Lock()
#: Images decoded at once, process-wide: each vendor caps the resolution (checked from the
#: header, before decoding), and this caps how many such bitmaps exist at the same moment.
DECODE_SLOTS = 2
_DECODES = threading.BoundedSemaphore(DECODE_SLOTS)


def load_opencv() -> tuple[Any, Any]:
    """(cv2, numpy), imported on first use: together they cost ~0.3 s and ~40 MB, which
    start-up and an idle server should not pay. The first import happens under one lock,
    because worker threads importing NumPy at the same moment can see a partially
    initialised module."""
    global _opencv_loaded
    with _OPENCV_IMPORT:
        import cv2
        import numpy

        if not _opencv_loaded:
            _opencv_loaded = True
            freeze_again()  # a serving process keeps the collector off OpenCV's objects
    return cv2, numpy


def start_image_imports(faces: bool = True) -> None:
    """Load Pillow's format plugins, and OpenCV when faces are looked for, in a worker thread
    now (a no-op once started): called when a request brings images, so the loading overlaps
    their download instead of following it."""
    global _pillow_requested, _opencv_requested
    steps: list[Callable[[], object]] = []
    if not _pillow_requested:
        _pillow_requested = True
        steps.append(sniff_formats)
    if faces and not (_opencv_loaded or _opencv_requested):
        _opencv_requested = True
        steps.append(load_opencv)
    if steps:
        threading.Thread(target=_run_each, args=(steps,), name="image-imports",
                         daemon=True).start()


def _run_each(steps: list[Callable[[], object]]) -> None:
    for step in steps:
        step()


_opencv_loaded = _opencv_requested = _pillow_requested = False


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier is not thread-safe, and to_thread uses a pool: one per thread.
    cascade: cv2.CascadeClassifier | None = getattr(_tls, "cascade", None)
    if cascade is None:
        cv2, _ = load_opencv()
        cascade = cv2.CascadeClassifier(
            cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        )
        if cascade.empty():
            raise RuntimeError("OpenCV frontal-face Haar cascade could not be loaded")
        _tls.cascade = cascade
    return cascade


# EXIF orientation -> the Pillow transpose that displays the picture upright (Pillow's
# `Image.Transpose` values, spelled as numbers so Pillow loads on the first image only).
_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # broken EXIF must not hide the picture itself
        return 1
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def detect_faces(img: Image.Image) -> list[Box]:
    """Find frontal faces with OpenCV's Haar cascade; boxes largest first.

    Boxes are in displayed pixels (EXIF orientation applied).  Works on a
    grayscale copy at most :data:`DETECT_LONG_SIDE` px on the long side (speed,
    and results that barely depend on input scale).  Deterministic.  Unlike
    :func:`inspect` this does not guard against corrupt or hostile images.
    """
    return _find_faces(img, _orientation(img), img.size)


def _find_faces(img: Image.Image, orientation: int, stored_size: tuple[int, int]) -> list[Box]:
    cv2, np = load_opencv()
    gray_img = img if img.mode == "L" else img.convert("L")
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        from PIL import Image  # loaded already: `img` is one

        gray_img = gray_img.transpose(Image.Transpose(method))
        stored_size = stored_size if orientation < 5 else (stored_size[1], stored_size[0])
    gray = np.asarray(gray_img)
    h, w = gray.shape
    scale = min(1.0, DETECT_LONG_SIDE / max(h, w))
    if scale < 1.0:
        gray = cv2.resize(
            gray, (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA,
        )
    gray = np.ascontiguousarray(gray)
    # Tuned on fixtures/images at 640 px: scaleFactor 1.2 gives the documented
    # counts for 5..12 neighbours (1.15 for 6..12); 1.1 with < 10 neighbours or
    # histogram equalisation adds a false face on the astronaut's shoulder
    # patch.  1.2/8 sits mid-band and is the cheaper of the two scale steps.
    found = _cascade().detectMultiScale(
        gray, scaleFactor=DETECT_SCALE_FACTOR, minNeighbors=DETECT_MIN_NEIGHBORS,
        minSize=(DETECT_MIN_FACE, DETECT_MIN_FACE),
    )
    # Map back to the full-size frame (the input may have been a JPEG draft).
    fx = stored_size[0] / gray.shape[1]
    fy = stored_size[1] / gray.shape[0]
    boxes = [
        Box(round(x * fx), round(y * fy), round(bw * fx), round(bh * fy))
        for (x, y, bw, bh) in (found if len(found) else [])
    ]
    boxes.sort(key=lambda b: (-b.width * b.height, b.y, b.x))
    return boxes


def _reject(problem: Problem, rules: ImageRules, detail: str) -> ImageRejected:
    return ImageRejected(problem, f"{rules.name}: {detail}")


def _open(data: bytes, rules: ImageRules) -> tuple[Image.Image, str, int, int, int]:
    """Sniff format and header; refuse bombs before a single pixel is decoded.

    Returns the lazily opened image, its format, displayed width and height
    (EXIF rotation applied, as a viewer and the vendors see it) and orientation.
    """
    from PIL import Image  # loaded with the first image (start-up does without it)

    try:
        img = Image.open(io.BytesIO(data), formats=sniff_formats())
        fmt = _FORMAT_ALIASES.get(img.format or "", img.format or "")
        width, height = img.size
        orientation = _orientation(img)
    except Image.DecompressionBombError:
        raise _reject(Problem.DECODE_FAILED, rules, "decompression bomb") from None
    except Exception as exc:  # UnidentifiedImageError, SyntaxError, struct.error, ...
        raise _reject(
            Problem.DECODE_FAILED, rules, f"not a readable image ({type(exc).__name__})"
        ) from None
    if fmt not in rules.formats:
        img.close()
        raise _reject(
            Problem.UNSUPPORTED_FORMAT, rules,
            f"format {fmt} not accepted (allowed: {', '.join(sorted(rules.formats))})",
        )
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        img.close()
        raise _reject(
            Problem.DECODE_FAILED, rules, f"header claims {width}x{height}: decompression bomb"
        )
    if orientation >= 5:
        width, height = height, width
    # Anything above the vendor's maximum is refused from the header alone
    # (the verdict is the same, and decoding it would only spend memory).
    try:
        _check_max(width, height, rules)
    except ImageRejected:
        img.close()
        raise
    return img, fmt, width, height, orientation


def _check_max(width: int, height: int, rules: ImageRules) -> None:
    for size, cap, axis in ((width, rules.max_width, "width"), (height, rules.max_height, "height")):
        if cap is not None and (size >= cap if rules.max_exclusive else size > cap):
            bound = "<" if rules.max_exclusive else "<="
            raise _reject(
                Problem.TOO_LARGE, rules, f"{width}x{height}: {axis} must be {bound} {cap}"
            )


def _check_min(width: int, height: int, rules: ImageRules) -> None:
    for size, floor, axis in ((width, rules.min_width, "width"), (height, rules.min_height, "height")):
        if size <= floor if rules.min_exclusive else size < floor:
            bound = ">" if rules.min_exclusive else ">="
            raise _reject(
                Problem.TOO_SMALL, rules, f"{width}x{height}: {axis} must be {bound} {floor}"
            )


def _check_faces(faces: list[Box], rules: ImageRules) -> None:
    n = len(faces)
    want = rules.faces_exactly
    if want is not None and n != want:
        if n == 0:
            raise _reject(Problem.NO_FACE, rules, "no face detected")
        if n > want:
            problem = Problem.MULTIPLE_FACES if want == 1 else Problem.TOO_MANY_FACES
            raise _reject(problem, rules, f"{n} faces detected, exactly {want} required")
        raise _reject(Problem.TOO_FEW_FACES, rules, f"{n} faces detected, {want} required")
    if rules.faces_min is not None and n < rules.faces_min:
        problem = Problem.NO_FACE if n == 0 else Problem.TOO_FEW_FACES
        raise _reject(problem, rules, f"{n} faces detected, at least {rules.faces_min} required")
    if rules.faces_max is not None and n > rules.faces_max:
        raise _reject(
            Problem.TOO_MANY_FACES, rules, f"{n} faces detected, at most {rules.faces_max} allowed"
        )
    if rules.min_face_px is not None and faces:
        smallest = min(min(b.width, b.height) for b in faces)
        if smallest < rules.min_face_px:
            raise _reject(
                Problem.FACE_TOO_SMALL, rules,
                f"face is {smallest} px, at least {rules.min_face_px} px required",
            )


#: Recent verdicts by (content digest, rules, detect_faces): a verdict is a pure function of
#: those, and clients (test suites, load tests, the contract kit) send the same few photos
#: again and again, while face detection is most of what a submit with images costs.
_verdicts: Memo[Inspection | tuple[Problem, str]] = Memo(entries=256)


def inspect(data: bytes, rules: ImageRules, *, detect_faces: bool = True) -> Inspection:
    """:func:`check` once per distinct content and rules; the same verdict after that."""
    key = (hashlib.blake2b(data, digest_size=20).digest(), rules, detect_faces)
    found = _verdicts.get(key)
    if found is None:
        try:
            found = check(data, rules, detect_faces=detect_faces)
        except ImageRejected as rejected:
            found = (rejected.problem, rejected.detail)
        _verdicts.put(key, found)
    if isinstance(found, tuple):
        raise ImageRejected(*found)
    return found


def check(data: bytes, rules: ImageRules, *, detect_faces: bool = True) -> Inspection:
    """Validate ``data`` against ``rules``; return what was found or raise.

    Order: byte cap, format sniffed from content (never a file name), bomb
    guard and maximum resolution from the header, full decode, minimum
    resolution, then faces.  Every failure is an :class:`ImageRejected`; any
    exception from Pillow or OpenCV on hostile input is mapped to
    ``DECODE_FAILED``.  With ``detect_faces=False`` face rules are skipped and
    ``faces`` is empty; otherwise faces are detected even without face rules.
    """
    if len(data) > rules.max_bytes:
        raise _reject(
            Problem.TOO_MANY_BYTES, rules, f"{len(data)} bytes, at most {rules.max_bytes} allowed"
        )
    if not data:
        raise _reject(Problem.DECODE_FAILED, rules, "empty file")
    img, fmt, width, height, orientation = _open(data, rules)
    stored_size = img.size
    if detect_faces:
        _cascade()  # a missing cascade is a setup error, not a corrupt image
    try:
        with img, _DECODES:
            if detect_faces and fmt == "JPEG" and max(stored_size) > DETECT_LONG_SIDE:
                # libjpeg can decode straight to a 1/2..1/8 scale grayscale:
                # the whole stream is still read (corruption still surfaces)
                # at a fraction of the time and memory.
                ratio = DETECT_LONG_SIDE / max(stored_size)
                img.draft("L", (round(stored_size[0] * ratio), round(stored_size[1] * ratio)))
            img.load()
            faces = _find_faces(img, orientation, stored_size) if detect_faces else []
    except Exception as exc:  # truncated/corrupt: OSError, SyntaxError, ValueError, struct.error...
        raise _reject(
            Problem.DECODE_FAILED, rules, f"image data is corrupt ({type(exc).__name__}: {exc})"
        ) from None
    _check_min(width, height, rules)
    if detect_faces:
        _check_faces(faces, rules)
    return Inspection(fmt, width, height, len(data), tuple(faces))


async def load_and_inspect(
    fetcher: ImageSource,
    ref: str,
    rules: ImageRules,
    *,
    detect_faces: bool = True,
    policy: FetchPolicy | None = None,
) -> tuple[bytes, Inspection]:
    """Check ``ref``'s URL rules, fetch it (capped at ``rules.max_bytes``) and inspect it.

    ``policy`` defaults to the fetcher's own policy when it has one.  Raises
    :class:`ImageRejected`; the inspection runs in a worker thread.
    """
    check_ref(
        ref,
        forbid_cjk=rules.forbid_cjk_in_url,
        max_url_chars=rules.max_url_chars,
        policy=policy or getattr(fetcher, "policy", None),
    )
    start_image_imports(faces=detect_faces)
    data = await fetcher.fetch(ref, rules.max_bytes)
    result = await asyncio.to_thread(inspect, data, rules, detect_faces=detect_faces)
    return data, result
