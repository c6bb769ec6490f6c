"""Every fault effect against Tencent aiart GlamPic: signed raw HTTP (both modes), near misses
on X-TC-Action, the documented job limits, and the official SDK against a real server."""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from mockserver.core.labels import mask
from mockserver.features.faults import ConnectionDropped
from mockserver.providers.tencent.signing import sign_request
from mockserver.settings import Settings
from mockserver.testing import fixture_url

pytestmark = pytest.mark.anyio

KEYS = {"AKIDmock": "mock-secret", "AKIDother": "other-secret"}


def job(base_url: str) -> dict[str, Any]:
    """A job whose images the mock can fetch and check (its own fixtures)."""
    return {"TemplateUrl": fixture_url(base_url, "template.jpg"),
            "FaceInfos": [{"ImageUrls": [fixture_url(base_url, "face.jpg")]}], "Num": 1}


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True, credentials={"tencent": KEYS})


async def send(mock, action: str, params: dict[str, Any], secret_id: str = "AKIDmock") -> dict[str, Any]:
    headers, body = sign_request(secret_id=secret_id, secret_key=KEYS[secret_id],
                                 host=urlsplit(mock.base_url).netloc, action=action,
                                 timestamp=int(mock.emulator.clock.now()), params=params)
    answer = await mock.client.post("/", content=body, headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return answer.json()["Response"]


async def submit(mock, secret_id: str = "AKIDmock") -> str:
    response = await send(mock, "SubmitGlamPicJob", job(mock.base_url), secret_id)
    assert "Error" not in response, response
    return response["JobId"]


async def query(mock, job_id: str, secret_id: str = "AKIDmock") -> dict[str, Any]:
    response = await send(mock, "QueryGlamPicJob", {"JobId": job_id}, secret_id)
    assert "Error" not in response, response
    return response


async def add_fault(mock, **rule: Any) -> dict[str, Any]:
    answer = await mock.client.post("/__admin/faults", json={"vendor": "tencent", **rule})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("code", ["InternalError", "RequestLimitExceeded",
                                  "ResourceUnavailable.InArrears", "AuthFailure.SignatureFailure"])
async def test_error_answers_http_200_with_response_error(mock, code: str) -> None:
    await add_fault(mock, effect="error", code=code, operation="SubmitGlamPicJob")
    response = await send(mock, "SubmitGlamPicJob", job(mock.base_url))
    assert response["Error"]["Code"] == code and response["Error"]["Message"]
    assert response["RequestId"]
    entry = (await mock.client.get("/__admin/requests", params={"vendor": "tencent"})).json()
    assert entry["requests"][0]["injected"] is True


async def test_account_match_uses_the_secret_id(mock) -> None:
    await add_fault(mock, effect="error", code="ResourceUnavailable.LowBalance", account="AKIDother")
    await submit(mock)
    response = await send(mock, "SubmitGlamPicJob", job(mock.base_url), "AKIDother")
    assert response["Error"]["Code"] == "ResourceUnavailable.LowBalance"


async def test_fail_task_gives_job_status_4_with_the_code(mock) -> None:
    await add_fault(mock, effect="fail_task", code="FailedOperation.GenerateImageFailed",
                    body={"Num": 1})
    job_id = await submit(mock)
    await mock.advance(40)
    failed = await query(mock, job_id)
    assert (failed["JobStatusCode"], failed["JobErrorCode"]) == (
        "4", "FailedOperation.GenerateImageFailed")
    assert failed["JobErrorMsg"]


async def test_stall_holds_the_job_waiting(mock) -> None:
    rule = await add_fault(mock, effect="stall")
    job_id = await submit(mock)
    await mock.advance(3600)
    assert (await query(mock, job_id))["JobStatusCode"] == "1"
    await mock.client.delete(f"/__admin/faults/{rule['id']}")
    await mock.advance(40)
    assert (await query(mock, job_id))["JobStatusCode"] == "5"


async def test_latency_and_drop(mock) -> None:
    await add_fault(mock, effect="drop", operation="QueryGlamPicJob", times=1)
    await add_fault(mock, effect="latency", latency=0.2, operation="QueryGlamPicJob")
    job_id = await submit(mock)
    with pytest.raises((httpx.TransportError, ConnectionDropped)):
        await query(mock, job_id)
    started = time.perf_counter()
    assert (await query(mock, job_id))["JobStatusCode"] in ("1", "2")
    assert time.perf_counter() - started >= 0.2


async def test_unknown_action_is_invalid_action_and_a_journaled_near_miss(mock) -> None:
    response = await send(mock, "SubmitGlamPicJobs", job(mock.base_url))
    assert response["Error"]["Code"] == "InvalidAction"
    entry = (await mock.client.get("/__admin/requests", params={"near_miss": "true"})).json()
    miss = entry["requests"][0]
    assert miss["vendor"] == "tencent" and miss["account"] == mask("AKIDmock")
    assert miss["note"]["near_miss"]["operation"] == "SubmitGlamPicJob"
    assert miss["note"]["near_miss"]["reason"] == (
        "header X-TC-Action is 'SubmitGlamPicJobs', expected 'SubmitGlamPicJob'")


async def test_one_job_processing_per_account(mock) -> None:
    first, second = await submit(mock), await submit(mock)
    other = await submit(mock, "AKIDother")
    await mock.advance(3)
    assert (await query(mock, first))["JobStatusCode"] == "2"
    assert (await query(mock, second))["JobStatusCode"] == "1"
    assert (await query(mock, other, "AKIDother"))["JobStatusCode"] == "2"


class TestJobNumExceed:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, credentials={"tencent": KEYS},
                        vendors={"tencent": {"max_queued": 1}})

    async def test_too_many_waiting_jobs(self, mock) -> None:
        await submit(mock)
        response = await send(mock, "SubmitGlamPicJob", job(mock.base_url))
        assert response["Error"]["Code"] == "RequestLimitExceeded.JobNumExceed"


def sdk_client(server) -> aiart_client.AiartClient:
    http = HttpProfile(endpoint=urlsplit(server.base_url).netloc, protocol="http", reqTimeout=10)
    return aiart_client.AiartClient(Credential("AKIDmock", KEYS["AKIDmock"]), "ap-guangzhou",
                                    ClientProfile(httpProfile=http))


def sdk_submit(client: aiart_client.AiartClient, base_url: str) -> str:
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps(job(base_url)))
    return client.SubmitGlamPicJob(request).JobId


def sdk_query(client: aiart_client.AiartClient, job_id: str) -> models.QueryGlamPicJobResponse:
    request = models.QueryGlamPicJobRequest()
    request.JobId = job_id
    return client.QueryGlamPicJob(request)


def add_fault_sync(server, **rule: Any) -> None:
    answer = httpx.post(f"{server.base_url}/__admin/faults", json={"vendor": "tencent", **rule})
    assert answer.status_code == 201, answer.text


def test_sdk_raises_the_injected_code(server) -> None:
    add_fault_sync(server, effect="error", code="RequestLimitExceeded", times=1)
    client = sdk_client(server)
    with pytest.raises(TencentCloudSDKException) as raised:
        sdk_submit(client, server.base_url)
    assert raised.value.get_code() == "RequestLimitExceeded"
    assert sdk_submit(client, server.base_url)


def test_sdk_sees_the_failed_job(server) -> None:
    add_fault_sync(server, effect="fail_task", code="FailedOperation.GenerateImageFailed")
    client = sdk_client(server)
    job_id = sdk_submit(client, server.base_url)
    server.emulator.clock.advance(40)
    failed = sdk_query(client, job_id)
    assert (failed.JobStatusCode, failed.JobErrorCode) == ("4", "FailedOperation.GenerateImageFailed")


def test_sdk_reports_a_dropped_connection_as_a_network_error(server) -> None:
    add_fault_sync(server, effect="drop", times=1)
    client = sdk_client(server)
    with pytest.raises(TencentCloudSDKException) as raised:
        sdk_submit(client, server.base_url)
    assert raised.value.get_code() == "ClientNetworkError"
    assert sdk_submit(client, server.base_url)  # the SDK does not retry by default; the next call works
