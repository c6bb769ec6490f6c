"""Where the kit sends its requests: the mock in-process, a running mock, or a live vendor.

Tests are synchronous (Hypothesis drives them); the in-process mock runs on an event loop in a
blocking portal and is reached through `httpx.ASGITransport`, the others through `httpx.Client`.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import httpx
import numpy  # noqa: F401 - see InProcess
from anyio.from_thread import BlockingPortal, start_blocking_portal

from mockserver.app import create_app
from mockserver.core.schemas import SchemaRegistry
from mockserver.emulator import Emulator
from mockserver.settings import Settings

from .budget import Budget
from .masking import Masker

IN_PROCESS_BASE = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_BACKOFF = 30.0


@dataclass
class Exchange:
    """One request the kit sent and the answer it got."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    headers: dict[str, str]  # response headers, lower-case names
    content: bytes

    @cached_property
    def json(self) -> Any:
        """The decoded JSON body, or None when the body is not JSON."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError):
            return None

    @cached_property
    def lines(self) -> list[Any] | None:
        """The JSON documents of a line-by-line (NDJSON) answer, or None if a line is not JSON.
        CRLF and LF both end a line."""
        try:
            return [json.loads(line) for line in self.content.splitlines() if line.strip()]
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def describe(self, masker: Masker, limit: int = 1500) -> str:
        """The request and the answer, secrets masked, for reports and assert messages."""
        headers = "\n".join(f"  {k}: {v}" for k, v in masker.headers(self.request_headers).items())
        body = masker.text(_text(self.request_body, limit))
        answer = masker.text(_text(self.content, limit))
        return (f"{self.method} {masker.text(self.url)}\n{headers}\n  body: {body}\n"
                f"-> HTTP {self.status} {self.content_type}\n  {answer}")


def _text(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", "replace") if data else ""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class Transport(Protocol):
    def send(self, request: httpx.Request) -> httpx.Response: ...
    def close(self) -> None: ...


class InProcess:
    """The mock app on an event loop in a blocking portal, called through ASGITransport.

    The mock imports NumPy/OpenCV lazily on its loop thread while Hypothesis, on the test
    thread, looks NumPy up too: importing it up front (above) avoids a half-imported module.
    """

    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        self._stack = ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal("asyncio"))
        self.app = create_app(emulator=Emulator(settings, schemas))
        self.emulator: Emulator = self.app.state.emulator
        self.portal.call(self.emulator.start)  # lifespan hooks: the callback dispatcher etc.
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                         base_url=IN_PROCESS_BASE, timeout=TIMEOUT)

    def send(self, request: httpx.Request) -> httpx.Response:
        return self.portal.call(self._client.send, request)

    def close(self) -> None:
        self.portal.call(self._client.aclose)
        self.portal.call(self.emulator.stop)
        self._stack.close()


class OverHttp:
    def __init__(self, trust_env: bool) -> None:
        # A mock on loopback must not be reached through a proxy; a live vendor may need one.
        self._client = httpx.Client(timeout=TIMEOUT, trust_env=trust_env)

    def send(self, request: httpx.Request) -> httpx.Response:
        return self._client.send(request)

    def close(self) -> None:
        self._client.close()


@dataclass
class Target:
    """One vendor's endpoint as the tests see it."""

    vendor: str
    base_url: str
    mode: str  # "inprocess" | "mock" (a running mock at a URL) | "live"
    transport: Transport
    budget: Budget
    masker: Masker
    min_interval: float = 0.0  # live runs pace their requests
    _last_sent: float = field(default=0.0, repr=False)

    @property
    def is_mock(self) -> bool:
        return self.mode != "live"

    def send(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
             content: bytes = b"") -> Exchange:
        request = httpx.Request(method, self.base_url + path, headers=dict(headers or {}),
                                content=content)
        return _exchange(request, self._paced(request))

    def wait_out_throttling(self, attempt: int) -> None:
        """After a throttled answer: move a mock's clock past the window, or back off live."""
        if self.is_mock:
            self.advance(1.0)
        else:
            time.sleep(min(MAX_BACKOFF, 2.0 ** (attempt + 1)))

    def _paced(self, request: httpx.Request) -> httpx.Response:
        wait = self._last_sent + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_sent = time.monotonic()
        response = self.transport.send(request)
        response.read()
        return response

    def advance(self, seconds: float) -> None:
        """Move the mock's clock (only mocks have one)."""
        self._admin("POST", "/__admin/clock/advance", {"seconds": seconds})

    def drain_callbacks(self) -> None:
        """Have a mock deliver every callback that is due now."""
        self._admin("POST", "/__admin/callbacks/drain")

    @contextmanager
    def clock_pushed(self, step: float = 5.0, every: float = 0.05) -> Iterator[None]:
        """While a blocking call waits on a mock's clock, keep moving it from another thread."""
        if not self.is_mock:
            yield
            return
        done = threading.Event()

        def push() -> None:
            while not done.wait(every):
                self.advance(step)

        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        try:
            yield
        finally:
            done.set()
            pusher.join()

    def now(self) -> float:
        """The target's idea of the time: a mock's (possibly advanced) clock, else ours."""
        if not self.is_mock:
            return time.time()
        return float(self._admin("GET", "/__admin/clock")["now"])

    def _admin(self, method: str, path: str, doc: Any = None) -> Any:
        assert self.is_mock, "only a mock has the admin API"
        answer = self.transport.send(httpx.Request(method, self.base_url + path, json=doc))
        answer.read()
        answer.raise_for_status()
        return answer.json()

    def fixture_url(self, name: str) -> str:
        return f"{self.base_url}/__admin/fixtures/{name}"


def _exchange(request: httpx.Request, response: httpx.Response) -> Exchange:
    return Exchange(
        method=request.method, url=str(request.url), request_headers=dict(request.headers),
        request_body=request.content, status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()}, content=response.content,
    )


def answers_as_mock(base_url: str) -> bool:
    """A running mock answers `/__admin/health`; a vendor does not."""
    try:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            answer = client.get(f"{base_url.rstrip('/')}/__admin/health")
        return answer.status_code == 200 and "vendors" in answer.json()
    except (httpx.HTTPError, ValueError):
        return False
