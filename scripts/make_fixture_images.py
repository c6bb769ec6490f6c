#!/usr/bin/env python3
"""Generate the sample images under ``fixtures/images/`` deterministically.

Sources: the NASA astronaut photo (Eileen Collins, public domain) shipped in the
scikit-image wheel, scikit-image's ``coffee`` photo (CC0, Rachel Michetti) and
synthetic pixels made here (CC0).  After writing, every file is run through
:func:`mockserver.core.images.inspect` with each vendor ruleset and the script
exits non-zero if a verdict differs from the table in ``EXPECTED`` (which is
also what ``README.md`` documents and ``tests/core/test_images.py`` asserts).

Usage: ``python scripts/make_fixture_images.py [--out fixtures/images] [--no-check]``
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from mockserver.core import images  # noqa: E402
from mockserver.providers import provider_classes  # noqa: E402

# Permissive rules used only to count faces.
ANY_IMAGE = images.ImageRules(
    formats=frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF"}), max_bytes=1 << 30
)

# (vendor, image kind) of each provider's declared rules (`VendorSpec.image_rules`).
RULESETS = (("dashscope", "user"), ("dashscope", "template"), ("tencent", "template"),
            ("tencent", "user"), ("gptge", "source"), ("acedata", "input"))
RULES = {cls.spec.name: cls.spec.image_rules for cls in provider_classes()}
OK = "ok"
# file -> (faces detected or None if undecodable, verdict per ruleset in RULESETS order).
# Verdicts are Problem names or "ok".
EXPECTED: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "face.jpg": (1, (OK, OK, OK, OK, OK, OK)),
    "face.png": (1, (OK, OK, OK, OK, OK, OK)),
    "face.webp": (1, ("UNSUPPORTED_FORMAT", "UNSUPPORTED_FORMAT", OK, OK, OK, OK)),
    "face.bmp": (1, ("UNSUPPORTED_FORMAT", "UNSUPPORTED_FORMAT", OK, OK, OK, OK)),
    "face.tiff": (1, ("UNSUPPORTED_FORMAT", "UNSUPPORTED_FORMAT", OK, OK, OK,
                      "UNSUPPORTED_FORMAT")),
    "template.jpg": (1, (OK, OK, OK, OK, OK, OK)),
    "face_small.jpg": (1, ("FACE_TOO_SMALL", OK, OK, OK, OK, OK)),
    "two_faces.jpg": (2, ("MULTIPLE_FACES", OK, OK, OK, OK, OK)),
    "six_faces.jpg": (6, ("MULTIPLE_FACES", OK, "TOO_MANY_FACES", OK, OK, OK)),
    "no_face.jpg": (0, ("NO_FACE", "NO_FACE", "NO_FACE", "NO_FACE", "NO_FACE", OK)),
    "tiny.jpg": (1, ("TOO_SMALL", "TOO_SMALL", "TOO_SMALL", OK, OK, OK)),
    "huge.jpg": (1, ("TOO_LARGE", "TOO_LARGE", "TOO_LARGE", "TOO_LARGE", OK, OK)),
    "big_bytes.png": (1, ("TOO_MANY_BYTES", "TOO_MANY_BYTES", OK, OK, OK, OK)),
    "corrupt.jpg": (None, ("DECODE_FAILED",) * 6),
    "not_image.txt": (None, ("DECODE_FAILED",) * 6),
    "bomb.png": (None, ("DECODE_FAILED",) * 6),
}


def astronaut() -> Image.Image:
    """The 512x512 astronaut photo from the installed scikit-image wheel."""
    from skimage import data

    return Image.fromarray(data.astronaut())


def coffee() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.coffee())


def portrait(size: tuple[int, int]) -> Image.Image:
    """Head-and-shoulders crop of the astronaut (face ~1/4 of the width), resized."""
    src = astronaut()
    w, h = size
    # A 384 px wide window centred on the face; as tall as the aspect asks for.
    crop_h = min(512, round(384 * h / w))
    return src.crop((64, 0, 448, crop_h)).resize(size, Image.Resampling.LANCZOS)


def backdrop(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth, featureless two-colour gradient (no structure a detector could like)."""
    w, h = size
    rng = np.random.default_rng(seed)
    a, b = rng.integers(40, 215, size=(2, 3))
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    rows = (a * (1 - t) + b * t).astype(np.uint8)
    return Image.fromarray(np.repeat(rows, w, axis=1))


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def tiled(cols: int, rows: int, tile: int, gap: int) -> Image.Image:
    canvas = backdrop((cols * tile + (cols + 1) * gap, rows * tile + (rows + 1) * gap), 7)
    face = portrait((tile, tile))
    for r in range(rows):
        for c in range(cols):
            canvas.paste(face, (gap + c * (tile + gap), gap + r * (tile + gap)))
    return canvas


def face_small() -> Image.Image:
    canvas = backdrop((600, 600), 3)
    canvas.paste(astronaut().resize((360, 360), Image.Resampling.LANCZOS), (120, 120))
    return canvas


def big_bytes() -> Image.Image:
    # Uniform noise defeats PNG compression: ~5.5 MB at 1400x1400, with the
    # portrait pasted in the middle so the face rules still pass.
    rng = np.random.default_rng(20240501)
    canvas = Image.fromarray(rng.integers(0, 256, size=(1400, 1400, 3), dtype=np.uint8))
    canvas.paste(portrait((600, 600)), (400, 400))
    return canvas


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose IHDR claims width x height RGB."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(
            ">I", zlib.crc32(tag + body) & 0xFFFFFFFF
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 4, 9)  # only 4 rows of zeros
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def build() -> dict[str, bytes]:
    """Every fixture file name mapped to its bytes."""
    face = portrait((800, 800))
    face_jpg = jpeg(face)
    files: dict[str, bytes] = {
        "face.jpg": face_jpg,
        "face.png": encode(face, "PNG", optimize=True),
        "face.webp": encode(face, "WEBP", quality=90, method=4),
        "face.bmp": encode(face, "BMP"),
        "face.tiff": encode(face, "TIFF", compression="tiff_adobe_deflate"),
        "template.jpg": jpeg(portrait((900, 1200))),
        "face_small.jpg": jpeg(face_small()),
        "two_faces.jpg": jpeg(tiled(2, 1, 480, 20)),
        "six_faces.jpg": jpeg(tiled(3, 2, 380, 20)),
        "no_face.jpg": jpeg(coffee().resize((900, 600), Image.Resampling.LANCZOS)),
        "tiny.jpg": jpeg(portrait((200, 200))),
        "huge.jpg": jpeg(portrait((2400, 2400)), quality=85),
        "big_bytes.png": encode(big_bytes(), "PNG"),
        "corrupt.jpg": face_jpg[: len(face_jpg) * 2 // 5],
        "not_image.txt": b"This is a plain text file, not an image.\n" * 4,
        "bomb.png": bomb_png(),
    }
    return files


def verdicts(data: bytes) -> tuple[int | None, tuple[str, ...]]:
    """Face count (None if undecodable) and the verdict under each ruleset."""
    try:
        faces: int | None = len(images.inspect(data, ANY_IMAGE).faces)
    except images.ImageRejected:
        faces = None
    out = []
    for name in RULESETS:
        try:
            images.inspect(data, RULES[name[0]][name[1]])
            out.append(OK)
        except images.ImageRejected as exc:
            out.append(exc.problem.name)
    return faces, tuple(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "images")
    parser.add_argument("--no-check", action="store_true", help="skip the verdict check")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = build()
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} files, {total / 1e6:.2f} MB, to {args.out}")
    if args.no_check:
        return 0
    bad = 0
    for name, data in files.items():
        got = verdicts(data)
        flag = "" if got == EXPECTED[name] else "   <-- expected " + repr(EXPECTED[name])
        bad += bool(flag)
        print(f"{name:15s} {len(data):>9d} B  faces={got[0]!s:4s} {' '.join(got[1])}{flag}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
