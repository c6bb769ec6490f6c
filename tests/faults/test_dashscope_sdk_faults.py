"""Fault effects as the official `dashscope` SDK sees them, against a real server."""
from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import requests
from dashscope.client.base_api import BaseAsyncApi

KEY = "sk-sdk-faults"
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]


def submit(server) -> Any:
    return BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", api_key=KEY, base_address=f"{server.base_url}/api/v1",
        resources=LORA, style="f_business_female", n=1,
    )


def fetch(server, submitted: Any) -> Any:
    return BaseAsyncApi.fetch(submitted, api_key=KEY, base_address=f"{server.base_url}/api/v1")


def add_fault(server, **rule: Any) -> dict[str, Any]:
    answer = httpx.post(f"{server.base_url}/__admin/faults", json={"vendor": "dashscope", **rule})
    assert answer.status_code == 201, answer.text
    return answer.json()


def count(server, **pattern: Any) -> int:
    return httpx.post(f"{server.base_url}/__admin/requests/count", json=pattern).json()["count"]


@pytest.mark.parametrize(("code", "status"), [("InternalError", 500), ("Throttling", 429),
                                              ("InvalidApiKey", 401)])
def test_injected_errors_reach_the_sdk_as_the_vendor_would_send_them(server, code, status) -> None:
    add_fault(server, effect="error", code=code, times=1)
    failed = submit(server)
    assert failed.status_code == status and failed.code == code and failed.message
    assert submit(server).status_code == HTTPStatus.OK


def test_failed_task_through_fetch(server) -> None:
    add_fault(server, effect="fail_task", code="InternalError.Algo")
    submitted = submit(server)
    assert submitted.status_code == HTTPStatus.OK
    server.emulator.clock.advance(60)
    done = fetch(server, submitted)
    assert done.output["task_status"] == "FAILED" and done.output["code"] == "InternalError.Algo"


def test_stalled_task_stays_pending_for_the_sdk(server) -> None:
    add_fault(server, effect="stall")
    submitted = submit(server)
    server.emulator.clock.advance(3600)
    assert fetch(server, submitted).output["task_status"] == "PENDING"


def test_one_dropped_connection_is_retried_by_the_sdk(server) -> None:
    """dashscope 2.0.2 retries once on ConnectionError: one drop is invisible to the app."""
    add_fault(server, effect="drop", times=1, operation="gen_potrait")
    assert submit(server).status_code == HTTPStatus.OK
    assert count(server, operation="gen_potrait") == 2
    assert count(server, operation="gen_potrait", injected=True, status=0) == 1


def test_two_dropped_connections_surface_as_a_connection_error(server) -> None:
    add_fault(server, effect="drop", times=2, operation="gen_potrait")
    with pytest.raises(requests.exceptions.ConnectionError):
        submit(server)


def test_latency_slows_the_sdk_call(server) -> None:
    add_fault(server, effect="latency", latency=0.3, operation="gen_potrait")
    started = time.perf_counter()
    assert submit(server).status_code == HTTPStatus.OK
    assert time.perf_counter() - started >= 0.3
