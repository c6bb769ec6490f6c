"""The interceptors in-process mode starts besides respx: one per HTTP client library that is
installed. A library that is installed but whose mock library is not would let its requests
reach the network, so that is an error, named at construction, not a silent leak."""
from __future__ import annotations

import importlib.util
from typing import Protocol

from . import EXTRA, AppCall, AsyncAppCall
from .hosts import HostMap, OutboundPolicy


class MissingInterceptor(RuntimeError):
    """A client library is installed without the library that keeps it in the process."""


class Interceptor(Protocol):
    @property
    def mock(self) -> object: ...  # the library's mock, for routes a test adds

    def start(self) -> None: ...

    def stop(self) -> None: ...


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _require(mock_library: str, client: str) -> None:
    if not _installed(mock_library):
        raise MissingInterceptor(
            f"{client} is installed but {mock_library} is not, so in-process mode could not "
            f"keep {client} calls in this process; install {EXTRA}")


def interceptors(hosts: HostMap, answer: AppCall, answer_async: AsyncAppCall,
                 policy: OutboundPolicy) -> dict[str, Interceptor]:
    """Client library name -> its interceptor (not started)."""
    found: dict[str, Interceptor] = {}
    if _installed("requests"):
        _require("responses", "requests")
        from .requests_transport import RequestsInterceptor

        found["requests"] = RequestsInterceptor(hosts, answer, policy)
    if _installed("aiohttp"):
        _require("aioresponses", "aiohttp")
        from .aiohttp_transport import AiohttpInterceptor

        found["aiohttp"] = AiohttpInterceptor(hosts, answer_async, policy)
    return found
