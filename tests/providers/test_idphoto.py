"""Tests for the model-free ID-photo renderer behind the gpt.ge /task/pic/idphoto mock.

Input is the public-domain NASA portrait of Eileen Collins bundled with scikit-image.
Renders are cached per parameter set so the whole module stays well under 20 s.
"""

from __future__ import annotations

import concurrent.futures
import io
from functools import lru_cache

import cv2
import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

from mockserver.providers.gptge.idphoto import (  # noqa: E402
    FaceBox,
    IdPhoto,
    NoFaceFound,
    detect_face,
    render_id_photo,
)


@lru_cache(maxsize=None)
def source(name: str) -> Image.Image:
    astro = Image.fromarray(skimage_data.astronaut())
    if name == "astronaut":
        return astro
    if name == "astronaut1024":
        return astro.resize((1024, 1024), Image.Resampling.LANCZOS)
    if name == "portrait_crop":  # 310x512, person cut at the sides
        return astro.crop((90, 0, 400, 512))
    if name == "landscape_crop":  # 512x300, body cut off above the output's bottom edge
        return astro.crop((0, 0, 512, 300))
    raise KeyError(name)


@lru_cache(maxsize=None)
def render(name: str, w: int, h: int, fmt: str = "png", bg: str = "FFFFFF") -> IdPhoto:
    return render_id_photo(source(name), None, w, h, fmt, bg)  # type: ignore[arg-type]


def decode(photo: IdPhoto) -> Image.Image:
    im = Image.open(io.BytesIO(photo.data))
    im.load()
    return im


def corners(w: int, h: int) -> dict[str, tuple[int, int]]:
    return {"tl": (0, 0), "tr": (w - 1, 0), "bl": (0, h - 1), "br": (w - 1, h - 1)}


def inside(inner: FaceBox, outer: FaceBox, slack: int = 0) -> bool:
    return (inner.x >= outer.x - slack and inner.y >= outer.y - slack
            and inner.x + inner.width <= outer.x + outer.width + slack
            and inner.y + inner.height <= outer.y + outer.height + slack)


SIZES = [(295, 413), (300, 400), (600, 600), (100, 100), (2000, 2000), (2000, 100), (100, 2000)]


@pytest.mark.parametrize("w,h", SIZES)
def test_png_exact_size_transparent_background_opaque_face(w: int, h: int) -> None:
    photo = render("astronaut", w, h)
    assert (photo.width, photo.height, photo.content_type) == (w, h, "image/png")
    im = decode(photo)
    assert im.format == "PNG" and im.mode == "RGBA" and im.size == (w, h)
    alpha = np.asarray(im.getchannel("A"))
    # Top corners are background (or padding above the head).  The bottom corners are
    # usually shoulders in a head-and-shoulders crop, so they are only checked when the
    # crop is wide enough to show background beside the body (square or wider).
    checked = ["tl", "tr"] + (["bl", "br"] if w >= 2 * h else [])
    for name in checked:
        cx, cy = corners(w, h)[name]
        assert alpha[cy, cx] == 0, name
    # The face centre sits horizontally centred at ~39% of the height (10% crown margin
    # + half of a ~50% head) and must be fully opaque.
    assert alpha[round(0.39 * h), w // 2] == 255
    rect = photo.foreground_rect
    assert 0 <= rect.x and 0 <= rect.y and rect.width > 0 and rect.height > 0
    assert rect.x + rect.width <= w and rect.y + rect.height <= h
    assert inside(FaceBox(w // 2, round(0.39 * h), 1, 1), rect)


@pytest.mark.parametrize("name,w,h", [
    ("astronaut", 295, 413), ("astronaut", 600, 600), ("astronaut1024", 295, 413),
    ("astronaut1024", 600, 600), ("portrait_crop", 295, 413), ("landscape_crop", 600, 600),
])
def test_framing_head_and_shoulders(name: str, w: int, h: int) -> None:
    photo = render(name, w, h)
    im = decode(photo)
    alpha = np.asarray(im.getchannel("A"))
    rect = photo.foreground_rect
    # Crown margin ~10% of the height (foreground starts at the top of the hair).
    assert 0.05 * h <= rect.y <= 0.15 * h, rect
    # Re-detect the face in the output: horizontally centred, ~30% of the height for the
    # Haar box (head crown-to-chin ~50%), and inside the reported foreground rect.
    flat = Image.new("RGB", im.size, (128, 128, 128))
    flat.paste(im.convert("RGB"), (0, 0), im.getchannel("A"))
    face = detect_face(flat)
    assert abs(face.x + face.width / 2 - w / 2) <= 0.05 * w, face
    assert 0.22 <= face.height / h <= 0.38, face
    assert inside(face, rect), (face, rect)
    assert alpha[face.y + face.height // 2, face.x + face.width // 2] == 255
    if name != "landscape_crop":  # that source ends above the output's bottom edge
        assert alpha[-1].max() == 255, "shoulders should reach the bottom edge"


@pytest.mark.parametrize("bg", ["FFFFFF", "438EDB"])
@pytest.mark.parametrize("w,h", [(295, 413), (600, 800)])
def test_jpg_background_colour_and_face_inside_rect(w: int, h: int, bg: str) -> None:
    photo = render("astronaut", w, h, "jpg", bg)
    assert (photo.width, photo.height, photo.content_type) == (w, h, "image/jpeg")
    im = decode(photo)
    assert im.format == "JPEG" and im.mode == "RGB" and im.size == (w, h)
    px = np.asarray(im).astype(int)
    want = np.array(list(bytes.fromhex(bg)))
    for name in ("tl", "tr"):
        cx, cy = corners(w, h)[name]
        assert np.abs(px[cy, cx] - want).max() <= 4, (name, px[cy, cx])
    # The whole top strip above the crown is clean background, not just the corners.
    top = px[: max(1, round(0.04 * h))]
    assert np.abs(top - want).max() <= 8
    face = detect_face(im)
    assert inside(face, photo.foreground_rect), (face, photo.foreground_rect)
    assert abs(face.x + face.width / 2 - w / 2) <= 0.05 * w


def test_bg_color_ignored_for_png() -> None:
    a = render("astronaut", 300, 400)
    b = render_id_photo(source("astronaut"), None, 300, 400, "png", "438EDB")
    assert a.data == b.data


def test_bg_color_case_insensitive() -> None:
    a = render("astronaut", 300, 400, "jpg", "438EDB")
    b = render_id_photo(source("astronaut"), None, 300, 400, "jpg", "438edb")
    assert a.data == b.data


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_deterministic_bytes_across_calls_threads_and_rng_state(fmt: str) -> None:
    first = render("astronaut", 295, 413, fmt, "438EDB")
    cv2.setRNGSeed(12345)  # disturbing the caller's RNG state must not change the output
    second = render_id_photo(source("astronaut"), None, 295, 413,
                             fmt, "438EDB")  # type: ignore[arg-type]
    # Two threads at once: per-thread cascades and per-thread RNG seeding.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(render_id_photo, source("astronaut"), None, 295, 413, fmt, "438EDB")
                   for _ in range(2)]
        threaded = [f.result() for f in futures]
    assert first.data == second.data
    assert all(t.data == first.data for t in threaded)
    assert all(t.foreground_rect == first.foreground_rect for t in [second, *threaded])


def test_explicit_face_box_matches_detection() -> None:
    face = detect_face(source("astronaut"))
    assert inside(face, FaceBox(150, 40, 150, 150)), face  # Collins' face in the 512 image
    explicit = render_id_photo(source("astronaut"), face, 295, 413)
    assert explicit.data == render("astronaut", 295, 413).data


def test_upscaled_source_frames_the_same_way() -> None:
    small, big = render("astronaut", 295, 413), render("astronaut1024", 295, 413)
    for a, b in zip((small.foreground_rect.x, small.foreground_rect.y),
                    (big.foreground_rect.x, big.foreground_rect.y)):
        assert abs(a - b) <= 12


def test_no_metadata_in_outputs() -> None:
    png = render("astronaut", 295, 413).data
    chunks, pos = [], 8
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        chunks.append(png[pos + 4:pos + 8].decode("ascii"))
        pos += 12 + length
    assert set(chunks) == {"IHDR", "IDAT", "IEND"}
    jpg = render("astronaut", 295, 413, "jpg", "FFFFFF").data
    assert b"Exif" not in jpg and b"\xff\xe1" not in jpg and b"\xff\xfe" not in jpg


def test_source_modes_are_accepted() -> None:
    rgba = source("astronaut").convert("RGBA")
    gray = source("astronaut").convert("L")
    assert decode(render_id_photo(rgba, None, 150, 200)).size == (150, 200)
    assert decode(render_id_photo(gray, None, 150, 200, "jpg")).mode == "RGB"


@pytest.mark.parametrize("image", [
    Image.fromarray(skimage_data.coffee()),
    Image.fromarray(np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))).convert("RGB"),
    Image.new("RGB", (640, 480), (200, 30, 30)),
], ids=["coffee", "gradient", "flat"])
def test_no_face_found(image: Image.Image) -> None:
    with pytest.raises(NoFaceFound):
        render_id_photo(image, None, 295, 413)
    assert issubclass(NoFaceFound, ValueError)


@pytest.mark.parametrize("kwargs", [
    {"width": 99}, {"width": 2001}, {"height": 0}, {"height": 2001},
    {"width": 300.0}, {"width": True}, {"fmt": "gif"}, {"fmt": "PNG"}, {"fmt": "jpeg"},
    {"bg_color": "#FFFFFF"}, {"bg_color": "FFF"}, {"bg_color": "GGGGGG"}, {"bg_color": ""},
    {"bg_color": "FFFFFF0"}, {"bg_color": "FFFFFF\n"},
    {"face": FaceBox(10, 10, 0, 50)}, {"face": FaceBox(600, 600, 50, 50)},
    {"face": FaceBox(-100, -100, 50, 50)},
])
def test_bad_arguments_raise_value_error(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"source": source("astronaut"), "face": None, "width": 300,
                               "height": 400, "fmt": "png", "bg_color": "FFFFFF"}
    args.update(kwargs)
    with pytest.raises(ValueError):
        render_id_photo(**args)  # type: ignore[arg-type]


def test_face_box_partly_outside_is_clipped() -> None:
    photo = render_id_photo(source("astronaut"), FaceBox(150, -20, 150, 190), 150, 200)
    assert decode(photo).size == (150, 200)
