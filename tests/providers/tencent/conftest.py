"""Helpers for the Tencent tests: a raw-HTTP API 3.0 client that signs with our signing modules
(TC3, or signature v1 with `v1="HmacSHA256"`), and the official SDK clients pointed at a real
server."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from mockserver.providers.tencent import signing_v1
from mockserver.providers.tencent.flat import flatten
from mockserver.providers.tencent.signing import sign_request
from mockserver.testing import fixture_url

SECRET_ID, SECRET_KEY = "AKIDmock", "mock-secret"


def fixture_submit(base_url: str) -> dict[str, Any]:
    """A valid submit whose images are the mock's own fixtures (the job really fetches them)."""
    return {"TemplateUrl": fixture_url(base_url, "template.jpg"),
            "FaceInfos": [{"ImageUrls": [fixture_url(base_url, "face.jpg")]}], "Num": 2}


@dataclass
class Api:
    """Signs and sends one API 3.0 request to the `mock` fixture; returns the raw answer."""

    mock: Any

    @property
    def host(self) -> str:
        return urlsplit(self.mock.base_url).netloc

    def now(self) -> int:
        return int(self.mock.emulator.clock.now())

    async def send(self, action: str, params: dict[str, Any] | None = None, *,
                   method: str = "POST", secret_id: str = SECRET_ID,
                   secret_key: str = SECRET_KEY, timestamp: int | None = None,
                   headers: dict[str, str] | None = None, v1: str | None = None,
                   **sign: Any) -> Any:
        """TC3 by default; `v1="HmacSHA256"` (or "HmacSHA1") signs with signature v1."""
        timestamp = self.now() if timestamp is None else timestamp
        if v1 is not None:
            fields = signing_v1.sign_params(
                secret_id=secret_id, secret_key=secret_key, host=self.host, action=action,
                timestamp=timestamp, params=params, method=method, signature_method=v1, **sign)
            signed = {"Content-Type": "application/x-www-form-urlencoded"}
            query, body = ((signing_v1.encode(fields), b"") if method == "GET"
                           else ("", signing_v1.encode(fields).encode()))
        else:
            query = urlencode(flatten(params or {})) if method == "GET" else ""
            signed, body = sign_request(
                secret_id=secret_id, secret_key=secret_key, host=self.host, action=action,
                timestamp=timestamp, params=params, method=method, query=query, **sign)
        signed.update(headers or {})
        url = "/?" + query if query else "/"
        answer = await self.mock.client.request(method, url, content=body, headers=signed)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        return answer

    async def call(self, action: str, params: dict[str, Any] | None = None,
                   **kwargs: Any) -> dict[str, Any]:
        """The `Response` object of an answer that must not be an error."""
        response = (await self.send(action, params, **kwargs)).json()["Response"]
        assert "Error" not in response, response
        assert response["RequestId"]
        return response

    async def error(self, action: str, params: dict[str, Any] | None = None,
                    **kwargs: Any) -> tuple[str, str]:
        """(Code, Message) of an answer that must be an error."""
        response = (await self.send(action, params, **kwargs)).json()["Response"]
        assert "Error" in response, response
        assert response["RequestId"]
        return response["Error"]["Code"], response["Error"]["Message"]

    async def submit(self, params: dict[str, Any] | None = None, **kwargs: Any) -> str:
        params = params or fixture_submit(self.mock.base_url)
        return (await self.call("SubmitGlamPicJob", params, **kwargs))["JobId"]

    async def query(self, job_id: str, **kwargs: Any) -> dict[str, Any]:
        return await self.call("QueryGlamPicJob", {"JobId": job_id}, **kwargs)


@pytest.fixture
def api(mock: Any) -> Api:
    return Api(mock)


@pytest.fixture
def sdk_profile() -> Callable[..., Any]:
    """A ClientProfile pointing the official SDK at a server (`endpoint` without scheme)."""
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    def build(server: Any, **profile: Any) -> ClientProfile:
        method = profile.pop("method", "POST")
        http = HttpProfile(endpoint=urlsplit(server.base_url).netloc, protocol="http",
                           reqMethod=method, reqTimeout=10)
        return ClientProfile(httpProfile=http, **profile)

    return build
