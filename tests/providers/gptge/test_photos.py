"""The result is a real ID photo: requested size, transparent or coloured background, the face
inside `foreground_rect`."""
from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.anyio


async def test_png_is_transparent_around_an_opaque_person(api: Any) -> None:
    task_id = await api.create({"size": "300x400"}, api.upload("face.jpg"))
    done = await api.finish(task_id)
    image = await api.photo(done)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (300, 400))
    assert all(pixel[3] == 0 for pixel in api.top_corners(image))
    clear, opaque = api.alpha_shares(image)
    assert clear > 0.15 and opaque > 0.25  # a real cut-out, neither empty nor a full frame
    rect = done["foreground_rect"]
    assert rect["x"] + rect["width"] <= 300 and rect["y"] + rect["height"] <= 400
    api.face_in_rect(image, rect)


async def test_jpg_puts_the_person_on_bg_color(api: Any) -> None:
    answer = await api.sync({"size": "295x413", "format": "jpg", "bg_color": "438edb",
                             "image_url": api.fixture_url("face.png")})
    done = answer.json()["data"]
    image = await api.photo(done)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (295, 413))
    for r, g, b in api.top_corners(image):
        assert abs(r - 0x43) <= 6 and abs(g - 0x8E) <= 6 and abs(b - 0xDB) <= 6
    api.face_in_rect(image, done["foreground_rect"])


async def test_jpg_background_is_white_by_default(api: Any) -> None:
    task_id = await api.create({"size": "200x250", "format": "jpg"}, api.upload("face.webp"))
    image = await api.photo(await api.finish(task_id))
    assert all(min(pixel) >= 248 for pixel in api.top_corners(image))


@pytest.mark.parametrize(("source", "size"), [
    ("face.bmp", "100x2000"), ("face.tiff", "2000x100"), ("face_small.jpg", "413x626"),
    ("two_faces.jpg", "354x472"),
])
async def test_any_source_and_size_give_exactly_the_requested_size(
        api: Any, source: str, size: str) -> None:
    task_id = await api.create({"size": size}, api.upload(source))
    done = await api.finish(task_id)
    width, height = (int(v) for v in size.split("x"))
    assert done["state"] == 1, done
    assert (done["image_width"], done["image_height"]) == (width, height)
    image = await api.photo(done)
    assert (image.mode, image.size) == ("RGBA", (width, height))
    assert image.getpixel((0, 0))[3] == 0


async def test_exif_rotated_upload_is_framed_upright(api: Any) -> None:
    upright = Image.open(io.BytesIO(api.upload("face.jpg")["image_file"][1])).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; viewers turn it 90 degrees clockwise
    stored = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(stored, "JPEG", exif=exif.tobytes())
    task_id = await api.create({"size": "300x400"}, api.upload("rotated.jpg", stored.getvalue()))
    done = await api.finish(task_id)
    assert done["state"] == 1, done
    api.face_in_rect(await api.photo(done), done["foreground_rect"])
