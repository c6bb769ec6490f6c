"""Issue 15, item 8: one tenant's slow image servers or slow callback receivers never stall
another tenant. Each account gets its own share of the download pool and of the callback
senders; a download that waits too long for its account's share fails, and it is always the
busy account's own download."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core.callbacks import PER_ACCOUNT
from mockserver.core.image_fetch import (
    FetchPolicy,
    ImageFetcher,
    ImageRejected,
    Problem,
    fetch_account,
)
from mockserver.settings import Settings
from mockserver.testing import AppThread, CallbackReceiver

from .conftest import started

pytestmark = pytest.mark.anyio

DEADLINE = 30.0  # a hang detector, not a timing assertion


class Tarpit:
    """A loopback server whose every answer waits until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = 0
        self.most = 0

        async def hold(request: Request) -> Response:
            self.waiting += 1
            self.most = max(self.most, self.waiting)
            await asyncio.to_thread(self.release.wait, DEADLINE)
            self.waiting -= 1
            return Response(b"\x89PNG\r\n\x1a\n", media_type="image/png")

        self.thread = AppThread(Starlette(routes=[Route("/{n}", hold, methods=["GET", "POST"])]),
                                lifespan="off")
        self.base = self.thread.base_url


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    pit = Tarpit()
    with pit.thread:
        try:
            yield pit
        finally:
            pit.release.set()


async def as_account(account: str, work: Any) -> Any:
    fetch_account.set(account)
    try:
        return await work
    except ImageRejected as rejected:
        return rejected


async def until(condition: Any) -> None:
    for _ in range(int(DEADLINE / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


async def test_a_slow_tenants_downloads_fail_and_the_victims_do_not(tarpit: Tarpit) -> None:
    policy = FetchPolicy(per_account_connections=2, max_connections=4, pool_timeout=0.3)
    fetcher = ImageFetcher(policy, cache_entries=0)
    with CallbackReceiver() as fast:  # any loopback server answering quickly will do
        try:
            slow = [asyncio.ensure_future(as_account("sk-slow", fetcher.fetch(
                f"{tarpit.base}/{n}", 1 << 20))) for n in range(6)]
            await until(lambda: tarpit.waiting == 2)
            victim = await as_account("sk-victim", fetcher.fetch(fast.url, 1 << 20))
            # The victim was answered (its own share) while the slow tenant's two held on.
            assert isinstance(victim, ImageRejected) and victim.problem is \
                Problem.DOWNLOAD_FAILED and "405" in victim.detail  # GET on a POST route
            assert tarpit.waiting == 2 and tarpit.most == 2
            await until(lambda: sum(t.done() for t in slow) == 4)
            failed = [t.result() for t in slow if t.done()]
            assert all(isinstance(r, ImageRejected) and "slots stayed busy" in r.detail
                       for r in failed)
            tarpit.release.set()
            done = await asyncio.gather(*slow)
            assert sum(isinstance(r, bytes) for r in done) == 2
        finally:
            await fetcher.aclose()


async def test_a_slow_tenants_callbacks_never_stall_anothers(tarpit: Tarpit) -> None:
    def job(callback_url: str) -> dict[str, Any]:
        return {"image_urls": ["https://images.example.com/me.jpg"],
                "template": "business_photo", "callback_url": callback_url}

    with CallbackReceiver() as fast:
        async with started(Settings(validate_responses=True, limits_enabled=False)) as running:
            for n in range(12):
                answer = await running.client.post("/headshots/generate", json=job(
                    f"{tarpit.base}/{n}"), headers={"Authorization": "Bearer sk-slow"})
                assert answer.status_code == 200
            await running.advance(600)
            await until(lambda: tarpit.waiting == PER_ACCOUNT)
            answer = await running.client.post("/headshots/generate", json=job(fast.url),
                                               headers={"Authorization": "Bearer sk-fast"})
            assert answer.status_code == 200
            await running.advance(600)
            await until(lambda: len(fast.bodies) == 1)  # while the slow receiver holds on
            assert tarpit.waiting == PER_ACCOUNT and tarpit.most == PER_ACCOUNT
            tarpit.release.set()
            await running.emulator.callbacks.drain()
            statuses = [r["status"] for r in running.emulator.callbacks.records()]
            assert statuses == ["delivered"] * 13
