"""Hardening tests (issue 15): an in-process app per test (cheap), a real server where the
network matters, and helpers that sign Tencent requests and record the server's ERROR log."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.emulator import Emulator
from mockserver.providers.tencent.provider import DEFAULT_CREDENTIALS
from mockserver.providers.tencent.signing import sign_request
from mockserver.settings import Settings

BASE = "http://127.0.0.1:8000"
SECRET_ID, SECRET_KEY = next(iter(DEFAULT_CREDENTIALS.items()))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class App:
    emulator: Emulator
    client: httpx.AsyncClient

    async def advance(self, seconds: float) -> None:
        answer = await self.client.post("/__admin/clock/advance", json={"seconds": seconds},
                                        headers=admin_headers(self.emulator))
        answer.raise_for_status()


def admin_headers(emulator: Emulator) -> dict[str, str]:
    token = emulator.settings.admin_token
    return {"X-Admin-Token": token} if token else {}


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[App]:
    """An in-process app with its lifespan started, and a client for it."""
    app = create_app(replace(settings, host="127.0.0.1", port=8000))
    emulator: Emulator = app.state.emulator
    await emulator.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=30) as client:
            yield App(emulator, client)
    finally:
        await emulator.stop()


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with started(settings) as running:
        yield running
        assert running.emulator.schema_violations == []


def tencent_request(host: str, action: str, params: dict[str, Any] | None = None, *,
                    body: bytes | None = None, timestamp: int | None = None
                    ) -> tuple[dict[str, str], bytes]:
    """Headers and body of a TC3-signed POST of `params`, or of the raw `body` bytes."""
    import time

    headers, signed_body = sign_request(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, host=host, action=action,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        params=params if body is None else None, body=body)
    return headers, signed_body


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from the mock and from the HTTP server."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}"
                            + (" (with traceback)" if record.exc_info else ""))


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    loggers = [logging.getLogger(name) for name in ("mockserver", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
