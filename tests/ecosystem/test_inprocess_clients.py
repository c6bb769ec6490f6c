"""In-process mode for every HTTP client the vendors' official SDKs use: httpx, requests and
aiohttp. The SDKs run unchanged, with their production hosts and only the key changed, while
the network is unplugged for the test: every socket that would reach anything but loopback
fails loudly and is listed, and the list must stay empty."""
from __future__ import annotations

import errno
import io
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import dashscope
import httpx
import pytest
import requests
from dashscope.api_entities.aio_session import close_shared_aio_session
from dashscope.client.base_api import BaseAsyncAioApi, BaseAsyncApi
from PIL import Image
from tencentcloud.aiart.v20221229 import aiart_client, aiart_client_async, models
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from mockserver.interception import install
from mockserver.interception.hosts import is_loopback
from mockserver.providers import provider_classes
from mockserver.respx_mode import PUBLIC_URL, InProcessMock
from mockserver.settings import Settings
from mockserver.testing import CallbackReceiver

pytestmark = pytest.mark.anyio

KEY = "sk-my-real-app"  # the only thing a user changes
LORA = [{"resource_id": "my-lora", "resource_type": "facelora"}]
SDK_CALL = dict(model="facechain-generation", input={}, task_group="aigc", task="album",
                function="gen_potrait", style="f_idcard_male", n=1, resources=LORA)
SUBMIT_BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 1},
               "resources": LORA}
FIXTURES = f"{PUBLIC_URL}/__admin/fixtures"
ACEDATA_BODY = {"mode": "fast", "template": "male_portrait", "async": True,
                "image_urls": ["https://cdn.example.com/me.jpg"]}


@pytest.fixture
def unplugged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Only loopback is reachable: name lookups and connects to anything else raise, and are
    listed (an SDK that swallowed the error would still leave its attempt here)."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if host is not None and not is_loopback(name):
            attempts.append(f"resolve {name}")
            raise socket.gaierror(socket.EAI_NONAME, f"network unplugged by the test: {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            attempts.append(f"connect {address[0]}")
            raise OSError(errno.ENETUNREACH, f"network unplugged by the test: {address[0]}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        try:
            connect(sock, address)
        except OSError as error:
            return error.errno or errno.ENETUNREACH
        return 0

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    assert attempts == [], f"sockets to the network were attempted: {attempts}"


@pytest.fixture
def mock(unplugged: list[str]) -> Iterator[InProcessMock]:
    with InProcessMock(Settings(validate_responses=True)) as running:
        yield running
    running.assert_schema_clean()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def hosts_called(mock: InProcessMock, vendor: str) -> list[str]:
    return [e.headers.get("host", "") for e in reversed(mock.requests(vendor))]


def is_jpeg(content: bytes) -> bool:
    return Image.open(io.BytesIO(content)).format == "JPEG"


# --- DashScope: the 1.x API (requests, aiohttp) and the 2.x client (httpx) -----------------------


def test_dashscope_1x_sync_sdk(mock: InProcessMock) -> None:
    assert dashscope.base_http_api_url == "https://dashscope.aliyuncs.com/api/v1"  # production
    task = BaseAsyncApi.async_call(api_key=KEY, **SDK_CALL)
    assert task.status_code == 200 and task.output["task_status"] == "PENDING"
    assert BaseAsyncApi.fetch(task, api_key=KEY).output["task_status"] in {"PENDING", "RUNNING"}
    mock.advance(60)
    done = BaseAsyncApi.wait(task, api_key=KEY)
    assert done.output["task_status"] == "SUCCEEDED"
    assert is_jpeg(requests.get(done.output["results"][0]["url"]).content)
    refused = BaseAsyncApi.cancel(task, api_key=KEY)  # only a PENDING task can be canceled
    assert (refused.status_code, refused.code) == (400, "UnsupportedOperation")
    assert set(hosts_called(mock, "dashscope")) == {"dashscope.aliyuncs.com"}
    assert mock.tasks("dashscope")[0].account == KEY


async def test_dashscope_1x_aiohttp_sdk(mock: InProcessMock) -> None:
    task = await BaseAsyncAioApi.async_call(api_key=KEY, **SDK_CALL)
    assert task.status_code == 200 and task.output["task_status"] == "PENDING"
    mock.advance(60)
    fetched = await BaseAsyncAioApi.fetch(task, api_key=KEY)  # GET .../tasks/{id}/ (slash)
    done = await BaseAsyncAioApi.wait(task, api_key=KEY)
    assert fetched.output["task_status"] == done.output["task_status"] == "SUCCEEDED"
    async with aiohttp.ClientSession() as session:
        async with session.get(done.output["results"][0]["url"]) as image:
            assert image.content_type == "image/jpeg" and is_jpeg(await image.read())
    assert [e.operation for e in reversed(mock.requests("dashscope"))] == \
        ["gen_potrait", "query_task", "query_task"]
    await close_shared_aio_session()  # the SDK keeps one session per event loop


def test_dashscope_2x_client_on_a_workspace_host(mock: InProcessMock) -> None:
    with dashscope.Client(api_key=KEY, workspace="ws-portrait", max_retries=0) as client:
        assert client.config.base_url == "https://ws-portrait.cn-beijing.maas.aliyuncs.com/api/v1"
        submitted = client.transport.request("POST", "/services/aigc/album/gen_potrait",
                                             json=SUBMIT_BODY,
                                             headers={"X-DashScope-Async": "enable"})
        task_id = submitted.json()["output"]["task_id"]
        assert client.images.jobs.fetch(task_id).status in {"PENDING", "RUNNING"}
        mock.advance(60)
        done = client.images.jobs.wait(task_id)
    assert done.succeeded and is_jpeg(httpx.get(done.image_urls[0]).content)
    assert set(hosts_called(mock, "dashscope")) == {"ws-portrait.cn-beijing.maas.aliyuncs.com"}


@pytest.mark.parametrize("region, host", [("cn-beijing", "dashscope.aliyuncs.com"),
                                          ("ap-southeast-1", "dashscope-intl.aliyuncs.com"),
                                          ("cn-hongkong", "cn-hongkong.dashscope.aliyuncs.com")])
async def test_dashscope_2x_async_client_on_the_shared_gateways(mock: InProcessMock, region: str,
                                                                host: str) -> None:
    with pytest.warns(UserWarning, match="no workspace configured"):  # the SDK's own advice
        client = dashscope.AsyncClient(api_key=KEY, region=region, max_retries=0)
    async with client:
        submitted = await client.transport.request(
            "POST", "/services/aigc/album/gen_potrait", json=SUBMIT_BODY,
            headers={"X-DashScope-Async": "enable"})
        mock.advance(60)
        done = await client.images.jobs.wait(submitted.json()["output"]["task_id"])
    assert done.succeeded
    assert set(hosts_called(mock, "dashscope")) == {host}


# --- Tencent: AiartClient (requests, TC3) and the async client (httpx) ---------------------------


def glampic_request() -> models.SubmitGlamPicJobRequest:
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps({"TemplateUrl": f"{FIXTURES}/template.jpg",
                                         "FaceInfos": [{"ImageUrls": [f"{FIXTURES}/face.jpg"]}]}))
    return request


def query_request(job_id: str) -> models.QueryGlamPicJobRequest:
    request = models.QueryGlamPicJobRequest()
    request.JobId = job_id
    return request


def test_tencent_sync_sdk_with_its_production_endpoint(mock: InProcessMock) -> None:
    client = aiart_client.AiartClient(mock.tencent_credential(), "ap-shanghai")  # no profile
    job_id = client.SubmitGlamPicJob(glampic_request()).JobId
    mock.advance(60)
    done = client.QueryGlamPicJob(query_request(job_id))
    assert done.JobStatusCode == "5"  # 处理完成
    assert is_jpeg(requests.get(done.ResultImage[0]).content)
    assert hosts_called(mock, "tencent") == ["aiart.tencentcloudapi.com"] * 2
    assert mock.requests("tencent")[0].account == mock.tencent_secret[0]  # TC3 checked


def test_tencent_sync_sdk_on_a_regional_endpoint(mock: InProcessMock) -> None:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint="aiart.ap-shanghai.tencentcloudapi.com"))
    client = aiart_client.AiartClient(mock.tencent_credential(), "ap-shanghai", profile)
    with pytest.raises(TencentCloudSDKException) as raised:
        client.QueryGlamPicJob(query_request("no-such-job"))
    assert raised.value.get_code() == "FailedOperation.JobNotExist"  # the signature passed
    assert hosts_called(mock, "tencent") == ["aiart.ap-shanghai.tencentcloudapi.com"]


async def test_tencent_async_sdk_with_its_production_endpoint(mock: InProcessMock) -> None:
    client = aiart_client_async.AiartClient(mock.tencent_credential(), "ap-guangzhou")
    job_id = (await client.SubmitGlamPicJob(glampic_request())).JobId
    mock.advance(60)
    assert (await client.QueryGlamPicJob(query_request(job_id))).JobStatusCode == "5"
    assert hosts_called(mock, "tencent") == ["aiart.tencentcloudapi.com"] * 2


# --- every published host, and unmocked paths on them ----------------------------------------


def published_hosts() -> list[tuple[str, str]]:
    """Every exact host the vendors declare, plus one example of each templated host."""
    examples = {"dashscope": ["ws-1a2b.cn-beijing.maas.aliyuncs.com",
                              "ws-9.ap-southeast-1.maas.aliyuncs.com"],
                "tencent": ["aiart.ap-guangzhou.tencentcloudapi.com",
                            "aiart.intl.tencentcloudapi.com"]}
    found = []
    for spec in (cls.spec for cls in provider_classes()):
        assert bool(spec.host_patterns) == (spec.name in examples), spec.name
        found += [(spec.name, host) for host in (*spec.hosts, *examples.get(spec.name, ()))]
    return found


@pytest.mark.parametrize("vendor, host", published_hosts())
def test_every_published_host_is_answered_for_every_client(mock: InProcessMock, vendor: str,
                                                           host: str) -> None:
    url = f"https://{host}/portrait-mockserver/not-emulated"
    answers = [requests.get(url).status_code, httpx.get(url).status_code]
    assert all(status in (200, 404) for status in answers), answers  # Tencent errors are 200
    assert [e.vendor for e in mock.requests()] == [vendor, vendor]
    assert all(e.note.get("near_miss") is not None for e in mock.requests())


CLIENTS = ["httpx", "requests", "aiohttp"]


async def send(client: str, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """One request with one client library: (status, parsed JSON body)."""
    if client == "httpx":
        async with httpx.AsyncClient() as http:
            answer = await http.request(method, url, **kwargs)
            return answer.status_code, answer.json()
    if client == "requests":
        done = requests.request(method, url, **kwargs)
        return done.status_code, done.json()
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, **kwargs) as reply:
            return reply.status, await reply.json(content_type=None)


@pytest.mark.parametrize("client", CLIENTS)
async def test_paths_the_mock_does_not_emulate_get_the_vendors_not_found(mock: InProcessMock,
                                                                         client: str) -> None:
    bearer = {"Authorization": f"Bearer {KEY}"}
    chat = await send(client, "POST", "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/"
                      "completions", json={"model": "qwen-plus"}, headers=bearer)
    assert chat[0] == 404 and chat[1]["code"] == "NotFound"
    # Another vendor's API on AceData's host is not AceData's API.
    other = await send(client, "GET", "https://api.acedata.cloud/api/v1/tasks/x", headers=bearer)
    assert other[0] == 404 and other[1]["error"]["code"] == "no_api"
    # Neither is the mock's admin API: this reset must not happen.
    httpx.post("https://api.acedata.cloud/headshots/generate", json=ACEDATA_BODY, headers=bearer)
    reset = await send(client, "POST", "https://api.gpt.ge/__admin/reset")
    assert reset[0] == 404 and reset[1]["status"] == 404 and len(mock.tasks("acedata")) == 1
    # Tencent's API is "/": any other path, like an unknown action, is InvalidAction.
    tencent = await send(client, "GET", "https://aiart.tencentcloudapi.com/v2/jobs")
    assert tencent[1]["Response"]["Error"]["Code"] == "InvalidAction"
    assert [(e.vendor, e.status) for e in reversed(mock.requests()) if e.operation is None] == \
        [("dashscope", 404), ("acedata", 404), ("gptge", 404), ("tencent", 200)]


def test_an_unknown_tencent_action_is_invalid_action(mock: InProcessMock) -> None:
    client = CommonClient("aiart", "2022-12-29", mock.tencent_credential(), "ap-guangzhou")
    with pytest.raises(TencentCloudSDKException) as raised:
        client.call_json("DescribeNoSuchThing", {})
    assert raised.value.get_code() == "InvalidAction"


# --- other hosts: the policy ------------------------------------------------------------------


@pytest.fixture
def hermetic() -> Iterator[InProcessMock]:
    with InProcessMock(block_other_hosts=True) as running:
        yield running


@pytest.mark.parametrize("client, error", [("httpx", httpx.ConnectError),
                                           ("requests", requests.ConnectionError),
                                           ("aiohttp", aiohttp.ClientConnectionError)])
async def test_block_other_hosts_refuses_every_other_host(unplugged: list[str],
                                                          hermetic: InProcessMock,
                                                          receiver: CallbackReceiver,
                                                          client: str, error: type) -> None:
    with pytest.raises(error, match=r"refused GET https://example\.com/x: example\.com is not a "
                                    r"vendor host, and block_other_hosts=True"):
        await send(client, "GET", "https://example.com/x")
    # loopback peers (a test's own receiver) stay reachable
    if client == "aiohttp":
        async with aiohttp.ClientSession() as session:
            await session.post(receiver.url, json={"client": client})
    elif client == "requests":
        requests.post(receiver.url, json={"client": client})
    else:
        httpx.post(receiver.url, json={"client": client})
    assert receiver.bodies == [{"client": client}]


@pytest.mark.parametrize("client", CLIENTS)
async def test_loopback_can_be_blocked_too(unplugged: list[str], receiver: CallbackReceiver,
                                           client: str) -> None:
    with InProcessMock(block_other_hosts=True, allow_loopback=False):
        with pytest.raises(Exception, match="keeps every other host off the network"):
            await send(client, "POST", receiver.url, json={})
    assert receiver.bodies == []


def test_the_mock_delivers_callbacks_only_where_the_policy_allows(
        unplugged: list[str], hermetic: InProcessMock, receiver: CallbackReceiver) -> None:
    for target in (receiver.url, "https://hooks.example.com/portrait"):
        answer = requests.post("https://api.acedata.cloud/headshots/generate",
                               json={**ACEDATA_BODY, "callback_url": target},
                               headers={"Authorization": f"Bearer {KEY}"})
        assert answer.status_code == 200, answer.text
    hermetic.advance(3600)
    hermetic.drain_callbacks()
    assert len(receiver.bodies) == 1 and receiver.bodies[0]["success"] is True
    outcomes = {r["url"]: r["delivered_at"] is not None for r in hermetic.callback_records()}
    assert outcomes == {receiver.url: True, "https://hooks.example.com/portrait": False}


async def test_routes_a_test_adds_answer_its_own_hosts_even_when_blocking(
        unplugged: list[str], hermetic: InProcessMock) -> None:
    hermetic.router.get("https://my-app.test/x").respond(json={"via": "respx"})
    hermetic.requests_mock.get("https://my-app.test/x", json={"via": "responses"})
    hermetic.aiohttp_mock.get("https://my-app.test/x", payload={"via": "aioresponses"})
    assert httpx.get("https://my-app.test/x").json() == {"via": "respx"}
    assert requests.get("https://my-app.test/x").json() == {"via": "responses"}
    assert (await send("aiohttp", "GET", "https://my-app.test/x"))[1] == {"via": "aioresponses"}
    hermetic.requests_mock.reset()  # a test's reset keeps the mock's own answers
    assert requests.get("https://api.gpt.ge/task/x", headers={"Authorization": "Bearer k"}).json()


@pytest.mark.parametrize("client, error", [("requests", requests.ConnectionError),
                                           ("aiohttp", aiohttp.ServerDisconnectedError)])
async def test_a_dropped_connection_is_the_clients_own_network_error(
        mock: InProcessMock, client: str, error: type) -> None:
    mock.add_fault(vendor="dashscope", effect="drop", times=1)
    url = "https://dashscope.aliyuncs.com/api/v1/services/aigc/album/gen_potrait"
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
    with pytest.raises(error):
        await send(client, "POST", url, json=SUBMIT_BODY, headers=headers)
    assert (await send(client, "POST", url, json=SUBMIT_BODY, headers=headers))[0] == 200


# --- what in-process mode patches, and when it refuses to start -------------------------------


def test_nothing_stays_patched_after_the_block() -> None:
    send_before = requests.adapters.HTTPAdapter.send
    request_before = aiohttp.ClientSession._request
    with InProcessMock() as running:
        assert requests.adapters.HTTPAdapter.send is not send_before
        assert aiohttp.ClientSession._request is not request_before
        assert set(running.interceptors) == {"requests", "aiohttp"}
    assert requests.adapters.HTTPAdapter.send is send_before
    assert aiohttp.ClientSession._request is request_before


def test_a_client_without_its_mock_library_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = install._installed
    monkeypatch.setattr(install, "_installed", lambda module: module != "responses" and real(module))
    with pytest.raises(install.MissingInterceptor,
                       match=r"requests is installed but responses is not.*portrait-mockserver"
                             r"\[testing\]"):
        InProcessMock()


@pytest.fixture
async def anyio_mock() -> AsyncIterator[InProcessMock]:  # a mock started inside the event loop
    with InProcessMock() as running:
        yield running


async def test_an_aiohttp_session_inside_the_tests_event_loop(anyio_mock: InProcessMock) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
    async with aiohttp.ClientSession(headers=headers) as session:  # session-wide headers
        async with session.post("https://dashscope.aliyuncs.com/api/v1/services/aigc/album/"
                                "gen_potrait", data=json.dumps(SUBMIT_BODY).encode(),
                                headers={"Content-Type": "application/json"}) as answer:
            assert answer.status == 200, await answer.text()
    [entry] = anyio_mock.requests("dashscope")
    assert entry.headers["content-type"] == "application/json"
    assert entry.headers["authorization"].startswith("Bearer sk-m")  # the journal masks keys
