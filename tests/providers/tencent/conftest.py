"""Helpers for the Tencent tests: a raw-HTTP API 3.0 client that signs with our signing module,
and the official SDK clients pointed at a real server."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from mockserver.providers.tencent.signing import sign_request
from mockserver.testing import fixture_url

SECRET_ID, SECRET_KEY = "AKIDmock", "mock-secret"


def fixture_submit(base_url: str) -> dict[str, Any]:
    """A valid submit whose images are the mock's own fixtures (the job really fetches them)."""
    return {"TemplateUrl": fixture_url(base_url, "template.jpg"),
            "FaceInfos": [{"ImageUrls": [fixture_url(base_url, "face.jpg")]}], "Num": 2}


def flatten(params: Any, prefix: str = "") -> list[tuple[str, str]]:
    """API 3.0 GET encoding, as the SDK's `_format_params` does it."""
    if isinstance(params, dict):
        items = params.items()
    elif isinstance(params, list):
        items = ((str(i), v) for i, v in enumerate(params))
    else:
        return [(prefix, str(params))]
    return [pair for k, v in items for pair in flatten(v, f"{prefix}.{k}" if prefix else k)]


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
                   headers: dict[str, str] | None = None, **sign: Any) -> Any:
        query = urlencode(flatten(params or {})) if method == "GET" else ""
        signed, body = sign_request(
            secret_id=secret_id, secret_key=secret_key, host=self.host, action=action,
            timestamp=self.now() if timestamp is None else timestamp, params=params,
            method=method, query=query, **sign)
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
