"""In-process mode: requests to the vendors' real hostnames are answered by an emulator that
runs in this process, so application code needs no base-URL change at all. httpx (sync and
async) is routed by respx, `requests` by `responses`, aiohttp by `aioresponses`
(`mockserver.interception`): every client the vendors' SDKs use. No socket is opened for a
vendor's host.

    with InProcessMock() as mock:          # or @in_process() on a (sync or async) function
        httpx.post("https://<a vendor's real host>/<its API path>", ...)
        mock.advance(60)

The app runs on its own event loop in a helper thread (an anyio blocking portal), with its
lifespan started, so sync and async httpx clients both work and background workers (the
callback dispatcher) run. Result URLs use `PUBLIC_URL`, a host the router also serves.
On a vendor's host only that vendor's API answers; any other path gets the vendor's not-found.
Requests to any other host pass through untouched (a callback to a local receiver really goes
out), or, with `block_other_hosts=True`, fail with a connection error naming the host (loopback
stays allowed unless `allow_loopback=False`). Add your own routes to answer other hosts too:
`mock.router` (respx), `mock.requests_mock` (responses), `mock.aiohttp_mock` (aioresponses).
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeVar

import anyio.from_thread
import httpx
import respx
from anyio.from_thread import BlockingPortal

from .app import create_app
from .interception.gate import VendorHostGate
from .interception.hosts import BlockedHost, HostMap, OutboundPolicy
from .interception.install import interceptors
from .settings import Settings
from .testing import MockHandle, with_test_key

PUBLIC_URL = "https://portrait-mockserver.invalid"  # .invalid never resolves: nothing leaks
F = TypeVar("F", bound=Callable[..., Any])
# Whether respx is resolving for an async client (its request streams are both sync and async).
_ASYNC_CLIENT: ContextVar[bool] = ContextVar("portrait_mock_async_client", default=False)


def hosts_pattern(public_url: str = PUBLIC_URL) -> str:
    """A regex for every host this mode answers: the vendors' published hosts and host
    patterns (regions, workspaces), and the public URL's host."""
    return HostMap.from_specs(public_url).pattern()


class _Router(respx.MockRouter):
    """A respx router whose unmatched requests go to the policy: through, or refused."""

    def __init__(self, policy: OutboundPolicy = OutboundPolicy()) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._elsewhere = respx.Route().pass_through()
        self.policy = policy

    def handler(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC_CLIENT.set(False)
        try:
            return super().handler(request)
        finally:
            _ASYNC_CLIENT.reset(token)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC_CLIENT.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _ASYNC_CLIENT.reset(token)

    @contextmanager
    def resolver(self, request: httpx.Request) -> Iterator[Any]:
        with super().resolver(request) as resolved:
            yield resolved
            if resolved.route is None:
                try:
                    self.policy.check(request.method, str(request.url))
                except BlockedHost as blocked:
                    raise httpx.ConnectError(str(blocked), request=request) from None
                resolved.route, resolved.response = self._elsewhere, request


class InProcessMock(MockHandle):
    """The emulator in this process, answering the vendors' hostnames for every HTTP client."""

    def __init__(self, settings: Settings | None = None, *, public_url: str = PUBLIC_URL,
                 block_other_hosts: bool = False, allow_loopback: bool = True) -> None:
        self.settings = with_test_key(replace(settings or Settings(), public_url=public_url))
        self.app = create_app(self.settings)
        super().__init__(self.app.state.emulator, public_url)
        self.hosts = HostMap.from_specs(public_url)
        self.policy = OutboundPolicy(block_other_hosts, allow_loopback)
        gate = VendorHostGate(self.app, self.emulator, self.hosts)
        self._transport = httpx.ASGITransport(app=gate, client=("127.0.0.1", 40000))
        self.router = _Router(self.policy)
        self.router.route(host__regex=self.hosts.pattern(), name="portrait-mockserver"
                          ).mock(side_effect=self._answer)
        self.interceptors = interceptors(self.hosts, self.call_app, self.call_app_async,
                                         self.policy)
        self.requests_mock: Any = getattr(self.interceptors.get("requests"), "mock", None)
        self.aiohttp_mock: Any = getattr(self.interceptors.get("aiohttp"), "mock", None)
        self._portal: BlockingPortal | None = None
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._loop_thread: int | None = None

    def vendor_url(self, vendor: str) -> str:
        """The vendor's real base URL: in this mode clients keep their production settings."""
        return self.emulator.providers[vendor].spec.real_base_url

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> InProcessMock:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._loop_thread = self._portal.call(threading.get_ident)
        self._portal.call(self.emulator.start)
        self.router.start()
        for interceptor in self.interceptors.values():
            interceptor.start()
        return self

    def stop(self) -> None:
        for interceptor in self.interceptors.values():
            interceptor.stop()
        self.router.stop()
        if self._portal is not None and self._portal_cm is not None:
            try:
                self._portal.call(self.emulator.stop)
            finally:
                self._portal_cm.__exit__(None, None, None)
        self._portal = self._portal_cm = None

    def __enter__(self) -> InProcessMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drain_callbacks(self) -> None:
        """Deliver every callback that is due now and wait for the attempts to finish."""
        self._running_portal().call(self.callbacks.drain)

    # --- answering ----------------------------------------------------------------------------

    def _answer(self, request: httpx.Request) -> Any:
        """respx side effect: a response for sync clients, an awaitable for async ones."""
        if _ASYNC_CLIENT.get():
            return self._answer_async(request)
        return self.call_app(request.method, str(request.url), request.headers.multi_items(),
                             request.read())

    async def _answer_async(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return await self.call_app_async(request.method, str(request.url),
                                         request.headers.multi_items(), body)

    def call_app(self, method: str, url: str, headers: list[tuple[str, str]],
                 body: bytes) -> httpx.Response:
        """The app's answer to one request, for a client that waits in its own thread."""
        return self._running_portal().call(self._asgi, method, url, headers, body)

    async def call_app_async(self, method: str, url: str, headers: list[tuple[str, str]],
                             body: bytes) -> httpx.Response:
        """The app's answer to one request, for a client on an event loop."""
        args = (method, url, headers, body)
        if threading.get_ident() == self._loop_thread:  # the app calling itself (a callback)
            return await self._asgi(*args)
        future = self._running_portal().start_task_soon(self._asgi, *args)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): wait in a worker thread instead
            return await anyio.to_thread.run_sync(future.result)
        return await asyncio.wrap_future(future)

    async def _asgi(self, method: str, url: str, headers: list[tuple[str, str]],
                    body: bytes) -> httpx.Response:
        inner = httpx.Request(method, url, headers=headers, content=body)
        try:
            answer = await self._transport.handle_async_request(inner)
            content = await answer.aread()
        except BaseException as error:  # a dropped connection (fault) or an app crash
            if not isinstance(error, Exception) and _is_control_flow(error):
                raise
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=inner) from error
        return httpx.Response(answer.status_code, headers=answer.headers, content=content)

    def _running_portal(self) -> BlockingPortal:
        if self._portal is None:
            raise RuntimeError("the in-process mock is not started (use it as a context manager)")
        return self._portal


def _is_control_flow(error: BaseException) -> bool:
    """Cancellation and interpreter exits must propagate; other BaseExceptions (the fault
    injector's dropped connection) become a network error for the client."""
    cancelled = anyio.get_cancelled_exc_class()
    return isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit, cancelled))


def in_process(settings: Settings | None = None, **options: Any) -> Callable[[F], F]:
    """Decorator for sync or async functions: run them inside an `InProcessMock` (built with
    `options`, e.g. `block_other_hosts=True`), passed as the keyword argument `portrait_mock`
    when the function declares it."""
    def wrap(func: F) -> F:
        wants = "portrait_mock" in inspect.signature(func).parameters

        def extra(mock: InProcessMock) -> dict[str, Any]:
            return {"portrait_mock": mock} if wants else {}

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with InProcessMock(settings, **options) as mock:
                    return await func(*args, **kwargs, **extra(mock))
            return run_async  # type: ignore[return-value]  # the wrapper has F's signature

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with InProcessMock(settings, **options) as mock:
                return func(*args, **kwargs, **extra(mock))
        return run  # type: ignore[return-value]  # the wrapper has F's signature
    return wrap
