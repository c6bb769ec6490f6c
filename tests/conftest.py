"""Shared fixtures: every integration test runs in-process (httpx ASGITransport) and against a
real uvicorn server; every response the mock gives is checked against its JSON Schema."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from mockserver.app import create_app
from mockserver.emulator import Emulator
from mockserver.redis_server import RedisServer
from mockserver.settings import Settings
from mockserver.testing import ServerThread

# The SDKs honour proxy variables; the mock is always on loopback.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

IN_PROCESS_BASE = "http://127.0.0.1:8000"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings() -> Settings:
    """Override per module or test to change the mock's settings."""
    return Settings(validate_responses=True)


@dataclass
class Mock:
    """One running emulator and a client for it, the same API in both modes."""

    mode: str
    emulator: Emulator
    client: httpx.AsyncClient
    base_url: str

    async def advance(self, seconds: float) -> None:
        """Move the clock through the admin API, as a user's test would."""
        answer = await self.client.post("/__admin/clock/advance", json={"seconds": seconds})
        answer.raise_for_status()


def _assert_schema_clean(emulator: Emulator) -> None:
    assert emulator.schema_violations == [], emulator.schema_violations


@pytest.fixture(params=["inprocess", "server"])
async def mock(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Mock]:
    if request.param == "inprocess":
        app = create_app(replace(settings, host="127.0.0.1", port=8000))
        emulator = app.state.emulator
        await emulator.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_BASE) as client:
            yield Mock("inprocess", emulator, client, IN_PROCESS_BASE)
        await emulator.stop()
    else:
        with ServerThread(settings) as server:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                yield Mock("server", server.emulator, client, server.base_url)
    _assert_schema_clean(emulator if request.param == "inprocess" else server.emulator)


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    """A real server only (for the vendors' SDKs, which use `requests`)."""
    with ServerThread(settings) as running:
        yield running
    _assert_schema_clean(running.emulator)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session (Debian's package; `dev.py test` installs it).
    Missing, it fails the tests that need it: nothing is skipped."""
    with RedisServer() as running:
        yield running


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "memory" if request.param == "memory" else f"sqlite:{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "redis"])
def shared_store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store several processes can share."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"sqlite:{tmp_path / 'store.db'}"
