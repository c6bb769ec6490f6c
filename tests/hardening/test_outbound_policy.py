"""Issue 15, items 1, 4 and 12: one outbound policy for image fetches and callbacks, judged on
every spelling of a host, on every redirect hop and on the address each connection reaches; the
admin API is never a target; a tenant learns nothing about what a target answered."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mockserver.core.image_fetch import (
    FetchPolicy,
    ImageFetcher,
    ImageRejected,
    Problem,
    check_ref,
)
from mockserver.core.netpolicy import CALLBACK, FETCH, OutboundPolicy, PolicyRefused
from mockserver.settings import Settings
from mockserver.testing import AppThread, CallbackReceiver, ServerThread, fixture_url

from .conftest import App

pytestmark = pytest.mark.anyio

DENY_LOOPBACK = FetchPolicy(deny_hosts=("127.*", "::1"))
LOOPBACK_SPELLINGS = ["localhost", "LOCALHOST.", "2130706433", "0x7f000001", "017700000001",
                      "127.1", "0177.0.0.1", "0.0.0.0", "[::ffff:127.0.0.1]", "[::1]",
                      "127.0.0.1.", "[::ffff:7f00:1]", "[::]", "sub.localhost"]
METADATA = ["169.254.169.254", "0xa9fea9fe", "[::ffff:169.254.169.254]", "[fd00:ec2::254]",
            "metadata.google.internal", "metadata.google.internal.", "100.100.100.200",
            "[fe80::1]"]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_a_denied_host_is_refused(host: str) -> None:
    with pytest.raises(ImageRejected) as refused:
        check_ref(f"http://{host}:8080/a.jpg", policy=DENY_LOOPBACK)
    assert refused.value.problem is Problem.URL_FORBIDDEN
    assert refused.value.public == "refused by policy"


@pytest.mark.parametrize("host", METADATA)
@pytest.mark.parametrize("mode", ["single", "shared"])
def test_link_local_and_metadata_are_refused_in_every_mode(host: str, mode: str) -> None:
    policy = OutboundPolicy(mode=mode)
    for purpose in (FETCH, CALLBACK):
        with pytest.raises(PolicyRefused):
            policy.check_url(f"http://{host}/latest/meta-data/", purpose)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.7", "192.168.1.20",
                                  "172.16.3.4", "[fc00::5]", "100.64.0.1"])
def test_loopback_and_private_ranges_depend_on_the_mode(host: str) -> None:
    OutboundPolicy().check_url(f"http://{host}/a.jpg")  # single-user mode: allowed
    with pytest.raises(PolicyRefused, match="shared mode"):
        OutboundPolicy(mode="shared").check_url(f"http://{host}/a.jpg")
    # An operator may still list one internal host for the team.
    OutboundPolicy(mode="shared", allow_hosts=(host.strip("[]"), "10.0.0.0/8")).check_url(
        f"http://{host}/a.jpg")


@pytest.mark.parametrize("path", ["/__admin/reset", "/%5F%5Fadmin/reset", "/x/../__admin/reset",
                                  "//__admin/clock/advance", "/__ADMIN/faults", "/__admin"])
def test_the_admin_api_is_never_a_target(path: str) -> None:
    policy = OutboundPolicy()
    for purpose in (FETCH, CALLBACK):
        with pytest.raises(PolicyRefused, match="admin API"):
            policy.check_url(f"http://example.com{path}", purpose)
    policy.check_url("http://example.com/__admin/fixtures/face.jpg", FETCH)  # sample images
    policy.check_url("http://example.com/results/v/t/0.jpg", FETCH)


def test_shared_mode_still_fetches_the_mocks_own_files() -> None:
    policy = OutboundPolicy(mode="shared", own_base_url="http://127.0.0.1:8000")
    policy.check_url("http://127.0.0.1:8000/__admin/fixtures/face.jpg", FETCH)
    policy.check_url("http://127.0.0.1:8000/results/v/t/0.jpg", FETCH)
    with pytest.raises(PolicyRefused):
        policy.check_url("http://127.0.0.1:8001/a.jpg", FETCH)  # another port is not us


def test_deny_hosts_take_cidr_ranges_and_globs() -> None:
    policy = OutboundPolicy(deny_hosts=("10.0.0.0/8", "*.internal.test"))
    for url in ("http://10.1.2.3/", "http://0x0a010203/", "http://[::ffff:10.1.2.3]/",
                "http://cdn.internal.test./a.jpg"):
        with pytest.raises(PolicyRefused, match="deny_hosts"):
            policy.check_url(url)
    policy.check_url("http://11.1.2.3/a.jpg")


# --- the address each connection reaches ------------------------------------------------------


class Peer:
    """A loopback server: /image (a tiny PNG), /redirect?to= (302), and a count of GETs."""

    def __init__(self) -> None:
        self.hits = 0

        async def image(request: Request) -> Response:
            self.hits += 1
            return Response(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, media_type="image/png")

        async def redirect(request: Request) -> Response:
            self.hits += 1
            return RedirectResponse(request.query_params["to"], status_code=302)

        async def status(request: Request) -> Response:
            return JSONResponse({"internal": "secret"}, int(request.path_params["code"]))

        self.thread = AppThread(Starlette(routes=[
            Route("/image", image), Route("/redirect", redirect),
            Route("/status/{code}", status)]), lifespan="off")
        self.base = self.thread.base_url
        self.port = int(self.base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    server = Peer()
    with server.thread:
        yield server


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """`images.test` resolves to 127.0.0.1, like a public name an attacker points at us."""
    real = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "images.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


async def fetch(policy: FetchPolicy, url: str) -> tuple[bytes | ImageRejected, int]:
    fetcher = ImageFetcher(policy, cache_entries=0)
    try:
        return await fetcher.fetch(url, 1 << 20), fetcher.requests_sent
    except ImageRejected as rejected:
        return rejected, fetcher.requests_sent
    finally:
        await fetcher.aclose()


async def test_the_resolved_address_is_judged_not_the_name(peer: Peer, fake_dns: None) -> None:
    url = f"http://images.test:{peer.port}/image"
    found, _ = await fetch(FetchPolicy(), url)
    assert isinstance(found, bytes)  # single-user mode: loopback is fine, and reached
    refused, _ = await fetch(FetchPolicy(mode="shared"), url)
    assert isinstance(refused, ImageRejected) and refused.problem is Problem.URL_FORBIDDEN
    assert "127.0.0.1" in refused.detail and refused.public == "refused by policy"
    refused, _ = await fetch(FetchPolicy(deny_hosts=("127.0.0.0/8",)), url)
    assert isinstance(refused, ImageRejected) and refused.problem is Problem.URL_FORBIDDEN


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://0xa9fea9fe/", "http://2130706434:{port}/image",
    "http://images.example.org/__admin/reset"])
async def test_every_redirect_hop_is_judged(peer: Peer, target: str) -> None:
    policy = FetchPolicy(deny_hosts=("127.0.0.2",))
    url = httpx.URL(f"{peer.base}/redirect", params={"to": target.format(port=peer.port)})
    before = peer.hits
    refused, sent = await fetch(policy, str(url))
    assert isinstance(refused, ImageRejected) and refused.problem is Problem.URL_FORBIDDEN
    assert sent == 1 and peer.hits == before + 1  # the refused hop was never requested


async def finished_idphoto(client: httpx.AsyncClient, task_id: str, key: str
                           ) -> dict[str, Any]:
    """The gpt.ge task's data once it is done (state 1) or failed (negative), or as it is
    after 10 s of polling."""
    for _ in range(200):
        data: dict[str, Any] = (await client.get(f"/task/{task_id}", headers={
            "Authorization": f"Bearer {key}"})).json()["data"]
        if data["state"] == 1 or data["state"] < 0:
            break
        await asyncio.sleep(0.05)
    return data


async def test_a_tenant_learns_nothing_of_what_a_target_answered(app: App, peer: Peer) -> None:
    """gpt.ge's err_info reaches the tenant: it must read the same for a closed port, a 404, an
    internal JSON answer and a 500, or the mock is a port scanner (item 12)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    targets = [closed, f"{peer.base}/status/404", f"{peer.base}/status/200",
               f"{peer.base}/status/500"]
    infos = set()
    for target in targets:
        created = await app.client.post("/task/pic/idphoto", data={"image_url": target},
                                        headers={"Authorization": "Bearer sk-scan"})
        await app.advance(5)
        data = await finished_idphoto(app.client, created.json()["data"]["task_id"], "sk-scan")
        assert data["state"] < 0, data
        infos.add((data["state"], data["err_info"]))
    assert infos == {(-3, "the image could not be downloaded")}


# --- callbacks obey the same policy --------------------------------------------------------------


def acedata_async(callback_url: str) -> dict[str, Any]:
    return {"image_urls": ["https://images.example.com/me.jpg"], "template": "business_photo",
            "callback_url": callback_url}


def test_a_callback_never_reaches_the_admin_api() -> None:
    """Item 1: `callback_url=http://<mock>/__admin/reset` wiped every tenant's tasks."""
    with ServerThread(Settings(validate_responses=True)) as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as http:
        victim = http.post("/headshots/generate", json={**acedata_async(
            "http://127.0.0.1:9/none"), "async": True}, headers={"Authorization": "Bearer sk-v"})
        victim_task = victim.json()["task_id"]
        for path in ("/__admin/reset", "/%5F%5Fadmin/reset", "/x/../__admin/reset"):
            http.post("/headshots/generate", json=acedata_async(server.base_url + path),
                      headers={"Authorization": "Bearer sk-attacker"}).raise_for_status()
        http.post("/__admin/clock/advance", json={"seconds": 600}).raise_for_status()
        http.post("/__admin/callbacks/drain").raise_for_status()
        assert server.emulator.store.get_task(victim_task) is not None
        records = [r for r in server.emulator.callbacks.records() if "admin" in r["url"].lower()
                   or "5f" in r["url"].lower()]
        assert len(records) == 3
        for record in records:
            assert record["status"] == "failed" and "refused by policy" in record["reason"]
            assert [a["status_code"] for a in record["attempts"]] == [None]


async def test_callbacks_obey_deny_hosts_and_the_shared_mode() -> None:
    from .conftest import started

    with CallbackReceiver() as receiver:
        for settings in (Settings(fetch_deny_hosts=("127.*",)), Settings(fetch_mode="shared")):
            async with started(settings) as running:
                answer = await running.client.post(
                    "/headshots/generate", json=acedata_async(receiver.url),
                    headers={"Authorization": "Bearer sk-cb"})
                assert answer.status_code == 200, answer.text
                await running.advance(600)
                await running.emulator.callbacks.drain()
                [record] = running.emulator.callbacks.records()
                assert record["status"] == "failed" and "refused by policy" in record["reason"]
        assert receiver.bodies == []


async def test_own_fixtures_stay_fetchable_in_shared_mode() -> None:
    from .conftest import started

    async with started(Settings(fetch_mode="shared")) as running:
        url = fixture_url(running.emulator.settings.base_url, "face.jpg")
        created = await running.client.post("/task/pic/idphoto", data={"image_url": url},
                                             headers={"Authorization": "Bearer sk-own"})
        await running.advance(5)
        data = await finished_idphoto(running.client, created.json()["data"]["task_id"], "sk-own")
        assert data["state"] == 1, data
