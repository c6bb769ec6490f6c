"""aiohttp in in-process mode, through the `aioresponses` library.

`aioresponses` replaces `ClientSession._request`, which every aiohttp request of every session
goes through, before a connector is asked for a connection. The mock is registered first for
every method, on a URL pattern of the hosts in the `HostMap`; routes a test adds to
`mock.aiohttp_mock` (the `aioresponses` API) come next; anything else is left to the
`OutboundPolicy`: passed through to the real `_request`, or refused with an
`aiohttp.ClientConnectionError` naming the host and the option.

aiohttp builds a request's body and default headers only once it has a connection, so they are
built here the way aiohttp builds them (payload registry, FormData, JSON with `json.dumps`,
`Accept`, `User-Agent`, `Content-Type` and `Content-Length` unless given). Cookies of the
session's jar and a session-wide `auth` are not added: no emulated vendor uses either.
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
from aiohttp import hdrs, payload
from aiohttp.http import SERVER_SOFTWARE
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict
from yarl import URL

from . import AsyncAppCall
from .hosts import BlockedHost, HostMap, OutboundPolicy

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
Callback = Callable[..., Awaitable[CallbackResult]]


class _Response(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds its responses without the `stream_writer` that aiohttp 3.14
    made a required argument. It is read only for the size of an upload already sent (here:
    none), so a stand-in with `output_size = 0` is enough; older aiohttp does not take it."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        if _TAKES_STREAM_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


_TAKES_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _Mock(aioresponses):
    """`aioresponses` that leaves unmatched requests to the policy instead of refusing all."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(passthrough_unmatched=True)
        self.policy = policy

    def add(self, *args: Any, **kwargs: Any) -> None:
        """`aioresponses.add`, with responses aiohttp 3.14 can build (see `_Response`)."""
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = _Response
        super().add(*args, **kwargs)

    async def match(self, method: str, url: URL, allow_redirects: bool = True,
                    **kwargs: Any) -> aiohttp.ClientResponse | None:
        found: aiohttp.ClientResponse | None = await super().match(
            method, url, allow_redirects=allow_redirects, **kwargs)
        if found is None:
            try:
                self.policy.check(method.upper(), str(url))
            except BlockedHost as blocked:
                raise aiohttp.ClientConnectionError(str(blocked)) from None
        return found


class AiohttpInterceptor:
    """Answers aiohttp requests in-process while started; `mock` is the `aioresponses` mock,
    for routes a test adds for its own hosts."""

    def __init__(self, hosts: HostMap, answer: AsyncAppCall, policy: OutboundPolicy) -> None:
        self.hosts = hosts
        self.answer = answer
        self.mock = _Mock(policy)

    def start(self) -> None:
        self.mock.start()  # starting clears the routes: add ours after it
        for method in METHODS:
            self.mock.add(self.hosts.url_pattern(), method=method, repeat=True,
                          callback=self._callback(method))

    def stop(self) -> None:
        self.mock.stop()

    def _callback(self, method: str) -> Callback:
        async def answer(url: URL, **request: Any) -> CallbackResult:
            headers, body = await _encode(method, url, request)
            try:
                reply = await self.answer(method, str(url), headers, body)
            except httpx.TransportError as error:  # a `drop` fault: the connection closed
                raise aiohttp.ServerDisconnectedError() from error
            return _result(method, reply)

        return answer


async def _encode(method: str, url: URL, request: dict[str, Any]) -> tuple[list[tuple[str, str]],
                                                                            bytes]:
    """The headers and body aiohttp would send for `session.request(method, url, **request)`."""
    headers: CIMultiDict[str] = CIMultiDict()
    for key, value in CIMultiDict(request.get("headers") or {}).items():
        headers.add(key, value)
    skip = {name.lower() for name in request.get("skip_auto_headers") or ()}
    if request.get("json") is not None:
        body: payload.Payload | None = payload.JsonPayload(request["json"], dumps=json.dumps)
    else:
        body = _payload(request.get("data"))
    auth = request.get("auth")
    if isinstance(auth, aiohttp.BasicAuth) and hdrs.AUTHORIZATION not in headers:
        headers[hdrs.AUTHORIZATION] = auth.encode()
    host = url.raw_host or ""
    if url.port is not None and not url.is_default_port():
        host += f":{url.port}"
    defaults: dict[str, str] = {hdrs.HOST: host, hdrs.ACCEPT: "*/*",
                                hdrs.USER_AGENT: SERVER_SOFTWARE}
    if body is not None:
        defaults.update(body.headers.items())
    content = await body.as_bytes() if body is not None else b""
    if body is not None or method not in ("GET", "HEAD", "OPTIONS"):
        defaults[hdrs.CONTENT_LENGTH] = str(len(content))
    for key, value in defaults.items():
        if key not in headers and key.lower() not in skip:
            headers[key] = value
    return list(headers.items()), content


def _payload(data: Any) -> payload.Payload | None:
    """aiohttp's own reading of `data=`: a payload it knows, else form fields."""
    if data is None:
        return None
    if isinstance(data, aiohttp.FormData):
        data = data()
    try:
        return payload.PAYLOAD_REGISTRY.get(data, disposition=None)
    except payload.LookupError:
        return aiohttp.FormData(data)()


def _result(method: str, reply: httpx.Response) -> CallbackResult:
    # aioresponses always sets a Content-Type; every answer of the mock carries its own.
    content_type = reply.headers.get("content-type", "application/octet-stream")
    headers = dict(reply.headers.items())  # repeated names joined with ", " (none here)
    try:
        reason = HTTPStatus(reply.status_code).phrase
    except ValueError:
        reason = ""
    return CallbackResult(method=method, status=reply.status_code, body=reply.content,
                          content_type=content_type, headers=headers, reason=reason,
                          response_class=_Response)
