"""Issue 15, item 10 (the decoding part): every vendor bounds decoding by bytes and resolution,
checked from the header before any pixel is decoded. AceData documents no cap: it gets a
stated one (4096 x 4096), so a small PNG claiming a huge canvas is refused, not decoded."""
from __future__ import annotations

import struct
import zlib

import pytest

from mockserver.core.images import MAX_PIXELS, ImageRejected, Problem, inspect
from mockserver.providers import provider_classes


def png_claiming(width: int, height: int) -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("spec", [cls.spec for cls in provider_classes()], ids=lambda s: s.name)
def test_every_vendor_caps_bytes_and_resolution(spec: object) -> None:
    for rules in getattr(spec, "image_rules").values():
        assert rules.max_bytes > 0 and rules.max_width and rules.max_height, rules.name
        assert rules.max_width * rules.max_height <= MAX_PIXELS


def test_a_small_png_claiming_a_huge_canvas_is_refused_undecoded() -> None:
    from mockserver.providers.acedata.inputs import INPUT_RULES

    data = png_claiming(6000, 6000)  # 108 MB as RGB; a few hundred bytes on the wire
    assert len(data) < 200_000
    with pytest.raises(ImageRejected) as refused:
        inspect(data, INPUT_RULES, detect_faces=False)
    assert refused.value.problem is Problem.TOO_LARGE and "4096" in refused.value.detail
