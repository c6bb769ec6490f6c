"""The shared fetcher as every vendor sees it: host policy, one cache for all vendors, timeouts,
and the same answers from a real server as in-process."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from .conftest import SLOW_SECONDS, ByteServer, Vendors, fixture_bytes, image_settings

pytestmark = pytest.mark.anyio

DOWNLOAD_ERRORS = {"dashscope": "FAILED InvalidURL", "acedata": "failed api_error: fetch failed",
                   "gptge": "state -3", "tencent": "FAILED FailedOperation.DownloadError"}


async def each_vendor(vendors: Vendors, ref: str) -> dict[str, str]:
    """One input image sent to every vendor (DashScope and Tencent: as the user photo)."""
    template = vendors.fixture_url("template.jpg")
    return {"dashscope": await vendors.dashscope(user=ref, template=template),
            "acedata": await vendors.acedata(ref), "gptge": await vendors.gptge(url=ref),
            "tencent": await vendors.tencent(template=template, users=[ref])}


@pytest.mark.parametrize("settings", [image_settings(
    fetch_deny_hosts=("localhost",), fetch_allow_hosts=("images.example.net",))])
async def test_fetch_policy_refuses_with_each_vendors_download_error(
        vendors: Vendors, byte_server: ByteServer) -> None:
    byte_server.put("policy", fixture_bytes("tiny.jpg"))
    denied = byte_server.url("/blob/policy").replace("127.0.0.1", "localhost")
    fetcher = vendors.emulator.fetcher
    await fetcher.fetch(vendors.fixture_url("template.jpg"), 1 << 23)  # DashScope's, cached now
    sent = fetcher.requests_sent
    assert await each_vendor(vendors, denied) == DOWNLOAD_ERRORS
    assert await each_vendor(vendors, "http://10.255.255.1/face.jpg") == DOWNLOAD_ERRORS
    # AceData's placeholder hosts are not fetched, but the policy still applies to them.
    assert await vendors.acedata("https://cdn.example.com/me.jpg") == DOWNLOAD_ERRORS["acedata"]
    assert fetcher.requests_sent == sent  # refused without any request
    assert byte_server.hits.get("policy") is None
    # Loopback stays allowed under an allow list (the mock's own fixtures live there).
    assert await vendors.acedata(byte_server.url("/blob/policy")) == "ok"


async def test_one_download_per_url_shared_by_every_vendor(
        vendors: Vendors, byte_server: ByteServer) -> None:
    url = byte_server.put("shared", fixture_bytes("face.jpg"))
    assert await vendors.acedata(url) == "ok"
    assert await vendors.acedata(url) == "ok"
    template = vendors.fixture_url("template.jpg")
    assert await vendors.dashscope(user=url, template=template) == "ok"
    assert byte_server.hits["shared"] == 1
    await vendors.client.post("/__admin/reset")  # a reset forgets the cache
    assert await vendors.acedata(url) == "ok"
    assert byte_server.hits["shared"] == 2


async def test_a_slow_server_is_a_download_error_for_every_vendor(
        vendors: Vendors, byte_server: ByteServer) -> None:
    fetcher = vendors.emulator.fetcher
    fetcher.policy = replace(fetcher.policy, read_timeout=0.2)
    slow = byte_server.url("/slow")
    assert await each_vendor(vendors, slow) == DOWNLOAD_ERRORS


@pytest.mark.parametrize("settings", [image_settings(vendors={
    "acedata": {"input_check_seconds": 0.2}})])
async def test_acedata_bounds_the_whole_input_check(
        vendors: Vendors, byte_server: ByteServer) -> None:
    loop_time = asyncio.get_running_loop().time
    started = loop_time()
    assert await vendors.acedata(byte_server.url("/slow")) == DOWNLOAD_ERRORS["acedata"]
    assert loop_time() - started < SLOW_SECONDS


async def test_both_modes(mock, byte_server: ByteServer) -> None:
    """In-process and against a real server: a good and a bad input per vendor."""
    vendors = Vendors(mock.emulator, mock.client)
    template = vendors.fixture_url("template.jpg")
    good, bad = vendors.fixture_url("tiny.jpg"), vendors.fixture_url("missing.jpg")
    assert await vendors.dashscope(user=vendors.fixture_url("face.jpg"), template=template) == "ok"
    assert await vendors.dashscope(user=bad, template=template) == "FAILED InvalidURL"
    assert await vendors.acedata(good) == "ok"
    assert await vendors.acedata(bad) == "failed api_error: fetch failed"
    assert await vendors.gptge(url=good) == "ok"
    assert await vendors.gptge(url=bad) == "state -3"
    assert await vendors.tencent(template=template, users=[good]) == "ok"
    assert await vendors.tencent(template=template, users=[bad]) == DOWNLOAD_ERRORS["tencent"]
