"""`requests` in in-process mode, through the `responses` library.

`responses` replaces `HTTPAdapter.send`, the one door every `requests` session goes through
(sessions the SDKs build themselves included), so no connection is ever opened for a mocked
host. Its registry decides which answer a request gets; ours asks, in this order: the mock
(every request to a host in the `HostMap`), the routes a test added to `mock.requests_mock`
(`mock.requests_mock.get(url, json=...)`, the `responses` API), then the `OutboundPolicy`
(pass through to the network, or a `requests.ConnectionError` naming the host and the option).
"""
from __future__ import annotations

import re
from typing import Any

import httpx
import requests
import responses
from requests import PreparedRequest
from responses.registries import FirstMatchRegistry

from . import AppCall
from .hosts import BlockedHost, HostMap, OutboundPolicy, host_of

ANY_URL = re.compile(".*")


class _Answered(responses.CallbackResponse):
    """Every request to a host the mock answers, whatever its method and path."""

    def __init__(self, hosts: HostMap, answer: AppCall) -> None:
        super().__init__("GET", ANY_URL, self._call, content_type=None)
        self.hosts = hosts
        self.answer = answer

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        if self.hosts.answers(host_of(request.url or "")):
            return True, ""
        return False, "not a host the mock answers"

    def _call(self, request: PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            answer = self.answer(request.method or "GET", request.url or "",
                                 _headers(request), _body_bytes(request.body))
        except httpx.TransportError as error:  # a `drop` fault: the connection closed
            raise requests.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))", request=request) from error
        return answer.status_code, answer.headers.multi_items(), answer.content


class _Refused(responses.CallbackResponse):
    """A request the policy keeps in the process: a connection error, as if refused."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__("GET", ANY_URL, self._call, content_type=None)
        self.policy = policy

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        try:
            self.policy.check(request.method or "GET", request.url or "")
        except BlockedHost:
            return True, ""
        return False, "allowed by the policy"

    def _call(self, request: PreparedRequest) -> Exception:
        try:
            self.policy.check(request.method or "GET", request.url or "")
        except BlockedHost as blocked:
            return requests.ConnectionError(str(blocked), request=request)
        raise AssertionError("matched a request the policy allows")  # matches() said no


class _Registry(FirstMatchRegistry):
    """The mock first, then the test's own routes, then the policy (refuse or pass)."""

    def __init__(self, first: tuple[responses.BaseResponse, ...],
                 last: tuple[responses.BaseResponse, ...]) -> None:
        super().__init__()
        self.first, self.last = first, last

    def find(self, request: PreparedRequest) -> tuple[responses.BaseResponse | None, list[str]]:
        for response in self.first:
            if response.matches(request)[0]:
                return response, []
        found, reasons = super().find(request)
        if found is not None:
            return found, reasons
        for response in self.last:
            if response.matches(request)[0]:
                return response, reasons
        return None, reasons


class _Passing(responses.PassthroughResponse):
    def __init__(self) -> None:
        super().__init__("GET", ANY_URL)

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        return True, ""  # any method: whatever the policy lets go, goes out


class _RequestsMock(responses.RequestsMock):
    """A `responses` mock whose registry always holds the mock's layers, even after a test
    calls `reset()` (which would otherwise put a plain registry in their place)."""

    def __init__(self, hosts: HostMap, answer: AppCall, policy: OutboundPolicy) -> None:
        self._layers = ((_Answered(hosts, answer),), (_Refused(policy), _Passing()))
        super().__init__(assert_all_requests_are_fired=False)
        self.reset()

    def reset(self) -> None:
        super().reset()
        layers = getattr(self, "_layers", None)
        if layers is not None:
            self._registry = _Registry(*layers)


class RequestsInterceptor:
    """Answers `requests` calls in-process while started; `mock` is the `responses` mock,
    for routes a test adds for its own hosts."""

    def __init__(self, hosts: HostMap, answer: AppCall, policy: OutboundPolicy) -> None:
        self.mock: responses.RequestsMock = _RequestsMock(hosts, answer, policy)

    def start(self) -> None:
        self.mock.start()

    def stop(self) -> None:
        self.mock.stop(allow_assert=False)
        self.mock.reset()


def _headers(request: PreparedRequest) -> list[tuple[str, str]]:
    return [(name, value.decode("latin-1") if isinstance(value, bytes) else value)
            for name, value in request.headers.items()]


def _body_bytes(body: Any) -> bytes:
    """The bytes `requests` would send. A str body goes out as http.client sends it
    (ISO-8859-1), so text it could not encode fails here as it would on a socket."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("iso-8859-1")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return b"".join(chunk.encode("iso-8859-1") if isinstance(chunk, str) else bytes(chunk)
                    for chunk in body)  # a generator: sent chunked
