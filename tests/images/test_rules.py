"""Every image rule, per vendor, with the vendor's exact answer (the tables of docs/images.md).

Each test sends one input per row to one vendor on one in-process mock and compares the whole
table at once, so a failure shows every row that changed. The inputs are the fixture images the
mock serves itself, plus a 404, a closed port, a web page, a redirect loop and oversize bodies
from a small local server, and, for AceData, base64 strings and data: URIs.
"""
from __future__ import annotations

import asyncio

import pytest

from .conftest import (
    ByteServer,
    Vendors,
    as_base64,
    as_data_uri,
    closed_port_url,
    fixture_bytes,
    png_claiming,
)

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
# The seed's own generate example (seed 000): a platform path, accepted unchecked.
SEED_PATH = ("/image/aHR0cHM6Ly9pLWJsb2cuY3NkbmltZy5jbi9pbWdfY29udmVydC9lNjM3OWY5ZWY5NmZmZjVl"
             "NWU4MDg0YjZhYWFmMDY1MS5qcGVn")
NETWORK_ROWS = ("missing.jpg (404)", "closed port", "text/html page", "redirect loop")


def network_refs(vendors: Vendors, server: ByteServer) -> dict[str, str]:
    return {"missing.jpg (404)": vendors.fixture_url("missing.jpg"),
            "closed port": closed_port_url(), "text/html page": server.url("/html"),
            "redirect loop": server.url("/loop")}


async def table(rows: dict[str, str], send) -> dict[str, str]:
    """{row: answer}; rows run one after another (each advances the shared clock)."""
    return {row: await send(ref) for row, ref in rows.items()}


# --- DashScope: URL syntax at submit, everything else fails the task -------------------------

DASHSCOPE_USER = {
    "face.jpg": "ok", "face.png": "ok", "template.jpg": "ok",
    "face.webp": "FAILED InvalidURL", "face.bmp": "FAILED InvalidURL",
    "face.tiff": "FAILED InvalidURL",
    "face_small.jpg": "FAILED InternalError.Algo", "two_faces.jpg": "FAILED InternalError.Algo",
    "six_faces.jpg": "FAILED InternalError.Algo", "no_face.jpg": "FAILED InternalError.Algo",
    "tiny.jpg": "FAILED InvalidImageResolution", "huge.jpg": "FAILED InvalidImageResolution",
    "claims 5000x5000": "FAILED InvalidImageResolution",
    "big_bytes.png": "FAILED InvalidParameter",
    "corrupt.jpg": "FAILED InvalidURL", "not_image.txt": "FAILED InvalidURL",
    "bomb.png": "FAILED InvalidURL",
    **{row: "FAILED InvalidURL" for row in NETWORK_ROWS},
    "Chinese characters in the URL": "submit 400 InvalidURL",
    "ftp:// URL": "submit 400 InvalidURL",
}
# Template rows that differ from the user photo's rules (faces: at least one; > 512x512).
DASHSCOPE_TEMPLATE = {
    "face.jpg": "ok", "face_small.jpg": "ok", "two_faces.jpg": "ok", "six_faces.jpg": "ok",
    "no_face.jpg": "FAILED InternalError.Algo", "tiny.jpg": "FAILED InvalidImageResolution",
    "huge.jpg": "FAILED InvalidImageResolution", "big_bytes.png": "FAILED InvalidParameter",
    "face.webp": "FAILED InvalidURL", "bomb.png": "FAILED InvalidURL",
}


def dashscope_refs(vendors: Vendors, server: ByteServer) -> dict[str, str]:
    refs = {name: vendors.fixture_url(name) for name in DASHSCOPE_USER if "." in name
            and " " not in name}
    refs.update(network_refs(vendors, server))
    refs["claims 5000x5000"] = server.put("claims-5000", png_claiming(5000, 5000), "image/png")
    refs["Chinese characters in the URL"] = vendors.fixture_url("人像.jpg")
    refs["ftp:// URL"] = "ftp://127.0.0.1/face.jpg"
    return refs


async def test_dashscope_user_photo_rules(vendors: Vendors, byte_server: ByteServer) -> None:
    template = vendors.fixture_url("template.jpg")
    refs = dashscope_refs(vendors, byte_server)
    got = await table(refs, lambda ref: vendors.dashscope(user=ref, template=template))
    assert got == DASHSCOPE_USER


async def test_dashscope_template_rules(vendors: Vendors) -> None:
    user = vendors.fixture_url("face.jpg")
    refs = {name: vendors.fixture_url(name) for name in DASHSCOPE_TEMPLATE}
    got = await table(refs, lambda ref: vendors.dashscope(user=user, template=ref))
    assert got == DASHSCOPE_TEMPLATE


# --- Tencent: URL syntax at submit (schema), everything else fails the job ("4") -------------

T_DOWNLOAD, T_DECODE = "FAILED FailedOperation.DownloadError", \
    "FAILED FailedOperation.ImageDecodeFailed"
T_RESOLUTION = "FAILED FailedOperation.ImageResolutionExceed"
T_INVALID = "FAILED InvalidParameter.InvalidParameter"
TENCENT_USER = {
    **{name: "ok" for name in (
        "face.jpg", "face.png", "face.webp", "face.bmp", "face.tiff", "template.jpg",
        "face_small.jpg", "two_faces.jpg", "six_faces.jpg", "tiny.jpg", "big_bytes.png")},
    "no_face.jpg": T_INVALID, "huge.jpg": T_RESOLUTION, "claims 5000x5000": T_RESOLUTION,
    "corrupt.jpg": T_DECODE, "bomb.png": T_DECODE, "not_image.txt": T_DOWNLOAD,
    **{row: T_DOWNLOAD for row in NETWORK_ROWS},
    "ftp:// URL": "submit InvalidParameterValue.UrlIllegal",
}
TENCENT_TEMPLATE = {
    "face.jpg": "ok", "face.tiff": "ok", "two_faces.jpg": "ok", "big_bytes.png": "ok",
    "six_faces.jpg": T_INVALID, "no_face.jpg": T_INVALID,
    "tiny.jpg": "FAILED InvalidParameterValue.ParameterValueError", "huge.jpg": T_RESOLUTION,
    "corrupt.jpg": T_DECODE, "bomb.png": T_DECODE,
}


async def test_tencent_user_photo_rules(vendors: Vendors, byte_server: ByteServer) -> None:
    template = vendors.fixture_url("template.jpg")
    refs = {name: vendors.fixture_url(name) for name in TENCENT_USER if name.count(".") == 1
            and " " not in name}
    refs.update(network_refs(vendors, byte_server))
    refs["claims 5000x5000"] = byte_server.put("tencent-claims", png_claiming(5000, 5000))
    refs["ftp:// URL"] = "ftp://127.0.0.1/face.jpg"
    got = await table(refs, lambda ref: vendors.tencent(template=template, users=[ref]))
    assert got == TENCENT_USER


async def test_tencent_template_rules(vendors: Vendors) -> None:
    user = vendors.fixture_url("face.jpg")
    refs = {name: vendors.fixture_url(name) for name in TENCENT_TEMPLATE}
    got = await table(refs, lambda ref: vendors.tencent(template=ref, users=[user]))
    assert got == TENCENT_TEMPLATE
    two_users = await vendors.tencent(template=vendors.fixture_url("template.jpg"),
                                      users=[user, user])
    assert two_users == T_INVALID  # a template needs a face per user


# --- AceData: every problem fails the task; only shape and moderation are refused at submit ----

FETCH_FAILED = "failed api_error: fetch failed"
INVALID_IMAGE = "failed api_error: invalid image"
ACEDATA = {
    **{name: "ok" for name in (
        "face.jpg", "face.png", "face.webp", "face.bmp", "template.jpg", "face_small.jpg",
        "two_faces.jpg", "six_faces.jpg", "no_face.jpg", "tiny.jpg", "huge.jpg",
        "big_bytes.png")},
    "face.tiff": INVALID_IMAGE, "corrupt.jpg": INVALID_IMAGE, "bomb.png": INVALID_IMAGE,
    "not_image.txt": FETCH_FAILED,  # served as text/plain: refused before decoding
    **{row: FETCH_FAILED for row in NETWORK_ROWS},
    "10 MiB + 1 byte URL": FETCH_FAILED,
    "base64 face.jpg": "ok", "URL-safe base64 face.jpg": "ok", "data: URI face.png": "ok",
    "base64 corrupt.jpg": INVALID_IMAGE, "base64 bomb.png": INVALID_IMAGE,
    "data: URI not_image.txt": INVALID_IMAGE, "neither URL nor base64": FETCH_FAILED,
    "base64 of 10 MiB + 1 byte": FETCH_FAILED,
    "placeholder host (example.com)": "ok", ".invalid host": FETCH_FAILED,
    "platform path /image/... (seed 000)": "ok", "ftp:// URL": FETCH_FAILED,
    "moderation word in the URL": "submit 403 forbidden",
}


def acedata_refs(vendors: Vendors, server: ByteServer) -> dict[str, str]:
    refs = {name: vendors.fixture_url(name) for name in ACEDATA if name.count(".") == 1
            and " " not in name and not name.startswith(".")}
    refs.update(network_refs(vendors, server))
    oversize = bytes(10 * MiB + 1)
    refs["10 MiB + 1 byte URL"] = server.put("acedata-oversize", oversize, "image/png")
    refs.update({
        "base64 face.jpg": as_base64("face.jpg"),
        "URL-safe base64 face.jpg": as_base64("face.jpg").replace("+", "-").replace("/", "_")
        .rstrip("="),
        "data: URI face.png": as_data_uri("face.png", "image/png"),
        "base64 corrupt.jpg": as_base64("corrupt.jpg"), "base64 bomb.png": as_base64("bomb.png"),
        "data: URI not_image.txt": as_data_uri("not_image.txt", "text/plain"),
        "neither URL nor base64": "my photo.jpg!",
        "base64 of 10 MiB + 1 byte": "A" * (4 * (10 * MiB + 3) // 3),
        "placeholder host (example.com)": "https://cdn.example.com/me.jpg",
        ".invalid host": "https://images.nowhere.invalid/me.jpg",
        "platform path /image/... (seed 000)": SEED_PATH,
        "ftp:// URL": "ftp://127.0.0.1/face.jpg",
        "moderation word in the URL": vendors.fixture_url("face.jpg") + "?tag=NSFW",
    })
    return refs


async def test_acedata_input_rules(vendors: Vendors, byte_server: ByteServer) -> None:
    got = await table(acedata_refs(vendors, byte_server), vendors.acedata)
    assert got == ACEDATA


async def test_acedata_blocking_call_answers_the_failure_at_once(
        vendors: Vendors, byte_server: ByteServer) -> None:
    """No clock advance: a task whose input failed ends as it starts (fast mode)."""
    refs = {"missing.jpg (404)": vendors.fixture_url("missing.jpg"),
            "base64 corrupt.jpg": as_base64("corrupt.jpg")}
    got = await table(refs, lambda ref: vendors.acedata(ref, blocking=True))
    assert got == {"missing.jpg (404)": "blocking 500 api_error: fetch failed",
                   "base64 corrupt.jpg": "blocking 500 api_error: invalid image"}


async def test_acedata_failed_input_in_relax_mode_fails_when_it_would_start(
        vendors: Vendors) -> None:
    headers = {"authorization": "Bearer images"}
    body = {"template": "wedding", "mode": "relax", "async": True,
            "image_urls": [vendors.fixture_url("face.jpg"), vendors.fixture_url("missing.jpg")]}
    task_id = (await vendors.client.post("/headshots/generate", json=body,
                                         headers=headers)).json()["task_id"]
    records = []
    for step in (89, 1):  # relax queues 90 s
        await vendors.advance(step)
        answer = await vendors.client.post("/headshots/tasks", json={"id": task_id},
                                           headers=headers)
        records.append(answer.json())
    assert records[0]["response"]["status"] == "unknown"
    assert records[1]["response"]["error"] == {"code": "api_error", "message": "fetch failed"}
    assert records[1]["finished_at"] == records[1]["started_at"]
    entry = next(e for e in vendors.emulator.journal.entries() if e.operation == "generate")
    assert entry.note["fails"].startswith("download_failed: ")  # why, for the user's debugging


# --- gpt.ge: URL length and upload size at submit; the rest is a negative task state -------

GPTGE_URL = {
    "tiny.jpg": "ok", "no_face.jpg": "state -1", "corrupt.jpg": "state -7",
    "bomb.png": "state -7", "not_image.txt": "state -3", "claims 5000x5000": "state -5",
    "15 MiB + 1 byte URL": "state -5", **{row: "state -3" for row in NETWORK_ROWS},
    "URL of 513 characters": "submit 400",
}
GPTGE_UPLOAD = {
    "no_face.jpg": "state -1", "corrupt.jpg": "state -7", "bomb.png": "state -7",
    "not_image.txt": "state -7", "claims 5000x5000": "state -5", "15 MiB + 1 byte": "submit 413",
}


async def test_gptge_image_url_rules(vendors: Vendors, byte_server: ByteServer) -> None:
    refs = {name: vendors.fixture_url(name) for name in GPTGE_URL if name.count(".") == 1
            and " " not in name}
    refs.update(network_refs(vendors, byte_server))
    refs["claims 5000x5000"] = byte_server.put("gptge-claims", png_claiming(5000, 5000))
    refs["15 MiB + 1 byte URL"] = byte_server.put("gptge-oversize", bytes(15 * MiB + 1))
    long_url = vendors.fixture_url("face.jpg") + "?"
    refs["URL of 513 characters"] = long_url + "x" * (513 - len(long_url))
    got = await table(refs, lambda ref: vendors.gptge(url=ref))
    assert got == GPTGE_URL


async def test_gptge_upload_rules(vendors: Vendors) -> None:
    uploads = {name: fixture_bytes(name) for name in GPTGE_UPLOAD if "." in name}
    uploads["claims 5000x5000"] = png_claiming(5000, 5000)
    uploads["15 MiB + 1 byte"] = bytes(15 * 1024 * 1024 + 1)
    got = await table(uploads, lambda data: vendors.gptge(upload=data))
    assert got == GPTGE_UPLOAD


async def test_every_vendor_answers_in_time_when_many_inputs_fail_at_once(
        vendors: Vendors, byte_server: ByteServer) -> None:
    """Concurrent submits of failing inputs: each vendor still answers its documented code."""
    bad = network_refs(vendors, byte_server)
    template = vendors.fixture_url("template.jpg")
    jobs = [vendors.acedata(ref) for ref in bad.values()]
    jobs += [vendors.gptge(url=ref) for ref in bad.values()]
    jobs += [vendors.dashscope(user=ref, template=template) for ref in bad.values()]
    jobs += [vendors.tencent(template=template, users=[ref]) for ref in bad.values()]
    async with asyncio.timeout(60):
        got = await asyncio.gather(*jobs)
    assert set(got) == {FETCH_FAILED, "state -3", "FAILED InvalidURL", T_DOWNLOAD}
