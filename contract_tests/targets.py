"""Where the kit sends its requests: the mock in-process, a running mock, or a live vendor.

Tests are synchronous (Hypothesis drives them); the in-process mock runs on an event loop in a
blocking portal and is reached through `httpx.ASGITransport`, the others through `httpx.Client`.
Whether a URL is a mock is decided by a positive probe (`probe`): its `GET /__admin/health`
answers as this project's mock does. A URL that gives no HTTP answer at all is an error, never
a live vendor by default.
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
from .repro import curl

IN_PROCESS_BASE = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
PROBE_TIMEOUT = 10.0
HEALTH = "/__admin/health"
# Waiting out a documented refusal (rate window, queue cap). A mock's clock is moved on in
# growing steps until the queue drains; a live vendor is given real time, within a budget.
MOCK_THROTTLE_STEPS = (1.0, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
LIVE_THROTTLE_BUDGET = 90.0  # real seconds one request may spend backing off
LIVE_BACKOFF = (2.0, 4.0, 8.0, 16.0, 30.0, 30.0)


class TargetError(Exception):
    """A target the kit cannot use; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class Probed:
    """What a URL turned out to be."""

    url: str
    kind: str  # "mock" | "live"
    vendors: tuple[str, ...] = ()  # a mock's emulated vendors
    how: str = ""  # how this was decided, for the report


def probe(url: str, forced: str | None = None) -> Probed:
    """Decide what `url` is. A mock is recognised by what it answers (`/__admin/health` with
    status ok, a version, its vendors and its clock); any other HTTP answer is a live vendor.
    No answer at all raises `TargetError`. `forced` ("mock" or "live") skips the guess but not
    the check that the URL answers (and, for "mock", that it answers as one)."""
    health = f"{url}{HEALTH}"
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, trust_env=forced == "live") as client:
            answer = client.get(health)
    except httpx.HTTPError as error:
        raise TargetError(f"target {url} does not answer: {_reason(error)} "
                          f"(GET {health})") from None
    vendors = _mock_health(answer)
    if forced == "live":
        return Probed(url, "live", how="forced with live=")
    if vendors is not None:
        return Probed(url, "mock", vendors, how=f"GET {HEALTH} answered as this mock")
    if forced == "mock":
        raise TargetError(f"target {url} was given as mock= but GET {health} answered HTTP "
                          f"{answer.status_code}, not this mock's health document")
    return Probed(url, "live", how=f"GET {HEALTH} answered HTTP {answer.status_code}, "
                                   "not this mock's health document")


def _mock_health(answer: httpx.Response) -> tuple[str, ...] | None:
    """The vendors of a mock's health answer, or None when the answer is not one."""
    try:
        doc = answer.json()
    except ValueError:
        return None
    if answer.status_code != 200 or not isinstance(doc, dict) or doc.get("status") != "ok":
        return None
    vendors, version, now = doc.get("vendors"), doc.get("version"), doc.get("time")
    if not isinstance(vendors, list) or not all(isinstance(v, str) for v in vendors):
        return None
    if not isinstance(version, str) or not isinstance(now, (int, float)):
        return None
    return tuple(vendors)


def _reason(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"connection failed ({error})"
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {PROBE_TIMEOUT:g} s"
    return f"{type(error).__name__}: {error}"


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

    def curl(self, masker: Masker) -> str:
        """One line that sends the same request again (secrets masked: fill them in)."""
        return curl(self.method, self.url, self.request_headers, self.request_body, masker)


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
        # One client per target: its connections are kept alive between requests.
        self._client = httpx.Client(timeout=TIMEOUT, trust_env=trust_env)

    def send(self, request: httpx.Request) -> httpx.Response:
        return self._client.send(request)

    def close(self) -> None:
        self._client.close()


@dataclass
class ClockView:
    """A mock's clock as the kit knows it: the offset from the wall clock, learnt from the
    mock's answers to clock calls. Shared by every target that reaches the same mock (the
    vendors of one server move one clock)."""

    offset: float | None = None

    def learn(self, doc: Any) -> float:
        now = float(doc["now"])
        self.offset = now - time.time()
        return now


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
    clock: ClockView = field(default_factory=ClockView)
    throttles_waited: int = 0  # documented refusals waited out (for the report)

    @property
    def is_mock(self) -> bool:
        return self.mode != "live"

    def send(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
             content: bytes = b"") -> Exchange:
        request = httpx.Request(method, self.base_url + path, headers=dict(headers or {}),
                                content=content)
        return _exchange(request, self._paced(request))

    def wait_out_throttling(self, attempt: int, waited: float) -> float | None:
        """After a documented refusal under load: move a mock's clock on (growing steps) or
        sleep for a live vendor. Returns the seconds waited, or None when the waiting is over
        (steps used up, or the live budget would be exceeded)."""
        self.throttles_waited += 1
        if self.is_mock:
            if attempt >= len(MOCK_THROTTLE_STEPS):
                return None
            step = MOCK_THROTTLE_STEPS[attempt]
            self.advance(step)
            return step
        pause = LIVE_BACKOFF[min(attempt, len(LIVE_BACKOFF) - 1)]
        if waited + pause > LIVE_THROTTLE_BUDGET:
            return None
        time.sleep(pause)
        return pause

    def _paced(self, request: httpx.Request) -> httpx.Response:
        wait = self._last_sent + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_sent = time.monotonic()
        response = self.transport.send(request)
        response.read()
        return response

    # --- a mock's admin API -------------------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move the mock's clock (only mocks have one); returns its new time."""
        return self.clock.learn(self.admin("POST", "/__admin/clock/advance", {"seconds": seconds}))

    def drain_callbacks(self) -> None:
        """Have a mock deliver every callback that is due now."""
        self.admin("POST", "/__admin/callbacks/drain")

    def add_key_pair(self) -> tuple[str, str]:
        """A fresh key pair the mock accepts from now on (signing vendors)."""
        doc = self.admin("POST", f"/__admin/credentials/{self.vendor}", {})
        return str(doc["key_id"]), str(doc["secret"])

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
        """The target's idea of the time: a mock's (possibly advanced) clock, else ours. The
        mock's offset is learnt from its answers to the clock calls, not asked every time."""
        if not self.is_mock:
            return time.time()
        if self.clock.offset is None:
            self.clock.learn(self.admin("GET", "/__admin/clock"))
        assert self.clock.offset is not None
        return time.time() + self.clock.offset

    def refresh_clock(self) -> None:
        """Ask the mock's clock again (another client may have moved it)."""
        if self.is_mock:
            self.clock.learn(self.admin("GET", "/__admin/clock"))

    def admin(self, method: str, path: str, doc: Any = None) -> Any:
        assert self.is_mock, "only a mock has the admin API"
        answer = self.transport.send(httpx.Request(method, self.base_url + path, json=doc))
        answer.read()
        if answer.status_code >= 400:
            raise TargetError(f"{method} {self.base_url}{path} answered HTTP "
                              f"{answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def fixture_url(self, name: str) -> str:
        return f"{self.base_url}/__admin/fixtures/{name}"


def _exchange(request: httpx.Request, response: httpx.Response) -> Exchange:
    return Exchange(
        method=request.method, url=str(request.url), request_headers=dict(request.headers),
        request_body=request.content, status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()}, content=response.content,
    )
