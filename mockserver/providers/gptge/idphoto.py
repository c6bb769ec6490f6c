"""Real (model-free) ID-photo rendering for the gpt.ge / PicWish ``/task/pic/idphoto`` mock.

Users of the mock inspect the output pixel by pixel, so instead of a canned picture we
frame the person head-and-shoulders, cut them out with OpenCV GrabCut and place them on a
transparent (png) or solid (jpg) background.  Everything is classical image processing
that ships inside the opencv/Pillow wheels: no model download, fully offline, and
deterministic (same input + parameters -> same bytes).
"""

from __future__ import annotations

import io
import math
import re
import threading
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

__all__ = ["FaceBox", "IdPhoto", "NoFaceFound", "detect_face", "render_id_photo"]

MIN_SIDE, MAX_SIDE = 100, 2000
_BG_COLOR_RE = re.compile(r"^[0-9A-Fa-f]{6}$")

# Framing, in fractions of the output height.  "Face height" is the estimated head
# height (crown to chin): at ~50% with a ~10% margin above the crown the chin sits at
# ~60% and the shoulders fill the rest - a classic head-and-shoulders ID photo.
HEAD_FRAC = 0.50
TOP_MARGIN_FRAC = 0.10
# The Haar frontal-face box spans roughly eyebrows..mouth; measured on typical portraits
# the crown (incl. hair) is ~0.5 box heights above it and the chin ~0.2 below it.
CROWN_ABOVE = 0.5
CHIN_BELOW = 1.2

# GrabCut's max-flow gets slow on large smooth images (0.9 s at 512 px on an upscaled
# portrait vs 0.4 s at 384 px with no visible loss after the feathered upscale).
WORK_MAX_SIDE = 384
GRABCUT_ITERS = 4
JPEG_QUALITY = 92
PNG_COMPRESS_LEVEL = 6

_cascade_local = threading.local()


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class IdPhoto:
    data: bytes
    content_type: str
    width: int
    height: int
    foreground_rect: FaceBox  # in output pixels


class NoFaceFound(ValueError):
    """The source image contains no detectable frontal face."""


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier keeps mutable per-call state and is not thread-safe, so each thread
    # loads its own copy once (the XML parse costs ~50 ms, too slow to repeat per request).
    clf: cv2.CascadeClassifier | None = getattr(_cascade_local, "clf", None)
    if clf is None:
        cascades: str = cv2.data.haarcascades  # type: ignore[attr-defined]  # untyped submodule
        clf = cv2.CascadeClassifier(cascades + "haarcascade_frontalface_default.xml")
        if clf.empty():
            raise RuntimeError("OpenCV frontal-face Haar cascade could not be loaded")
        _cascade_local.clf = clf
    return clf


def detect_face(image: Image.Image) -> FaceBox:
    """Largest frontal face in ``image`` (source pixels); raises NoFaceFound if none."""
    gray = np.asarray(image.convert("L"))
    # Detection at <= 640 px is plenty for a portrait and much faster on big uploads.
    scale = min(1.0, 640.0 / max(gray.shape))
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)  # Haar features are contrast sensitive
    # ID-photo sources are portraits: ignoring faces under ~1/12 of the short side halves
    # the detection time (fewer pyramid levels) without missing real subjects.
    min_face = max(24, min(gray.shape) // 12)
    found, votes = _cascade().detectMultiScale2(gray, scaleFactor=1.1, minNeighbors=5,
                                                minSize=(min_face, min_face))
    if len(found) == 0:
        raise NoFaceFound("no face found in the source image")
    # A real face collects dozens of overlapping raw hits; a big false positive (collar,
    # hair texture) only a handful.  Drop weakly supported boxes before taking the largest.
    min_votes = max(5, int(max(votes)) // 4)
    boxes = [tuple(int(v) for v in f) for f, n in zip(found, votes) if int(n) >= min_votes]
    # Largest area wins; ties broken by position so the choice is deterministic.
    fx, fy, fw, fh = max(boxes, key=lambda f: (f[2] * f[3], -f[1], -f[0]))
    return FaceBox(round(fx / scale), round(fy / scale), round(fw / scale), round(fh / scale))


def _validate(width: int, height: int, fmt: str, bg_color: str) -> None:
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_SIDE <= v <= MAX_SIDE:
            raise ValueError(f"{name} must be an integer in [{MIN_SIDE}, {MAX_SIDE}], got {v!r}")
    if fmt not in ("png", "jpg"):
        raise ValueError(f"format must be 'png' or 'jpg', got {fmt!r}")
    if not isinstance(bg_color, str) or not _BG_COLOR_RE.fullmatch(bg_color):
        raise ValueError(f"bg_color must be 6 hex digits RRGGBB, got {bg_color!r}")


def _clip_face(face: FaceBox, img_w: int, img_h: int) -> FaceBox:
    if face.width <= 0 or face.height <= 0:
        raise ValueError(f"face box must have a positive size, got {face}")
    x0, y0 = max(0, face.x), max(0, face.y)
    x1, y1 = min(img_w, face.x + face.width), min(img_h, face.y + face.height)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {face} lies outside the {img_w}x{img_h} source image")
    return FaceBox(x0, y0, x1 - x0, y1 - y0)


def _prior_mask(ww: int, wh: int, fx: float, fy: float, fw: float, fh: float,
                sides: tuple[bool, bool]) -> np.ndarray:
    """GrabCut seed mask in working pixels, built from the face box (fx, fy, fw, fh).

    ``sides`` says whether the left/right edge is the crop window's own edge (True) or
    where an already tightly cropped source ends (False: the person may touch it).
    """
    mask = np.full((wh, ww), cv2.GC_PR_BGD, np.uint8)
    cx = fx + fw / 2
    crown, chin = fy - CROWN_ABOVE * fh, fy + CHIN_BELOW * fh
    shoulder_y = chin + 0.45 * fh
    # Borders are sure background - except the bottom edge and the sides below the chin,
    # which a head-and-shoulders crop normally cuts through collar/shoulders, and sides
    # where the source itself ends inside the window.
    bt = max(2, round(0.02 * max(ww, wh)))
    mask[:bt, :] = cv2.GC_BGD
    side_rows = max(0, min(wh, math.floor(chin)))
    if sides[0]:
        mask[:side_rows, :bt] = cv2.GC_BGD
    if sides[1]:
        mask[:side_rows, ww - bt:] = cv2.GC_BGD
    # Body: neck widening into shoulders down to the bottom edge (probable foreground only,
    # GrabCut decides the real outline).
    body = np.array([
        (cx - 0.35 * fw, fy + 0.9 * fh), (cx + 0.35 * fw, fy + 0.9 * fh),
        (cx + 1.2 * fw, shoulder_y), (cx + 2.0 * fw, chin + 1.5 * fh),
        (cx + 2.0 * fw, wh + fh), (cx - 2.0 * fw, wh + fh),
        (cx - 2.0 * fw, chin + 1.5 * fh), (cx - 1.2 * fw, shoulder_y),
    ])
    cv2.fillPoly(mask, [np.round(body).astype(np.int32)], int(cv2.GC_PR_FGD))
    # Head incl. hair: an ellipse from the estimated crown to the chin, a bit wider than the
    # face box; drawn after the border so hair touching the image edge is not forced to bg.
    centre = (round(cx), round((crown + chin) / 2))
    axes = (max(1, round(0.85 * fw)), max(1, round(0.55 * (chin - crown))))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, int(cv2.GC_PR_FGD), -1)
    # Face box (trimmed 10% per side: detector boxes can graze background at the cheeks).
    x0, x1 = max(0, round(fx + 0.1 * fw)), min(ww, round(fx + 0.9 * fw))
    y0, y1 = max(0, round(fy + 0.05 * fh)), min(wh, round(fy + fh))
    mask[y0:y1, x0:x1] = cv2.GC_FGD
    if x1 <= x0 or y1 <= y0:  # degenerate tiny face: seed at least its centre pixel
        mask[min(wh - 1, max(0, round(fy + fh / 2))), min(ww - 1, max(0, round(cx)))] = cv2.GC_FGD
    return mask


def _clean(fg: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Keep the blobs touching the sure-face seed, drop specks, fill interior holes."""
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    n, labels = cv2.connectedComponents(fg, connectivity=8)
    keep = np.unique(labels[(seed > 0) & (labels > 0)])
    if n <= 1 or keep.size == 0:
        return seed.astype(np.uint8)  # GrabCut lost the face entirely: fall back to the seed
    person = np.isin(labels, keep).astype(np.uint8)
    contours, _ = cv2.findContours(person, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(person)
    cv2.drawContours(filled, contours, -1, 1, thickness=-1)
    return filled


def _segment(region: np.ndarray, face: tuple[float, float, float, float],
             sides: tuple[bool, bool]) -> np.ndarray:
    """Alpha (uint8, region size) of the person in an RGB ``region`` with face box ``face``."""
    rh, rw = region.shape[:2]
    ws = min(1.0, WORK_MAX_SIDE / max(rw, rh))
    ww, wh = max(1, round(rw * ws)), max(1, round(rh * ws))
    work = cv2.resize(region, (ww, wh), interpolation=cv2.INTER_AREA) if ws < 1.0 else region
    work = np.ascontiguousarray(work[:, :, ::-1])  # grabCut expects 8UC3 (BGR by convention)
    fx, fy, fw, fh = (v * ws for v in face)
    mask = _prior_mask(ww, wh, fx, fy, fw, fh, sides)
    seed = (mask == cv2.GC_FGD).astype(np.uint8)
    has_bg = bool(np.any((mask == cv2.GC_BGD) | (mask == cv2.GC_PR_BGD)))
    if has_bg and min(ww, wh) >= 8:
        bgd = np.zeros((1, 65), np.float64)
        fgd = np.zeros((1, 65), np.float64)
        # GrabCut seeds its GMMs with k-means, which draws from OpenCV's thread-local RNG:
        # reseeding in this thread right before the call makes the output reproducible.
        cv2.setRNGSeed(0)
        try:
            # The stubs require a rect, which OpenCV ignores when it starts from a mask.
            cv2.grabCut(work, mask, None, bgd, fgd,  # type: ignore[call-overload]  # see above
                        GRABCUT_ITERS, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # e.g. too few samples for a GMM: keep the prior mask, still deterministic
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    soft = cv2.GaussianBlur(_clean(fg, seed).astype(np.float32), (0, 0), 0.8)
    if (ww, wh) != (rw, rh):
        soft = cv2.resize(soft, (rw, rh), interpolation=cv2.INTER_LINEAR)
    return np.clip(np.rint(soft * 255.0), 0, 255).astype(np.uint8)


def render_id_photo(source: Image.Image, face: FaceBox | None, width: int, height: int,
                    fmt: Literal["png", "jpg"] = "png", bg_color: str = "FFFFFF") -> IdPhoto:
    """Frame, cut out and encode a ``width`` x ``height`` ID photo of the face's owner.

    ``face`` is in source pixels; with None the largest Haar-cascade face is used.  The
    source is used as is (apply EXIF orientation before calling if needed).
    """
    _validate(width, height, fmt, bg_color)
    rgb = source.convert("RGB")
    img_w, img_h = rgb.size
    face = _clip_face(detect_face(rgb) if face is None else face, img_w, img_h)

    # Crop window (float source coords) with exactly the output aspect ratio.
    crown = face.y - CROWN_ABOVE * face.height
    head_h = (CHIN_BELOW + CROWN_ABOVE) * face.height
    scale = HEAD_FRAC * height / head_h  # output px per source px
    win_w, win_h = width / scale, height / scale
    left = face.x + face.width / 2 - win_w / 2
    top = crown - TOP_MARGIN_FRAC * win_h
    right, bottom = left + win_w, top + win_h

    # Segment only the part of the window that exists in the source.
    rl, rt = max(0, math.floor(left)), max(0, math.floor(top))
    rr, rb = min(img_w, math.ceil(right)), min(img_h, math.ceil(bottom))
    region = np.asarray(rgb.crop((rl, rt, rr, rb)))
    alpha = _segment(region, (face.x - rl, face.y - rt, face.width, face.height),
                     (left >= 0, right <= img_w))
    cutout = Image.fromarray(np.dstack([region, alpha]), "RGBA")

    # Where the window leaves the source the output is padded (transparent), never
    # distorted.  Rather than a window-sized canvas (gigabytes for e.g. 2000x100 from a
    # big selfie) only the output rect the region lands on (+3 px of Lanczos tails) is
    # resampled from the cutout with a transparent margin wide enough for the kernel, at
    # exactly `scale`.  Pillow premultiplies RGBA while resampling: no dark halo at pads.
    ox0 = max(0, math.floor((rl - left) * scale) - 3)
    oy0 = max(0, math.floor((rt - top) * scale) - 3)
    ox1 = min(width, math.ceil((rr - left) * scale) + 3)
    oy1 = min(height, math.ceil((rb - top) * scale) + 3)
    m = math.ceil(4 * max(1.0, 1.0 / scale)) + 2
    padded = Image.new("RGBA", (cutout.width + 2 * m, cutout.height + 2 * m), (0, 0, 0, 0))
    padded.paste(cutout, (m, m))
    box = (left + ox0 / scale - rl + m, top + oy0 / scale - rt + m,
           left + ox1 / scale - rl + m, top + oy1 / scale - rt + m)
    out = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    out.paste(padded.resize((ox1 - ox0, oy1 - oy0), Image.Resampling.LANCZOS, box=box),
              (ox0, oy0))

    out_alpha = np.asarray(out.getchannel("A"))
    ys, xs = np.nonzero(out_alpha > 127)
    if xs.size:
        rect = FaceBox(int(xs.min()), int(ys.min()),
                       int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    else:  # empty mask: report where the face was framed
        fx0 = min(width - 1, max(0, round((face.x - left) * scale)))
        fy0 = min(height - 1, max(0, round((face.y - top) * scale)))
        fx1 = min(width, max(fx0 + 1, round((face.x + face.width - left) * scale)))
        fy1 = min(height, max(fy0 + 1, round((face.y + face.height - top) * scale)))
        rect = FaceBox(fx0, fy0, fx1 - fx0, fy1 - fy0)

    buf = io.BytesIO()
    if fmt == "png":
        # A fresh image carries no info dict, so no tEXt/tIME chunks: bytes depend on pixels.
        out.save(buf, format="PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
        content_type = "image/png"
    else:
        bg = Image.new("RGB", (width, height), tuple(bytes.fromhex(bg_color)))
        bg.paste(out.convert("RGB"), (0, 0), out.getchannel("A"))
        bg.save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0,
                optimize=False, progressive=False)
        content_type = "image/jpeg"
    return IdPhoto(buf.getvalue(), content_type, width, height, rect)
