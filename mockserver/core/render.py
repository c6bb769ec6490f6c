"""Deterministic result images: a portrait-like card drawn with Pillow from a seed string.

The same seed, size and format always give the same bytes, so a client can cache or compare
results, and nothing is stored: result URLs are rendered when they are fetched.
"""
from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg"), "jpeg": ("JPEG", "image/jpeg")}


def _palette(seed: str) -> tuple[tuple[int, int, int], ...]:
    digest = hashlib.sha256(seed.encode()).digest()
    return tuple((digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 12, 3))


def _draw(seed: str, width: int, height: int, lines: tuple[str, ...]) -> Image.Image:
    from PIL import Image, ImageDraw, ImageFont  # with the first result image, not at start-up

    top, bottom, skin, cloth = _palette(seed)
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):  # vertical gradient background
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    cx, unit = width / 2, min(width, height)
    head_w, head_h = unit * 0.30, unit * 0.38
    head_top = height * 0.18
    skin_tone = tuple(150 + c // 3 for c in skin)
    draw.rounded_rectangle(
        [cx - unit * 0.42, head_top + head_h * 0.9, cx + unit * 0.42, height + unit * 0.2],
        radius=int(unit * 0.18), fill=cloth,
    )
    draw.ellipse([cx - head_w / 2, head_top, cx + head_w / 2, head_top + head_h], fill=skin_tone)
    font = ImageFont.load_default(size=max(10, unit // 28))
    for i, text in enumerate(lines):
        draw.text((unit * 0.04, unit * 0.04 + i * unit / 24), text, fill=(255, 255, 255), font=font)
    return img


@lru_cache(maxsize=64)
def render_image(seed: str, width: int, height: int, fmt: str, lines: tuple[str, ...] = ()) -> bytes:
    """Encode the card for `seed` as `fmt` ('png' or 'jpg'); cached by argument."""
    pil_format, _ = FORMATS[fmt]
    buffer = io.BytesIO()
    _draw(seed, width, height, lines).save(buffer, format=pil_format, **(
        {"quality": 90, "optimize": False} if pil_format == "JPEG" else {"compress_level": 6}
    ))
    return buffer.getvalue()


def content_type(fmt: str) -> str:
    return FORMATS[fmt][1]
