"""The vendors' official SDKs, unchanged, against the mock in this process: only the key (or
Tencent's credential) is the mock's. No server, no base URL; this file passes with the network
unplugged (`tests/ecosystem/test_examples.py` runs it in a network namespace with no route).

    python -m pytest examples/test_sdks_inprocess.py
"""
from __future__ import annotations

import json

import dashscope
import httpx
import pytest
import requests
from dashscope.api_entities.aio_session import close_shared_aio_session
from dashscope.client.base_api import BaseAsyncAioApi, BaseAsyncApi
from tencentcloud.aiart.v20221229 import aiart_client, aiart_client_async, models

# Hermetic: a host that is not a vendor's (nor loopback) fails instead of reaching the network.
pytestmark = pytest.mark.portrait_mock(block_other_hosts=True)

KEY = "sk-my-app"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the SDKs' async clients (aiohttp, httpx) run on asyncio
PORTRAIT = dict(model="facechain-generation", input={}, task_group="aigc", task="album",
                function="gen_potrait", style="f_idcard_female", n=1,
                resources=[{"resource_id": "my-lora", "resource_type": "facelora"}])
FIXTURES = "https://portrait-mockserver.invalid/__admin/fixtures"


def test_dashscope_1x_api(portrait_mock_inprocess) -> None:
    task = BaseAsyncApi.async_call(api_key=KEY, **PORTRAIT)  # requests
    portrait_mock_inprocess.advance(60)
    done = BaseAsyncApi.wait(task, api_key=KEY)
    assert done.output["task_status"] == "SUCCEEDED"
    assert requests.get(done.output["results"][0]["url"]).headers["content-type"] == "image/jpeg"


@pytest.mark.anyio
async def test_dashscope_1x_aio_api(portrait_mock_inprocess) -> None:
    task = await BaseAsyncAioApi.async_call(api_key=KEY, **PORTRAIT)  # aiohttp
    portrait_mock_inprocess.advance(60)
    done = await BaseAsyncAioApi.wait(task, api_key=KEY)
    assert done.output["task_status"] == "SUCCEEDED"
    await close_shared_aio_session()


def test_dashscope_2x_client(portrait_mock_inprocess) -> None:
    with dashscope.Client(api_key=KEY, workspace="ws-my-team", max_retries=0) as client:  # httpx
        body = {"model": PORTRAIT["model"], "resources": PORTRAIT["resources"],
                "parameters": {"style": PORTRAIT["style"], "n": 1}}
        submitted = client.transport.request("POST", "/services/aigc/album/gen_potrait",
                                             json=body, headers={"X-DashScope-Async": "enable"})
        portrait_mock_inprocess.advance(60)
        done = client.images.jobs.wait(submitted.json()["output"]["task_id"])
    assert done.succeeded and httpx.get(done.image_urls[0]).status_code == 200


def glampic() -> models.SubmitGlamPicJobRequest:
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps({"TemplateUrl": f"{FIXTURES}/template.jpg",
                                         "FaceInfos": [{"ImageUrls": [f"{FIXTURES}/face.jpg"]}]}))
    return request


def test_tencent_sync_client(portrait_mock_inprocess) -> None:
    client = aiart_client.AiartClient(portrait_mock_inprocess.tencent_credential(),
                                      "ap-guangzhou")  # requests, TC3-signed
    job_id = client.SubmitGlamPicJob(glampic()).JobId
    portrait_mock_inprocess.advance(60)
    query = models.QueryGlamPicJobRequest()
    query.JobId = job_id
    assert client.QueryGlamPicJob(query).JobStatusCode == "5"


@pytest.mark.anyio
async def test_tencent_async_client(portrait_mock_inprocess) -> None:
    client = aiart_client_async.AiartClient(portrait_mock_inprocess.tencent_credential(),
                                            "ap-guangzhou")  # httpx
    assert (await client.SubmitGlamPicJob(glampic())).JobId


def test_an_unmocked_vendor_path_never_leaves_the_process(portrait_mock_inprocess) -> None:
    answer = requests.post("https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions",
                           json={"model": "qwen-plus"}, headers={"Authorization": f"Bearer {KEY}"})
    assert (answer.status_code, answer.json()["code"]) == (404, "NotFound")  # DashScope's own
    with pytest.raises(requests.ConnectionError, match="block_other_hosts"):
        requests.get("https://example.com/")
