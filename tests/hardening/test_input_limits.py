"""Issue 15, items 3, 5, 6 and 7: bodies capped per vendor while they are read, answered in the
vendor's envelope; nesting depth and non-finite numbers refused at every JSON door, vendor and
admin; the admin clock takes only sane numbers, and a poisoned stored offset stops start-up."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.core.limits import strict_loads
from mockserver.settings import Settings

from .conftest import App, started, tencent_request

pytestmark = pytest.mark.anyio

CHUNK = b"x" * (256 * 1024)
MiB = 1024 * 1024
BEARER = {"Authorization": "Bearer sk-limits"}
# vendor: (path, cap, status, code where the envelope keeps it)
CAPS = {
    "acedata": ("/headshots/generate", 20 * MiB, 413, "request_too_large"),
    "dashscope": ("/api/v1/services/aigc/album/gen_potrait", 6 * MiB, 400, "InvalidParameter"),
    "gptge": ("/task/pic/idphoto", 16 * MiB, 413, None),
    "tencent": ("/", 10 * MiB, 200, "FailedOperation.RequestEntityTooLarge"),
}


def error_code(vendor: str, body: dict[str, Any]) -> str | None:
    if vendor == "acedata":
        return body["error"]["code"]
    if vendor == "dashscope":
        return body["code"]
    if vendor == "tencent":
        return body["Response"]["Error"]["Code"]
    return None


class Endless:
    """A request body that yields chunks for ever and counts how many the server pulled."""

    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.pulled += 1
            yield CHUNK


@pytest.mark.parametrize("vendor", sorted(CAPS))
async def test_a_body_over_the_cap_is_refused_while_it_is_read(app: App, vendor: str) -> None:
    path, cap, status, code = CAPS[vendor]
    body = Endless()
    headers = {**BEARER, "content-type": "application/json", "X-TC-Action": "SubmitGlamPicJob"}
    answer = await app.client.post(path, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert error_code(vendor, answer.json()) == code
    if vendor == "gptge":
        assert answer.json() == {"status": 413,
                                 "message": "The uploaded file exceeds the 15 MB limit."}
    assert body.pulled <= cap // len(CHUNK) + 1  # stopped at the cap, never read whole
    entry = app.emulator.journal.entries()[0]
    assert entry.note["body_too_large"]["limit"] == cap and entry.body is None


async def test_a_declared_length_over_the_cap_is_refused_unread(app: App) -> None:
    answer = await app.client.post(
        "/api/v1/services/aigc/album/gen_potrait", content=b"{}",
        headers={**BEARER, "content-length": str(7 * MiB)})
    assert answer.status_code == 400 and answer.json()["message"].startswith("Exceeded limit")
    assert app.emulator.journal.entries()[0].note["body_too_large"]["read"] == 0


async def test_the_caps_are_options() -> None:
    settings = Settings(max_body_bytes=1000, vendors={"dashscope": {"max_body_bytes": 2000}})
    async with started(settings) as running:
        big = json.dumps({"pad": "y" * 1500}).encode()
        ace = await running.client.post("/headshots/generate", content=big, headers=BEARER)
        dash = await running.client.post("/api/v1/services/aigc/album/gen_potrait",
                                         content=big, headers=BEARER)
        assert ace.status_code == 413 and dash.status_code != 413 and "Exceeded" not in dash.text


async def test_admin_bodies_are_capped(app: App) -> None:
    answer = await app.client.post("/__admin/faults", content=b"[" + b" " * (2 * MiB) + b"]")
    assert answer.status_code == 413 and "bytes" in answer.json()["error"]


# --- JSON every door refuses ----------------------------------------------------------------

HOSTILE = {
    "deep": b"[" * 1500 + b"]" * 1500,  # 3 KB; a 500 on every JSON endpoint before
    "deep objects": b'{"a":' * 200 + b"1" + b"}" * 200,
    "NaN": b'{"template": "business_photo", "image_urls": ["x"], "pad": NaN}',
    "Infinity": b'{"model": -Infinity}',
    "1e400": b'{"seconds": 1e400, "image_urls": [1e400]}',
}


async def vendor_answers(app: App, body: bytes) -> dict[str, Any]:
    client = app.client
    tencent_headers, _ = tencent_request("127.0.0.1:8000", "SubmitGlamPicJob", body=body)
    return {
        "acedata.generate": await client.post("/headshots/generate", content=body,
                                              headers=BEARER),
        "acedata.tasks": await client.post("/headshots/tasks", content=body, headers=BEARER),
        "dashscope.submit": await client.post(
            "/api/v1/services/aigc/album/gen_potrait", content=body,
            headers={**BEARER, "X-DashScope-Async": "enable"}),
        "tencent.submit": await client.post("/", content=body, headers=tencent_headers),
    }


EXPECTED = {"acedata.generate": (400, "bad_request"), "acedata.tasks": (400, "bad_request"),
            "dashscope.submit": (400, "InvalidParameter"),
            "tencent.submit": (200, "InvalidParameter")}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_every_vendor_door_answers_its_bad_request(app: App, case: str) -> None:
    for door, answer in (await vendor_answers(app, HOSTILE[case])).items():
        status, code = EXPECTED[door]
        assert answer.status_code == status, (door, answer.text[:200])
        assert error_code(door.split(".")[0], answer.json()) == code, (door, answer.text)


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_every_admin_door_answers_400(app: App, case: str) -> None:
    for path in ("/__admin/clock/advance", "/__admin/requests/count", "/__admin/faults"):
        answer = await app.client.post(path, content=HOSTILE[case])
        assert answer.status_code == 400, (path, answer.text)
        assert "JSON" in answer.json()["error"], answer.text


async def test_a_tenants_hostile_body_breaks_no_listing(app: App) -> None:
    """Item 6: one NaN broke /__admin/tasks, /__admin/requests and the HAR for everyone."""
    for body in HOSTILE.values():
        await vendor_answers(app, body)
        await app.client.post("/no/such/route", content=body)  # a near miss, journaled too
    # A Tencent flattened number that is no finite float (GET form, signed) is refused too.
    query = "TemplateUrl=http%3A%2F%2Fexample.com%2Ft.jpg&FaceInfos.0.ImageUrls.0=x&Similarity=1e400"
    headers, _ = tencent_request("127.0.0.1:8000", "SubmitGlamPicJob", body=b"")
    from mockserver.providers.tencent.signing import sign_request

    headers, _ = sign_request(secret_id="AKIDmock", secret_key="mock-secret",
                              host="127.0.0.1:8000", action="SubmitGlamPicJob",
                              timestamp=int(app.emulator.clock.now()), method="GET", query=query)
    flat = await app.client.get(f"/?{query}", headers=headers)
    assert flat.json()["Response"]["Error"]["Code"] == "InvalidParameter", flat.text
    for path in ("/__admin/requests", "/__admin/tasks", "/__admin/requests.har"):
        listing = await app.client.get(path)
        assert listing.status_code == 200, (path, listing.text[:200])
        strict_loads(listing.content, max_depth=200)  # valid JSON: no NaN anywhere
    count = await app.client.post("/__admin/requests/count",
                                  json={"body": {"pad": 1}, "vendor": "acedata"})
    assert count.status_code == 200 and count.json()["count"] == 0
    assert app.emulator.store.list_tasks() == []  # nothing hostile became a task


# --- the clock --------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds", ["NaN", "Infinity", "-Infinity", "1e400", "-1", "1e12",
                                     "true", '"60"', "null", str(10 ** 400)])
async def test_the_admin_clock_takes_only_sane_numbers(app: App, seconds: str) -> None:
    """Item 3: NaN poisoned the clock (500s, every task finished, 429 for ever)."""
    before = app.emulator.clock.offset
    answer = await app.client.post("/__admin/clock/advance",
                                   content=f'{{"seconds": {seconds}}}'.encode())
    assert answer.status_code == 400, answer.text
    assert app.emulator.clock.offset == before
    assert (await app.client.get("/__admin/health")).status_code == 200
    with pytest.raises(ValueError):
        app.emulator.clock.advance(float("nan"))


def poisoned_store(tmp_path: Path) -> str:
    path = tmp_path / "mock.db"
    create_app(Settings(store=f"sqlite:{path}")).state.emulator.store.close()
    with sqlite3.connect(path) as db:  # what an older version saved after advance(NaN)
        db.execute("UPDATE state SET value = 'nan' WHERE field = 'clock_offset'")
    return f"sqlite:{path}"


def test_a_stored_offset_that_is_not_finite_stops_start_up(tmp_path: Path) -> None:
    store = poisoned_store(tmp_path)
    with pytest.raises(ValueError, match="clock offset .* not a finite number"):
        create_app(Settings(store=store))
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", "0",
                           "--store", store], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("mockserver: the stored clock offset") and "'nan'" in line


async def test_deep_bodies_never_raise_recursion_error_in_the_journal(app: App) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    answer = await app.client.post("/headshots/generate", content=deep, headers=BEARER)
    assert answer.status_code == 400
    entry = app.emulator.journal.entries()[0]
    assert isinstance(entry.body, str) and len(entry.body) <= 2048  # kept as text, truncated
    count = await app.client.post("/__admin/requests/count", json={"body": {"0": 1}})
    assert count.status_code == 200


def test_the_in_process_client_sees_the_same(tmp_path: Path) -> None:
    """The same refusal through a plain synchronous client and a real server."""
    from mockserver.testing import ServerThread

    with ServerThread(Settings()) as server:
        answer = httpx.post(f"{server.base_url}/headshots/generate", content=HOSTILE["NaN"],
                            headers=BEARER)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
