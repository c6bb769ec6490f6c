"""`mockserver serve --server granian`: the official SDKs work against it as against uvicorn."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from dashscope.client.base_api import BaseAsyncApi
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

pytest.importorskip("granian", reason="the optional [granian] extra")  # in the test extras


@pytest.fixture
def base_url(tmp_path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--server", "granian", "--port", "0",
         "--store", "memory", "--log-level", "warning"], stdout=subprocess.PIPE, text=True,
        cwd=tmp_path)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("listening on ")[1].strip()
        for _ in range(200):
            try:
                httpx.get(f"{url}/__admin/health", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) is not None


def test_dashscope_sdk_task_to_its_result_image(base_url: str) -> None:
    api = f"{base_url}/api/v1"
    task = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", api_key="sk-granian", base_address=api,
        resources=[{"resource_id": "r", "resource_type": "facelora"}], style="f_idcard_male", n=1)
    assert task.status_code == 200 and task.output["task_status"] == "PENDING"
    httpx.post(f"{base_url}/__admin/clock/advance", json={"seconds": 60}).raise_for_status()
    done = BaseAsyncApi.fetch(task, api_key="sk-granian", base_address=api)
    assert done.output["task_status"] == "SUCCEEDED"
    image = httpx.get(done.output["results"][0]["url"])
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_tencent_sdk_signature_checks_pass(base_url: str) -> None:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=base_url.removeprefix("http://"),
                                                    protocol="http"))
    client = aiart_client.AiartClient(Credential("AKIDmock", "mock-secret"), "ap-guangzhou",
                                      profile)
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string('{"TemplateUrl": "https://example.invalid/t.jpg",'
                             ' "FaceInfos": [{"ImageUrls": ["https://example.invalid/u.jpg"]}]}')
    job_id = client.SubmitGlamPicJob(request).JobId
    query = models.QueryGlamPicJobRequest()
    query.JobId = job_id
    assert client.QueryGlamPicJob(query).JobStatusCode in {"1", "2", "4", "5"}
