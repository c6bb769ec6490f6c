"""mockserver.core.images / image_fetch: vendor image rules, face counts, safe fetching.

Fetch tests talk to a real ``http.server`` on 127.0.0.1 (port 0) started by this
module; coroutines are driven with ``asyncio.run`` (no pytest-asyncio).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import io
import socket
import struct
import threading
import time
import urllib.parse
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core import images
from mockserver.core.images import (
    FetchPolicy,
    ImageFetcher,
    ImageRejected,
    ImageRules,
    Inspection,
    Problem,
    check_ref,
    detect_faces,
    inspect,
    load_and_inspect,
)
from mockserver.providers.acedata.inputs import INPUT_RULES as ACEDATA_INPUT
from mockserver.providers.dashscope.inputs import TEMPLATE_RULES as DASHSCOPE_TEMPLATE
from mockserver.providers.dashscope.inputs import USER_RULES as DASHSCOPE_USER
from mockserver.providers.gptge.models import IDPHOTO_RULES as GPTGE_IDPHOTO
from mockserver.providers.tencent.inputs import TEMPLATE_RULES as TENCENT_TEMPLATE
from mockserver.providers.tencent.inputs import USER_RULES as TENCENT_USER

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
RULESETS = {
    "DASHSCOPE_USER": DASHSCOPE_USER,
    "DASHSCOPE_TEMPLATE": DASHSCOPE_TEMPLATE,
    "TENCENT_TEMPLATE": TENCENT_TEMPLATE,
    "TENCENT_USER": TENCENT_USER,
    "GPTGE_IDPHOTO": GPTGE_IDPHOTO,
    "ACEDATA_INPUT": ACEDATA_INPUT,
}
OK = "ok"
DF, UF = "DECODE_FAILED", "UNSUPPORTED_FORMAT"


def _fixture_script() -> Any:
    """The fixture generator holds the expected verdicts (also in fixtures/images/README.md)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "make_fixture_images.py"
    spec = importlib.util.spec_from_file_location("make_fixture_images", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# faces (None: undecodable) and verdict per ruleset in RULESETS order.
EXPECTED: dict[str, tuple[int | None, tuple[str, ...]]] = _fixture_script().EXPECTED
ANY = ImageRules(formats=frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"}), max_bytes=1 << 26)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def problem_of(data: bytes, rules: ImageRules, **kw: Any) -> str:
    try:
        inspect(data, rules, **kw)
    except ImageRejected as exc:
        return exc.problem.name
    return OK


def encoded(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims width x height but holds almost no pixel data."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- fixtures x rules


_FACES_MEMO: dict[tuple[Any, ...], list[Any]] = {}


@pytest.fixture
def memo_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the (deterministic, ~0.2 s) detector once per distinct picture.

    The verdict matrix inspects each fixture under seven rulesets; decoding and
    every rule still run each time, only the identical detection is reused.
    """
    real = images._find_faces

    def cached(img: Image.Image, orientation: int, size: tuple[int, int]) -> list[Any]:
        key = (hashlib.sha1(img.tobytes()).digest(), img.mode, img.size, orientation, size)
        if key not in _FACES_MEMO:
            _FACES_MEMO[key] = real(img, orientation, size)
        return list(_FACES_MEMO[key])

    monkeypatch.setattr(images, "_find_faces", cached)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_verdicts_per_vendor(name: str, memo_faces: None) -> None:
    data = fixture(name)
    faces, verdicts = EXPECTED[name]
    got = {rs: problem_of(data, rules) for rs, rules in RULESETS.items()}
    assert got == dict(zip(RULESETS, verdicts, strict=True))
    if faces is None:
        assert problem_of(data, ANY) == DF
    else:
        assert len(inspect(data, ANY).faces) == faces


def test_face_sizes_and_inspection_fields() -> None:
    ins = inspect(fixture("face.jpg"), DASHSCOPE_USER)
    assert (ins.format, ins.width, ins.height, ins.nbytes) == ("JPEG", 800, 800, len(fixture("face.jpg")))
    assert len(ins.faces) == 1 and min(ins.faces[0].width, ins.faces[0].height) >= 160
    face = ins.faces[0]  # the face is in the upper middle of the crop
    assert 150 < face.x + face.width / 2 < 650 and face.y + face.height / 2 < 500
    small = inspect(fixture("face_small.jpg"), ANY).faces
    assert len(small) == 1 and small[0].width < 128
    six = inspect(fixture("six_faces.jpg"), ANY).faces
    areas = [b.width * b.height for b in six]
    assert areas == sorted(areas, reverse=True)  # largest first
    assert {(b.x // 400, b.y // 400) for b in six} == {(c, r) for c in range(3) for r in range(2)}
    assert inspect(fixture("face.jpg"), ANY, detect_faces=False).faces == ()


def test_detect_faces_public_helper_and_scale_independence() -> None:
    img = Image.open(FIXTURES / "template.jpg")
    boxes = detect_faces(img)
    assert len(boxes) == 1
    half = detect_faces(img.resize((450, 600)))
    assert len(half) == 1 and abs(half[0].width * 2 - boxes[0].width) < 40


def test_inspect_is_thread_safe() -> None:
    data = fixture("tiny.jpg")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: inspect(data, ANY).faces, range(12)))
    assert all(r == results[0] and len(r) == 1 for r in results)


# --------------------------------------------------------------------------- individual rules


def test_byte_cap_is_inclusive() -> None:
    data = fixture("tiny.jpg")
    rules = replace(ANY, max_bytes=len(data))
    assert isinstance(inspect(data, rules, detect_faces=False), Inspection)
    assert problem_of(data, replace(rules, max_bytes=len(data) - 1)) == "TOO_MANY_BYTES"


def test_tencent_byte_cap_is_ten_mb_of_base64() -> None:
    cap = TENCENT_TEMPLATE.max_bytes
    assert len(base64.b64encode(b"\0" * cap)) < 10 * 1024 * 1024
    assert len(base64.b64encode(b"\0" * (cap + 1))) >= 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("rules", "size", "verdict"),
    [
        (DASHSCOPE_USER, (256, 300), "TOO_SMALL"),
        (DASHSCOPE_USER, (300, 256), "TOO_SMALL"),
        (DASHSCOPE_USER, (257, 257), OK),
        (DASHSCOPE_USER, (2047, 300), OK),
        (DASHSCOPE_USER, (2048, 300), "TOO_LARGE"),
        (DASHSCOPE_USER, (300, 2048), "TOO_LARGE"),
        (DASHSCOPE_TEMPLATE, (512, 600), "TOO_SMALL"),
        (DASHSCOPE_TEMPLATE, (513, 513), OK),
        (DASHSCOPE_TEMPLATE, (1679, 1259), OK),
        (DASHSCOPE_TEMPLATE, (1680, 600), "TOO_LARGE"),
        (DASHSCOPE_TEMPLATE, (600, 1260), "TOO_LARGE"),
        (TENCENT_TEMPLATE, (300, 400), "TOO_SMALL"),
        (TENCENT_TEMPLATE, (301, 301), OK),
        (TENCENT_TEMPLATE, (2000, 2000), OK),
        (TENCENT_TEMPLATE, (2001, 400), "TOO_LARGE"),
        (TENCENT_USER, (1, 1), OK),
        (TENCENT_USER, (400, 2001), "TOO_LARGE"),
        (GPTGE_IDPHOTO, (4096, 64), OK),
        (GPTGE_IDPHOTO, (4097, 64), "TOO_LARGE"),
    ],
)
def test_resolution_bounds(rules: ImageRules, size: tuple[int, int], verdict: str) -> None:
    data = encoded(Image.new("L", size, 128), "PNG")
    rules = replace(rules, formats=rules.formats | {"PNG"})
    assert problem_of(data, rules, detect_faces=False) == verdict


def test_format_is_sniffed_from_content() -> None:
    jpeg = fixture("tiny.jpg")
    with pytest.raises(ImageRejected) as err:
        inspect(jpeg, replace(ANY, formats=frozenset({"PNG"})))
    assert err.value.problem is Problem.UNSUPPORTED_FORMAT and "JPEG" in err.value.detail
    gif = encoded(Image.open(FIXTURES / "tiny.jpg").convert("P"), "GIF")
    assert problem_of(gif, DASHSCOPE_USER) == UF
    assert problem_of(gif, TENCENT_TEMPLATE) == UF
    assert problem_of(gif, ACEDATA_INPUT) == OK
    # Formats Pillow could parse but that nobody accepts are not "images" here.
    tga = encoded(Image.new("RGB", (64, 64)), "TGA")
    assert problem_of(tga, ANY) == DF


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n",
        fixture("face.png")[:5000],
        fixture("face.webp")[:3000],
        fixture("face.bmp")[:5000],
        fixture("face.tiff")[:2000],
        b"\xff\xd8\xff" + b"\0" * 100,
        b"GIF89a" + b"\xff" * 20,
    ],
    ids=["empty", "png-magic", "png-trunc", "webp-trunc", "bmp-trunc", "tiff-trunc", "jpeg-junk",
         "gif-junk"],
)
def test_corrupt_inputs_are_decode_failed(data: bytes) -> None:
    assert problem_of(data, ANY) == DF


def test_bomb_guard_uses_the_header_only() -> None:
    # 7000x7000 = 49 MP: refused as a bomb before any decoding.
    assert problem_of(png_claiming(7000, 7000), ACEDATA_INPUT) == DF
    # Above the vendor maximum but not a bomb: TOO_LARGE from the header alone
    # (the pixel data is missing, so a decode would have failed).
    assert problem_of(png_claiming(5000, 5000), DASHSCOPE_USER) == "TOO_LARGE"
    assert problem_of(png_claiming(6000, 6000), GPTGE_IDPHOTO) == "TOO_LARGE"
    # Within bounds: decoded, found truncated.
    assert problem_of(png_claiming(1000, 1000), DASHSCOPE_USER) == DF


def test_exif_orientation_gives_displayed_size_and_upright_faces() -> None:
    upright = Image.open(FIXTURES / "face.jpg")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone sensor wrote
    stored = stored.resize((800, 600))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encoded(stored, "JPEG", exif=exif.tobytes(), quality=90)
    ins = inspect(data, ANY)
    assert (ins.width, ins.height) == (600, 800)
    assert len(ins.faces) == 1
    no_exif = encoded(stored, "JPEG", quality=90)
    assert inspect(no_exif, ANY).faces == ()  # sideways face: the cascade is frontal only


@pytest.mark.parametrize(
    ("name", "rules", "verdict"),
    [
        ("two_faces.jpg", replace(ANY, faces_min=3), "TOO_FEW_FACES"),
        ("two_faces.jpg", replace(ANY, faces_exactly=3), "TOO_FEW_FACES"),
        ("six_faces.jpg", replace(ANY, faces_exactly=2), "TOO_MANY_FACES"),
        ("two_faces.jpg", replace(ANY, faces_exactly=1), "MULTIPLE_FACES"),
        ("two_faces.jpg", replace(ANY, faces_max=1), "TOO_MANY_FACES"),
        ("two_faces.jpg", replace(ANY, faces_exactly=2, min_face_px=100), OK),
        ("two_faces.jpg", replace(ANY, faces_exactly=2, min_face_px=130), "FACE_TOO_SMALL"),
        ("no_face.jpg", replace(ANY, faces_exactly=1), "NO_FACE"),
        ("no_face.jpg", replace(ANY, faces_min=2), "NO_FACE"),
        ("no_face.jpg", replace(ANY, faces_max=5), OK),
        ("face.jpg", replace(ANY, faces_exactly=1, min_face_px=128), OK),
    ],
)
def test_face_rules(name: str, rules: ImageRules, verdict: str) -> None:
    assert problem_of(fixture(name), rules) == verdict


def test_face_rules_are_skipped_without_detection() -> None:
    assert problem_of(fixture("no_face.jpg"), DASHSCOPE_USER, detect_faces=False) == OK


def test_rejection_carries_problem_and_detail() -> None:
    with pytest.raises(ImageRejected) as err:
        inspect(fixture("tiny.jpg"), DASHSCOPE_USER)
    assert err.value.problem is Problem.TOO_SMALL
    assert "200x200" in err.value.detail and "256" in err.value.detail
    assert str(err.value).startswith("too_small:")


# --------------------------------------------------------------------------- URL checks


def test_check_ref_url_rules() -> None:
    check_ref("http://127.0.0.1/a.jpg", forbid_cjk=True)
    check_ref("http://127.0.0.1/%E5%9B%BE.jpg", forbid_cjk=True)  # percent-encoded is fine
    check_ref("aGVsbG8=", forbid_cjk=True, max_url_chars=3)  # base64 has no URL rules
    cases = [
        dict(ref="http://127.0.0.1/图片.jpg", forbid_cjk=True),
        dict(ref="http://127.0.0.1/a，b.jpg", forbid_cjk=True),  # full-width comma
        dict(ref="http://127.0.0.1/" + "a" * 600, max_url_chars=512),
        dict(ref="ftp://127.0.0.1/a.jpg"),
        dict(ref="file:///etc/passwd"),
        dict(ref="http:///nohost"),
        dict(ref="http://evil.example/a.jpg", policy=FetchPolicy(deny_hosts=("*.example",))),
        dict(ref="http://cdn.other/a.jpg", policy=FetchPolicy(allow_hosts=("*.oss.test",))),
        dict(ref="http://localhost/a.jpg", policy=FetchPolicy(allow_loopback=False)),
    ]
    for case in cases:
        with pytest.raises(ImageRejected) as err:
            check_ref(**case)  # type: ignore[arg-type]
        assert err.value.problem is Problem.URL_FORBIDDEN, case
    policy = FetchPolicy(allow_hosts=("*.oss.test",))
    check_ref("http://bucket.oss.test/a.jpg", policy=policy)
    check_ref("http://127.0.0.1:9/a.jpg", policy=policy)  # loopback stays allowed
    check_ref("http://[::1]/a.jpg", policy=policy)


# --------------------------------------------------------------------------- local HTTP server


class Server:
    """Tiny threaded HTTP server on 127.0.0.1 that counts hits per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.streamed = 0
        self.stream_done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def send(self, status: int, body: bytes, ctype: str | None = "image/jpeg",
                     headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: C901 - a routing table
                path = urllib.parse.urlsplit(self.path).path
                outer.hits[path] += 1
                parts = path.strip("/").split("/")
                try:
                    if parts[0] == "img":
                        name = parts[1]
                        ctype = {"png": "image/png", "jpg": "image/jpeg"}.get(name[-3:])
                        self.send(200, fixture(name), ctype)
                    elif parts[0] == "redirect":
                        n = int(parts[1])
                        target = f"/redirect/{n - 1}" if n > 0 else "/img/tiny.jpg"
                        self.send(302, b"", None, {"Location": target})
                    elif parts[0] == "absredirect":  # to a denied host
                        self.send(302, b"", None, {"Location": "http://denied.test/x.jpg"})
                    elif parts[0] == "slow":
                        time.sleep(3)
                        self.send(200, fixture("tiny.jpg"))
                    elif parts[0] == "drip":
                        self.send_response(200)
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        for _ in range(100):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.05)
                    elif parts[0] == "html":
                        self.send(200, b"<html>nope</html>", "text/html; charset=utf-8")
                    elif parts[0] == "octet":
                        self.send(200, fixture("tiny.jpg"), "application/octet-stream")
                    elif parts[0] == "notype":
                        self.send(200, fixture("tiny.jpg"), None)
                    elif parts[0] == "declared":
                        self.send_response(200)
                        self.send_header("Content-Type", "image/png")
                        self.send_header("Content-Length", str(50 * 1024 * 1024))
                        self.end_headers()
                    elif parts[0] == "stream":  # no length, 64 MB unless the client hangs up
                        self.send_response(200)
                        self.send_header("Content-Type", "image/png")
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.close_connection = True
                        chunk = b"\0" * 65536
                        try:
                            for _ in range(1024):
                                self.wfile.write(chunk)
                                outer.streamed += len(chunk)
                        finally:
                            outer.stream_done.set()
                    else:
                        self.send(404, b"not found", "text/plain")
                except OSError:  # the client hung up, as it should
                    self.close_connection = True

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def fetch(ref: str, max_bytes: int = 1 << 22, **kw: Any) -> bytes:
    async def go() -> bytes:
        fetcher = ImageFetcher(**kw)
        try:
            return await fetcher.fetch(ref, max_bytes)
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def fetch_problem(ref: str, max_bytes: int = 1 << 22, **kw: Any) -> ImageRejected:
    with pytest.raises(ImageRejected) as err:
        fetch(ref, max_bytes, **kw)
    return err.value


def test_fetch_ok_and_content_types(server: Server) -> None:
    assert fetch(f"{server.base}/img/face.jpg") == fixture("face.jpg")
    assert fetch(f"{server.base}/octet") == fixture("tiny.jpg")
    assert fetch(f"{server.base}/notype") == fixture("tiny.jpg")
    err = fetch_problem(f"{server.base}/html")
    assert err.problem is Problem.DOWNLOAD_FAILED and "text/html" in err.detail


def test_fetch_404_and_unreachable(server: Server) -> None:
    err = fetch_problem(f"{server.base}/missing.jpg")
    assert err.problem is Problem.DOWNLOAD_FAILED and "404" in err.detail
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = fetch_problem(f"http://127.0.0.1:{port}/x.jpg")
    assert err.problem is Problem.DOWNLOAD_FAILED and "ConnectError" in err.detail


def test_fetch_timeouts(server: Server) -> None:
    started = time.monotonic()
    err = fetch_problem(f"{server.base}/slow", policy=FetchPolicy(read_timeout=0.3))
    assert err.problem is Problem.DOWNLOAD_FAILED and "timed out" in err.detail
    # A server dripping bytes within the read timeout is cut by the total bound.
    err = fetch_problem(f"{server.base}/drip", policy=FetchPolicy(total_timeout=0.4))
    assert err.problem is Problem.DOWNLOAD_FAILED and "timed out" in err.detail
    assert time.monotonic() - started < 2.5


def test_fetch_redirects(server: Server) -> None:
    assert fetch(f"{server.base}/redirect/4") == fixture("tiny.jpg")  # 5 redirects

    async def too_many() -> tuple[ImageRejected, int]:
        fetcher = ImageFetcher(FetchPolicy(max_redirects=3))
        try:
            await fetcher.fetch(f"{server.base}/redirect/3", 1 << 20)  # 4 redirects
        except ImageRejected as exc:
            return exc, fetcher.requests_sent
        finally:
            await fetcher.aclose()
        raise AssertionError("redirect chain over the bound was followed")

    err, sent = asyncio.run(too_many())
    assert err.problem is Problem.DOWNLOAD_FAILED and "redirects" in err.detail and sent == 4
    policy = FetchPolicy(deny_hosts=("denied.test",))
    assert fetch_problem(f"{server.base}/absredirect", policy=policy).problem is (
        Problem.URL_FORBIDDEN)


def test_fetch_stops_reading_oversize_bodies(server: Server) -> None:
    started = time.monotonic()
    err = fetch_problem(f"{server.base}/stream", max_bytes=256 * 1024)
    assert err.problem is Problem.TOO_MANY_BYTES
    assert server.stream_done.wait(5), "server still streaming after the client gave up"
    assert server.streamed < 24 * 1024 * 1024  # far from the 64 MB on offer
    err = fetch_problem(f"{server.base}/declared", max_bytes=1024 * 1024)
    assert err.problem is Problem.TOO_MANY_BYTES and "Content-Length" in err.detail
    err = fetch_problem(f"{server.base}/img/big_bytes.png", max_bytes=DASHSCOPE_USER.max_bytes)
    assert err.problem is Problem.TOO_MANY_BYTES
    assert time.monotonic() - started < 5


def test_inline_payloads() -> None:
    data = fixture("tiny.jpg")
    b64 = base64.b64encode(data).decode()
    assert fetch(b64) == data
    assert fetch("\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))) == data
    assert fetch(base64.urlsafe_b64encode(data).decode().rstrip("=")) == data
    assert fetch(f"data:image/jpeg;base64,{b64}") == data
    assert fetch("data:application/octet-stream," + urllib.parse.quote(data)) == data
    assert fetch_problem(b64, max_bytes=len(data) - 1).problem is Problem.TOO_MANY_BYTES
    assert fetch_problem(f"data:image/jpeg;base64,{b64}", max_bytes=100).problem is (
        Problem.TOO_MANY_BYTES)
    for junk in ("not base64 at all!", "", "data:image/png;base64", "/image/abc def?"):
        assert fetch_problem(junk).problem is Problem.DOWNLOAD_FAILED, junk
    assert fetch_problem("ftp://127.0.0.1/x.jpg").problem is Problem.URL_FORBIDDEN


def test_cache_and_shared_downloads(server: Server) -> None:
    url = f"{server.base}/img/template.jpg"  # fetched by no other test

    async def go() -> None:
        fetcher = ImageFetcher()
        try:
            results = await asyncio.gather(*(fetcher.fetch(url, 1 << 22) for _ in range(8)))
            assert all(r == fixture("template.jpg") for r in results)
            assert server.hits["/img/template.jpg"] == 1  # one download for the burst
            await fetcher.fetch(url, 1 << 22)
            assert server.hits["/img/template.jpg"] == 1  # cache hit
            with pytest.raises(ImageRejected) as err:  # a smaller cap still applies
                await fetcher.fetch(url, 1000)
            assert err.value.problem is Problem.TOO_MANY_BYTES
            fetcher.clear_cache()
            await fetcher.fetch(url, 1 << 22)
            assert server.hits["/img/template.jpg"] == 2
        finally:
            await fetcher.aclose()
        nocache = ImageFetcher(cache_entries=0)
        try:
            await nocache.fetch(url, 1 << 22)
            await nocache.fetch(url, 1 << 22)
            assert server.hits["/img/template.jpg"] == 4
        finally:
            await nocache.aclose()
        lru = ImageFetcher(cache_entries=2)
        try:
            before = server.hits["/img/tiny.jpg"]
            for name in ("tiny.jpg", "face_small.jpg", "two_faces.jpg", "tiny.jpg"):
                await lru.fetch(f"{server.base}/img/{name}", 1 << 22)
            assert server.hits["/img/tiny.jpg"] - before == 2  # evicted by the third URL
        finally:
            await lru.aclose()

    asyncio.run(go())


def test_fetcher_is_reusable_after_aclose_on_a_new_event_loop(server: Server) -> None:
    fetcher = ImageFetcher()
    url = f"{server.base}/img/face_small.jpg"
    hits = server.hits["/img/face_small.jpg"]

    async def once() -> bytes:
        try:
            return await fetcher.fetch(url, 1 << 20)
        finally:
            await fetcher.aclose()

    assert asyncio.run(once()) == fixture("face_small.jpg")
    fetcher.clear_cache()
    assert asyncio.run(once()) == fixture("face_small.jpg")  # new loop, new client
    assert asyncio.run(once()) == fixture("face_small.jpg")  # cache survives aclose
    assert server.hits["/img/face_small.jpg"] - hits == 2


def test_transport_hook_and_shared_client(server: Server) -> None:
    body = fixture("tiny.jpg")

    async def image(request: Any) -> Response:
        return Response(body, media_type="image/jpeg")

    transport = httpx.ASGITransport(app=Starlette(routes=[Route("/x.jpg", image)]))

    def hook(url: str) -> httpx.AsyncBaseTransport | None:
        return transport if url.startswith("http://mock.invalid/") else None

    async def go() -> None:
        async with httpx.AsyncClient(trust_env=False) as shared:
            fetcher = ImageFetcher(transport_for=hook, client=shared)
            try:
                assert await fetcher.fetch("http://mock.invalid/x.jpg", 1 << 20) == body
                got = await fetcher.fetch(f"{server.base}/img/tiny.jpg", 1 << 20)
                assert got == body
            finally:
                await fetcher.aclose()
            assert not shared.is_closed  # not ours to close
            again = ImageFetcher(transport_for=hook)
            try:  # the hook's transport survived the first fetcher's aclose()
                assert await again.fetch("http://mock.invalid/x.jpg", 1 << 20) == body
            finally:
                await again.aclose()
        denied = ImageFetcher(FetchPolicy(deny_hosts=("*.invalid",)), transport_for=hook)
        try:
            with pytest.raises(ImageRejected) as err:
                await denied.fetch("http://mock.invalid/x.jpg", 1 << 20)
            assert err.value.problem is Problem.URL_FORBIDDEN
        finally:
            await denied.aclose()

    asyncio.run(go())


def test_load_and_inspect_end_to_end(server: Server) -> None:
    async def go() -> dict[str, str]:
        fetcher = ImageFetcher()
        out: dict[str, str] = {}
        try:
            data, ins = await load_and_inspect(fetcher, f"{server.base}/img/face.jpg", DASHSCOPE_USER)
            assert data == fixture("face.jpg") and len(ins.faces) == 1
            for key, ref, rules in [
                ("two", f"{server.base}/img/two_faces.jpg", DASHSCOPE_USER),
                ("cjk", f"{server.base}/img/脸.jpg", DASHSCOPE_USER),
                ("long", f"{server.base}/img/face.jpg?" + "x" * 600, GPTGE_IDPHOTO),
                ("bytes", f"{server.base}/img/big_bytes.png", DASHSCOPE_TEMPLATE),
                ("b64", base64.b64encode(fixture("tiny.jpg")).decode(), TENCENT_USER),
            ]:
                try:
                    await load_and_inspect(fetcher, ref, rules)
                    out[key] = OK
                except ImageRejected as exc:
                    out[key] = exc.problem.name
        finally:
            await fetcher.aclose()
        return out

    before = server.hits["/img/脸.jpg"] + server.hits[urllib.parse.quote("/img/脸.jpg")]
    assert asyncio.run(go()) == {"two": "MULTIPLE_FACES", "cjk": "URL_FORBIDDEN",
                                 "long": "URL_FORBIDDEN", "bytes": "TOO_MANY_BYTES", "b64": OK}
    assert server.hits["/img/脸.jpg"] + server.hits[urllib.parse.quote("/img/脸.jpg")] == before


# --------------------------------------------------------------------------- robustness


def _seeds() -> list[bytes]:
    small = Image.open(FIXTURES / "tiny.jpg").resize((96, 96))
    return [
        fixture("tiny.jpg"),
        fixture("bomb.png"),
        fixture("corrupt.jpg")[:4000],
        encoded(small, "PNG"),
        encoded(small, "WEBP", quality=80),
        encoded(small, "BMP"),
        encoded(small, "TIFF", compression="tiff_lzw"),
        encoded(small.convert("P"), "GIF"),
        encoded(small.convert("RGBA"), "PNG"),
        encoded(small.convert("L"), "JPEG", progressive=True),
    ]


SEEDS = _seeds()


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "magic", "truncate", "flip", "header", "splice"]))
    if kind == "random":
        return draw(st.binary(max_size=2048))
    if kind == "magic":
        magic = draw(st.sampled_from([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBPVP8 ",
                                      b"BM", b"II*\0", b"MM\0*", b"GIF89a"]))
        return magic + draw(st.binary(max_size=1024))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 16))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "header":  # rewrite bytes where sizes, offsets and lengths live
        start = draw(st.integers(0, min(64, len(data) - 1)))
        patch = draw(st.binary(min_size=1, max_size=8))
        data[start:start + len(patch)] = patch
        return bytes(data)
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=64)) + bytes(data[cut:])


@settings(max_examples=200, deadline=3000, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=hostile_bytes())
def test_inspect_never_raises_anything_else(data: bytes) -> None:
    rules = replace(ANY, formats=ANY.formats | {"JPEG2000", "ICO"}, faces_min=1)
    try:
        result = inspect(data, rules)
    except ImageRejected as exc:
        assert isinstance(exc.problem, Problem)
    else:
        assert isinstance(result, Inspection) and result.width * result.height <= images.MAX_PIXELS
