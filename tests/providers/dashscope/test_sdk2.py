"""The DashScope SDK 2.x client (`dashscope.Client`, httpx), unchanged, against a real server.

The `dashscope` 2.x release ships both surfaces: the 1.x `BaseAsyncApi` (test_sdk.py) and
`dashscope.Client`, which reads DASHSCOPE_BASE_URL (then the 1.x DASHSCOPE_HTTP_BASE_URL).
facechain has no 2.x resource of its own: the submit goes through the client's transport, and
the generic task endpoints through `client.images.jobs` (fetch, wait, cancel, list).
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import dashscope
import httpx
import pytest
from dashscope.v2.errors import DashScopeError  # 2.x errors; the package root lacks them
from PIL import Image

from mockserver.settings import Settings

KEY = "sk-sdk2-user"
SUBMIT = "/services/aigc/album/gen_potrait"
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 2},
          "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True, time_scale=60.0)  # wait() polls in real time


@pytest.fixture
def client(server, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("DASHSCOPE_BASE_URL", f"{server.base_url}/api/v1")
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    with dashscope.Client(api_key=KEY, max_retries=0) as made:
        yield made


def submit(client: Any, body: dict[str, Any] = PRESET, **headers: str) -> httpx.Response:
    return client.transport.request("POST", SUBMIT, json=body,
                                    headers={"X-DashScope-Async": "enable", **headers})


def test_the_client_reads_dashscope_base_url(client, server) -> None:
    assert client.config.base_url == f"{server.base_url}/api/v1"


def test_submit_fetch_wait_and_download(client) -> None:
    answer = submit(client)
    assert answer.status_code == 200 and answer.json()["output"]["task_status"] == "PENDING"
    task_id = answer.json()["output"]["task_id"]
    assert client.images.jobs.fetch(task_id).status in {"PENDING", "RUNNING"}
    done = client.images.jobs.wait(task_id, poll_interval=0.05)
    assert done.succeeded and done.usage is not None and done.usage.image_count == 2
    assert done.output is not None and done.output["task_metrics"] == {
        "TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}
    assert done.submitted_at and done.finished_at  # UTC+8 "YYYY-MM-DD HH:mm:ss.SSS" strings
    image = httpx.get(done.image_urls[0])
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


def test_a_failed_task_raises_with_the_vendor_code(client, server) -> None:
    fixtures = f"{server.base_url}/__admin/fixtures"
    body = {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": f"{fixtures}/template.jpg",
                      "user_urls": [f"{fixtures}/no_face.jpg"]}}
    task_id = submit(client, body).json()["output"]["task_id"]
    with pytest.raises(DashScopeError) as failed:
        client.images.jobs.wait(task_id, poll_interval=0.05)
    assert failed.value.code == "InternalError.Algo"
    assert failed.value.body["usage"] == {"image_count": 0}


def test_cancel_and_unknown_tasks(client, server) -> None:
    server.emulator.clock.scale = 1.0  # keep the second task queued while it is canceled
    submit(client)
    waiting = submit(client).json()["output"]["task_id"]
    assert client.images.jobs.cancel(waiting).request_id
    assert client.images.jobs.fetch(waiting).status == "CANCELED"
    with pytest.raises(DashScopeError) as refused:
        client.images.jobs.cancel(waiting)
    assert (refused.value.status_code, refused.value.code) == (400, "UnsupportedOperation")
    assert client.images.jobs.wait("no-such-task").status == "UNKNOWN"


def test_list(client, server) -> None:
    server.emulator.clock.scale = 1.0
    submit(client)
    listed = client.images.jobs.list(status="PENDING")
    assert (listed.total, listed.page_no, listed.page_size) == (1, 1, 10)
    # The 2.x client reads the items from `tasks`; the documented answer (and the Java SDK)
    # carries them in `data`, which the mock follows, so the parsed page has no items.
    assert listed.tasks == []
    with pytest.raises(DashScopeError) as refused:
        client.images.jobs.list(start_time="20261201000000", end_time="20261203000000")
    assert (refused.value.status_code, refused.value.code) == (400, "InvalidParameter")


def test_gateway_errors_raise_with_status_and_code(client) -> None:
    answer = client.transport.request("POST", SUBMIT, json=PRESET)  # no async header
    assert answer.status_code == 403 and answer.json()["code"] == "AccessDenied"
    with dashscope.Client(api_key="invalid-token", max_retries=0) as wrong:
        with pytest.raises(DashScopeError) as refused:
            wrong.images.jobs.fetch("any")
    assert (refused.value.status_code, refused.value.code) == (401, "InvalidApiKey")
    missing = submit(client, {**PRESET, "model": None})
    assert missing.json()["message"] == 'Required parameter "model" missing from request.'
