"""respx mode: httpx calls to the vendors' real hostnames are answered in-process."""
from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mockserver.respx_mode import PUBLIC_URL, InProcessMock, in_process
from mockserver.settings import Settings
from mockserver.testing import CallbackReceiver

pytestmark = pytest.mark.anyio

DASHSCOPE = "https://dashscope.aliyuncs.com/api/v1"
DS_HEADERS = {"Authorization": "Bearer sk-app", "X-DashScope-Async": "enable"}
DS_BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
           "resources": [{"resource_id": "my-lora", "resource_type": "facelora"}]}
ACEDATA_BODY = {"mode": "fast", "template": "male_portrait", "async": True,
                "image_urls": ["https://cdn.example.com/me.jpg"]}


@pytest.fixture
def inproc() -> Iterator[InProcessMock]:
    with InProcessMock(Settings(validate_responses=True)) as mock:
        yield mock
    mock.assert_schema_clean()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def test_sync_client_task_lifecycle_with_result_download(inproc: InProcessMock) -> None:
    submitted = httpx.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait", json=DS_BODY,
                           headers=DS_HEADERS)
    assert submitted.status_code == 200
    task_id = submitted.json()["output"]["task_id"]
    inproc.advance(120)
    done = httpx.get(f"{DASHSCOPE}/tasks/{task_id}", headers=DS_HEADERS).json()
    url = done["output"]["results"][0]["url"]
    assert url.startswith(PUBLIC_URL + "/results/dashscope/")
    image = httpx.get(url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert [e.operation for e in inproc.requests("dashscope")] == ["query_task", "gen_potrait"]


async def test_async_client_is_answered_too(inproc: InProcessMock) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait",
                                   json=DS_BODY, headers=DS_HEADERS)
        assert answer.status_code == 200
        again = await client.get(f"{DASHSCOPE}/tasks/{answer.json()['output']['task_id']}",
                                 headers=DS_HEADERS)
    assert again.json()["output"]["task_status"] == "PENDING"


@pytest.mark.parametrize("host", ["aiart.tencentcloudapi.com",
                                  "aiart.ap-shanghai.tencentcloudapi.com",
                                  "aiart.intl.tencentcloudapi.com"])
def test_every_vendor_host_is_served(inproc: InProcessMock, host: str) -> None:
    tencent = httpx.post(f"https://{host}/", json={})
    assert tencent.headers["content-type"] == "application/json"
    assert tencent.json()["Response"]["Error"]["Code"].startswith(("MissingParameter", "AuthFailure"))
    acedata = httpx.post("https://api.acedata.cloud/headshots/generate", json=ACEDATA_BODY,
                         headers={"Authorization": "Bearer sk-app"})
    assert set(acedata.json()) == {"task_id", "trace_id"}
    gptge = httpx.get("https://api.gpt.ge/task/no-such-task", headers={"Authorization": "Bearer sk-app"})
    assert gptge.status_code in (200, 404) and "status" in gptge.json()
    assert {e.vendor for e in inproc.requests()} == {"tencent", "acedata", "gptge"}


async def test_tencent_async_sdk_with_production_settings(inproc: InProcessMock) -> None:
    from tencentcloud.aiart.v20221229 import aiart_client_async, models
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    client = aiart_client_async.AiartClient(inproc.tencent_credential(), "ap-shanghai")
    query = models.QueryGlamPicJobRequest()
    query.JobId = "no-such-job"
    with pytest.raises(TencentCloudSDKException) as raised:
        await client.QueryGlamPicJob(query)
    assert raised.value.get_code() == "FailedOperation.JobNotExist"  # the signature passed
    assert inproc.requests("tencent")[0].account == inproc.tencent_secret[0]


def test_other_hosts_pass_through_to_the_network(inproc: InProcessMock) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:9/", timeout=2)  # nothing listens on the discard port


def test_callbacks_reach_a_real_receiver_and_respx_routes(inproc: InProcessMock,
                                                          receiver: CallbackReceiver) -> None:
    mocked = inproc.router.post("https://my-app.test/hook").respond(204)
    for target in (receiver.url, "https://my-app.test/hook"):
        answer = httpx.post("https://api.acedata.cloud/headshots/generate",
                            json={**ACEDATA_BODY, "callback_url": target},
                            headers={"Authorization": "Bearer sk-app"})
        assert answer.status_code == 200, answer.text
    inproc.advance(3600)
    inproc.drain_callbacks()
    assert len(receiver.bodies) == 1 and receiver.bodies[0]["success"] is True
    assert mocked.call_count == 1
    assert json.loads(mocked.calls.last.request.content)["success"] is True
    assert {r["status"] for r in inproc.callback_records()} == {"delivered"}


def test_dropped_connection_fault_is_a_network_error(inproc: InProcessMock) -> None:
    inproc.add_fault(vendor="dashscope", effect="drop", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait", json=DS_BODY,
                   headers=DS_HEADERS)
    assert httpx.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait", json=DS_BODY,
                      headers=DS_HEADERS).status_code == 200


def test_decorator_for_sync_functions() -> None:
    @in_process()
    def app_code(portrait_mock: InProcessMock) -> int:
        httpx.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait", json=DS_BODY,
                   headers=DS_HEADERS)
        return len(portrait_mock.tasks())

    assert app_code() == 1


def test_decorator_passes_in_process_options() -> None:
    @in_process(block_other_hosts=True)
    def app_code() -> None:
        httpx.get("https://example.com/")

    with pytest.raises(httpx.ConnectError, match="block_other_hosts=True"):
        app_code()


async def test_decorator_for_async_functions() -> None:
    @in_process(Settings(strict_auth=True))
    async def app_code() -> int:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{DASHSCOPE}/services/aigc/album/gen_potrait",
                                       json=DS_BODY, headers=DS_HEADERS)
        return answer.status_code

    assert await app_code() == 401  # strict auth: sk-app is not a configured key


def test_nothing_is_patched_after_the_block() -> None:
    from respx.mocks import HTTPCoreMocker

    with InProcessMock() as mock:
        assert mock.router in HTTPCoreMocker.routers
    assert mock.router not in HTTPCoreMocker.routers


def test_mock_fetches_input_images_from_the_public_host_in_process(inproc: InProcessMock) -> None:
    """gpt.ge downloads `image_url`; a fixture URL on the public host is answered in-process."""
    answer = httpx.post("https://api.gpt.ge/task/pic/idphoto",
                        headers={"Authorization": "Bearer sk-app"},
                        files={"image_url": (None, f"{PUBLIC_URL}/__admin/fixtures/face.jpg")},
                        data={"size": "300x400", "format": "png", "sync": "1"}, timeout=60)
    data = answer.json()["data"]
    assert (data["state"], data["image_width"], data["image_height"]) == (1, 300, 400)
    photo = httpx.get(data["image"])
    assert photo.headers["content-type"] == "image/png"
