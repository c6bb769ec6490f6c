"""Every violation of the create form's rules answers the vendor's error envelope, never a 500."""
from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.anyio

URL = "http://127.0.0.1:9/portrait.jpg"  # never fetched: each case fails validation first
BAD_FORMS = {
    "image_missing": [{}, {"size": "300x400"}, {"image_url": ""}],
    "invalid_size": [{"image_url": URL, "size": s} for s in
                     ("99x400", "300x2001", "300X400", "300*400", "0300x400", "300x", "", "axb")],
    "invalid_format": [{"image_url": URL, "format": f} for f in ("jpeg", "PNG", "webp", "")],
    "invalid_bg_color": [{"image_url": URL, "format": "jpg", "bg_color": c}
                         for c in ("#FFFFFF", "FFF", "GGGGGG", "")] +
                        [{"image_url": URL, "format": "png", "bg_color": "white"}],
    "invalid_sync": [{"image_url": URL, "sync": s} for s in ("2", "true", "")],
    "invalid_return_type": [{"image_url": URL, "return_type": "3"}],
    "invalid_image_url": [{"image_url": u} for u in
                          ("ftp://host/a.jpg", "portrait.jpg", "http://", "http://a/" + "x" * 510)],
    "invalid_callback_url": [{"image_url": URL, "callback_url": "mailto:me@example.com"}],
}
MESSAGES = {
    "image_missing": "One of image_file or image_url is required.",
    "invalid_size": "size must be {width}x{height} with each side between 100 and 2000.",
    "invalid_format": "format must be png or jpg.",
    "invalid_bg_color": "bg_color must be six hex digits (RRGGBB).",
    "invalid_sync": "sync must be 0 or 1.",
    "invalid_return_type": "return_type must be 1 or 2.",
    "invalid_image_url": "image_url must be an http(s) URL of at most 512 characters.",
    "invalid_callback_url": "callback_url must be an http(s) URL.",
}


async def test_each_bad_field_gets_a_400_with_its_message(api: Any) -> None:
    n = 0
    for code, forms in BAD_FORMS.items():
        for form in forms:
            n += 1  # a fresh key per request keeps the 2 QPS limit out of the way
            answer = await api.post(form, who=f"k{n}")
            assert answer.status_code == 400, (form, answer.text)
            assert answer.json() == {"status": 400, "message": MESSAGES[code]}, form
    listing = await api.client.get("/__admin/tasks", params={"vendor": "gptge"})
    assert listing.json()["count"] == 0


async def test_both_image_sources_conflict_but_an_empty_one_counts_as_absent(api: Any) -> None:
    both = await api.post({"image_url": URL}, api.upload("face.jpg"))
    assert both.status_code == 400
    assert both.json()["message"] == "Send only one of image_file and image_url."
    empty_url = await api.post({"image_url": "", "size": "100x100"}, api.upload("face.jpg"),
                               who="bob")
    assert empty_url.status_code == 200, empty_url.text
    empty_file = await api.post({"image_url": api.fixture_url("face.jpg"), "size": "100x100"},
                                api.upload("face.jpg", b""), who="carol")
    assert empty_file.status_code == 200, empty_file.text


async def test_non_form_bodies_are_400(api: Any) -> None:
    as_json = await api.client.post(api.create_path, json={"image_url": URL}, headers=api.key())
    assert as_json.status_code == 400
    assert as_json.json()["message"] == "The request body must be multipart/form-data."
    broken = await api.client.post(
        api.create_path, content=b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb",
        headers={**api.key("bob"), "Content-Type": "multipart/form-data; boundary=zzz"})
    assert broken.status_code == 400 and broken.json()["status"] == 400


async def test_urlencoded_form_is_accepted(api: Any) -> None:
    answer = await api.client.post(
        api.create_path, content=f"image_url={api.fixture_url('face.jpg')}&size=100x120",
        headers={**api.key(), "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, answer.text


async def test_upload_over_15_mb_is_413(api: Any) -> None:
    big = b"\xff\xd8" + bytes(15 * 1024 * 1024)
    answer = await api.post({"size": "300x400"}, api.upload("big.jpg", big))
    assert answer.status_code == 413
    assert answer.json() == {"status": 413, "message": "The uploaded file exceeds the 15 MB limit."}


async def test_bad_or_missing_keys_are_401(api: Any) -> None:
    form = {"image_url": URL}
    for headers in ({}, {"Authorization": "Bearer invalid-token"}, {"Authorization": "Basic abc"}):
        for method, path in (("POST", api.create_path), ("GET", "/task/abc")):
            answer = await api.client.request(method, path, data=form if method == "POST" else None,
                                              headers=headers)
            assert answer.status_code == 401, (headers, path)
            assert answer.json()["status"] == 401 and answer.json()["message"]


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("source", "state", "detail"), [
    ("corrupt.jpg", -7, "Invalid image"),
    ("bomb.png", -7, "Invalid image"),
    ("not_image.txt", -7, "Invalid image"),
    ("no_face.jpg", -1, "Failed"),
    ("4100x10", -5, "Image too large"),
])
async def test_image_problems_become_negative_task_states(
        api: Any, source: str, state: int, detail: str) -> None:
    data = _png(4100, 10) if source == "4100x10" else None
    task_id = await api.create({"size": "300x400"}, api.upload(source, data))
    done = await api.finish(task_id)
    assert (done["state"], done["state_detail"], done["progress"]) == (state, detail, 0)
    assert done["err_info"] and "image" not in done and done["completed_at"] >= done["created_at"]


@pytest.mark.parametrize(("name", "state"), [("missing.jpg", -3), ("not_image.txt", -3),
                                             ("no_face.jpg", -1)])
async def test_url_problems_become_negative_task_states(api: Any, name: str, state: int) -> None:
    answer = await api.sync({"image_url": api.fixture_url(name), "size": "300x400"})
    assert answer.status_code == 200
    assert answer.json()["data"]["state"] == state


async def test_a_sync_call_returns_a_failure_as_200_with_a_negative_state(api: Any) -> None:
    answer = await api.sync({"size": "300x400"}, api.upload("corrupt.jpg"))
    assert answer.status_code == 200 and answer.json()["status"] == 200
    assert answer.json()["data"]["state"] == -7
