"""Cross-vendor image tests: an in-process mock (rate limits off, every answer schema-checked),
a tiny real HTTP server that serves whatever bytes a test sets, and one client per vendor that
reduces the vendor's answer for one input image to a short comparable word, checking on the way
that every code it meets is in the vendor's catalogue."""
from __future__ import annotations

import asyncio
import base64
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from mockserver.app import create_app
from mockserver.core.schemas import SchemaRegistry
from mockserver.emulator import Emulator
from mockserver.providers.gptge.models import FAILURE_STATES
from mockserver.providers.tencent.signing import sign_request
from mockserver.settings import Settings
from mockserver.testing import AppThread, fixture_url

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
SCHEMAS = SchemaRegistry()  # compiled once for every emulator in this folder
# A bound for one whole vendor round trip (submit, check, query) on a loaded machine: an
# answer that takes longer counts as a hang.
DEADLINE = 30.0
HTTP_TIMEOUT = 30.0
SLOW_SECONDS = 2.0  # how long the byte server's /slow route keeps a client waiting


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def as_base64(name: str) -> str:
    return base64.b64encode(fixture_bytes(name)).decode("ascii")


def as_data_uri(name: str, media: str) -> str:
    return f"data:{media};base64,{as_base64(name)}"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (8-bit grey) with one row of data: the
    pipeline must judge it from the header alone, never by decoding the pixels."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + min(width, 1 << 16)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# --- a real HTTP server for the error paths the mock's own fixtures cannot produce ---------------


class ByteServer:
    """Serves `/blob/<key>` (bytes and content type a test sets), `/html` (a web page),
    `/loop` (a redirect to itself) and `/slow` (answers after SLOW_SECONDS); counts GETs."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        app = Starlette(routes=[
            Route("/blob/{key}", self._blob), Route("/html", self._html),
            Route("/loop", self._loop), Route("/slow", self._slow),
        ])
        self._peer = AppThread(app, lifespan="off")
        self.base = self._peer.base_url

    def put(self, key: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve `data` at the returned URL."""
        self.blobs[key] = (data, content_type)
        return f"{self.base}/blob/{key}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def _blob(self, request: Request) -> Response:
        key = request.path_params["key"]
        self.hits[key] = self.hits.get(key, 0) + 1
        if key not in self.blobs:
            return Response("no such blob", status_code=404, media_type="text/plain")
        data, content_type = self.blobs[key]
        return Response(data, media_type=content_type)

    async def _html(self, request: Request) -> Response:
        return HTMLResponse("<!doctype html><title>a web page</title><p>not an image</p>")

    async def _loop(self, request: Request) -> Response:
        return RedirectResponse("/loop", status_code=302)

    async def _slow(self, request: Request) -> Response:
        await asyncio.sleep(SLOW_SECONDS)
        return Response(fixture_bytes("face.jpg"), media_type="image/jpeg")

    def __enter__(self) -> ByteServer:
        self._peer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._peer.stop()


@pytest.fixture(scope="session")
def byte_server() -> Iterator[ByteServer]:
    with ByteServer() as running:
        yield running


def closed_port_url() -> str:
    """A loopback URL nobody listens on (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/face.jpg"


# --- the vendors, each reduced to one word per input ------------------------------------------


class Vendors:
    """One in-process mock and the calls that send one image reference to each vendor.

    Answers: `ok`; `submit <status> <code>` for a refused submit (gpt.ge has no code in its
    body: `submit <status>`; Tencent answers HTTP 200: `submit <code>`); `FAILED <code>`
    (DashScope, Tencent), `failed <code>: <message>` (AceData) or `state <n>` (gpt.ge) for a
    task that failed.
    """

    def __init__(self, emulator: Emulator, client: httpx.AsyncClient) -> None:
        self.emulator = emulator
        self.client = client
        self.base_url = emulator.settings.base_url

    def fixture_url(self, name: str) -> str:
        return fixture_url(self.base_url, name)

    async def advance(self, seconds: float) -> None:
        answer = await self.client.post("/__admin/clock/advance", json={"seconds": seconds})
        answer.raise_for_status()

    def _catalogued(self, vendor: str, code: str, status: int | None = None) -> None:
        entries = self.emulator.providers[vendor].catalogue.entries
        assert code in entries, f"{vendor} answered {code!r}, which its catalogue lacks"
        if status is not None:
            assert entries[code].status == status, (vendor, code, status)

    async def dashscope(self, *, user: str, template: str) -> str:
        headers = {"Authorization": "Bearer sk-images", "X-DashScope-Async": "enable"}
        body = {"model": "facechain-generation",
                "parameters": {"style": "train_free_portrait_url_template", "n": 1},
                "input": {"template_url": template, "user_urls": [user]}}
        answer = await self.client.post("/api/v1/services/aigc/album/gen_potrait", json=body,
                                        headers=headers, timeout=HTTP_TIMEOUT)
        if answer.status_code != 200:
            code = answer.json()["code"]
            self._catalogued("dashscope", code, answer.status_code)
            return f"submit {answer.status_code} {code}"
        task_id = answer.json()["output"]["task_id"]
        await self.advance(60)
        query = await self.client.get(f"/api/v1/tasks/{task_id}", headers=headers,
                                      timeout=HTTP_TIMEOUT)
        assert query.status_code == 200, query.text
        output = query.json()["output"]
        if output["task_status"] == "SUCCEEDED":
            return "ok"
        assert output["task_status"] == "FAILED", output
        self._catalogued("dashscope", output["code"])
        return f"FAILED {output['code']}"

    async def _tencent(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        secret_id, secret_key = next(iter(self.emulator.providers["tencent"].credentials.items()))
        headers, body = sign_request(
            secret_id=secret_id, secret_key=secret_key, host=httpx.URL(self.base_url).netloc
            .decode(), action=action, timestamp=int(self.emulator.clock.now()), params=params)
        answer = await self.client.post("/", content=body, headers=headers, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text  # API 3.0 errors are HTTP 200 too
        response: dict[str, Any] = answer.json()["Response"]
        if "Error" in response:
            self._catalogued("tencent", response["Error"]["Code"])
        return response

    async def tencent(self, *, template: str, users: list[str]) -> str:
        params = {"TemplateUrl": template, "Num": 1,
                  "FaceInfos": [{"ImageUrls": [url]} for url in users]}
        submitted = await self._tencent("SubmitGlamPicJob", params)
        if "Error" in submitted:
            return f"submit {submitted['Error']['Code']}"
        await self.advance(60)
        job = await self._tencent("QueryGlamPicJob", {"JobId": submitted["JobId"]})
        assert "Error" not in job, job
        if job["JobStatusCode"] == "5":
            return "ok"
        assert job["JobStatusCode"] == "4", job
        self._catalogued("tencent", job["JobErrorCode"])
        return f"FAILED {job['JobErrorCode']}"

    async def acedata(self, ref: str, *, blocking: bool = False) -> str:
        headers = {"authorization": "Bearer images"}
        body: dict[str, Any] = {"template": "male_portrait", "image_urls": [ref]}
        if not blocking:
            body["async"] = True
        answer = await self.client.post("/headshots/generate", json=body, headers=headers,
                                        timeout=HTTP_TIMEOUT)
        if blocking:  # a failing input ends the task at once: no clock advance needed
            if answer.status_code == 200:
                return "ok"
            error = answer.json()["error"]
            self._catalogued("acedata", error["code"], answer.status_code)
            return f"blocking {answer.status_code} {error['code']}: {error['message']}"
        if answer.status_code != 200:
            code = answer.json()["error"]["code"]
            self._catalogued("acedata", code, answer.status_code)
            return f"submit {answer.status_code} {code}"
        task_id = answer.json()["task_id"]
        await self.advance(60)
        record = await self.client.post("/headshots/tasks", json={"id": task_id}, headers=headers,
                                        timeout=HTTP_TIMEOUT)
        assert record.status_code == 200, record.text
        response = record.json()["response"]
        if response.get("success") is True:
            return "ok"
        assert response["success"] is False, response
        self._catalogued("acedata", response["error"]["code"])
        return f"failed {response['error']['code']}: {response['error']['message']}"

    async def gptge(self, url: str | None = None, upload: bytes | None = None) -> str:
        headers = {"Authorization": "Bearer sk-images"}
        # A small photo keeps the render (only reached with a face) cheap.
        form = {"size": "100x120"} if url is None else {"size": "100x120", "image_url": url}
        files = None if upload is None else {"image_file": ("in.bin", upload,
                                                            "application/octet-stream")}
        answer = await self.client.post("/task/pic/idphoto", data=form, files=files,
                                        headers=headers, timeout=HTTP_TIMEOUT)
        if answer.status_code != 200:
            assert answer.json()["status"] == answer.status_code, answer.text
            catalogue = self.emulator.providers["gptge"].catalogue
            assert answer.status_code in {e.status for e in catalogue.entries.values()}, answer.text
            return f"submit {answer.status_code}"
        task_id = answer.json()["data"]["task_id"]
        await self.advance(5)
        query = await self.client.get(f"/task/{task_id}", headers=headers, timeout=HTTP_TIMEOUT)
        assert query.status_code == 200, query.text
        state = query.json()["data"]["state"]
        if state == 1:
            return "ok"
        assert state in FAILURE_STATES, query.json()
        return f"state {state}"


def image_settings(**changes: Any) -> Settings:
    """Limits off: these tests send many images quickly, and 429s are not what they test."""
    return replace(Settings(validate_responses=True, limits_enabled=False), **changes)


def new_emulator(settings: Settings) -> tuple[Any, Emulator]:
    app = create_app(emulator=Emulator(replace(settings, host="127.0.0.1", port=8000), SCHEMAS))
    return app, app.state.emulator


@pytest.fixture
def settings() -> Settings:
    return image_settings()


@pytest.fixture
async def vendors(settings: Settings) -> AsyncIterator[Vendors]:
    """In-process only: fetching and judging images is the same code in both modes, and the
    real-server path is covered by `test_pipeline.py::test_both_modes`."""
    app, emulator = new_emulator(settings)
    await emulator.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=emulator.settings.base_url) as client:
            yield Vendors(emulator, client)
    finally:
        await emulator.stop()
    assert emulator.schema_violations == [], emulator.schema_violations


class LoopedVendors:
    """`Vendors` on an event loop of its own, for synchronous (Hypothesis) tests: each
    `run()` drives one coroutine to the end, within DEADLINE."""

    def __init__(self, settings: Settings) -> None:
        self._runner = asyncio.Runner()
        app, self.emulator = new_emulator(settings)
        self._runner.run(self.emulator.start())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url=self.emulator.settings.base_url)
        self.vendors = Vendors(self.emulator, client)

    def run(self, job: Coroutine[Any, Any, T]) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(DEADLINE):
                return await job
        return self._runner.run(bounded())

    def close(self) -> None:
        try:
            self._runner.run(self.vendors.client.aclose())
            self._runner.run(self.emulator.stop())
        finally:
            self._runner.close()


@pytest.fixture
def looped(settings: Settings) -> Iterator[LoopedVendors]:
    running = LoopedVendors(settings)
    try:
        yield running
    finally:
        running.close()
    assert running.emulator.schema_violations == [], running.emulator.schema_violations
