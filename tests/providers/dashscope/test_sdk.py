"""The official `dashscope` SDK, unchanged, against a real uvicorn server."""
from __future__ import annotations

import io
from http import HTTPStatus

import httpx
import pytest
from dashscope.client.base_api import BaseAsyncApi
from PIL import Image

from mockserver.settings import Settings

KEY = "sk-sdk-user"
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]


@pytest.fixture
def settings() -> Settings:
    # 60 emulated seconds per real second: the SDK's wait() polls with real sleeps.
    return Settings(validate_responses=True, time_scale=60.0)


def submit(base: str, **kwargs):
    kwargs.setdefault("style", "f_business_female")
    kwargs.setdefault("n", 2)
    return BaseAsyncApi.async_call(
        model="facechain-generation", input=kwargs.pop("input", {}), task_group="aigc",
        task="album", function="gen_potrait", api_key=kwargs.pop("api_key", KEY),
        base_address=base, resources=kwargs.pop("resources", LORA), **kwargs,
    )


def test_submit_wait_and_download(server) -> None:
    base = f"{server.base_url}/api/v1"
    submitted = submit(base)
    assert submitted.status_code == HTTPStatus.OK
    assert submitted.output["task_status"] == "PENDING"
    fetched = BaseAsyncApi.fetch(submitted, api_key=KEY, base_address=base)
    assert fetched.output["task_status"] in {"PENDING", "RUNNING"}
    done = BaseAsyncApi.wait(submitted, api_key=KEY, base_address=base)
    assert done.status_code == HTTPStatus.OK
    assert done.output["task_status"] == "SUCCEEDED"
    assert done.usage["image_count"] == 2
    for result in done.output["results"]:
        image = httpx.get(result["url"])
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


def test_failed_task_through_wait(server) -> None:
    base, fixtures = f"{server.base_url}/api/v1", f"{server.base_url}/__admin/fixtures"
    submitted = submit(base, n=1, style="train_free_portrait_url_template", resources=None,
                       input={"template_url": f"{fixtures}/template.jpg",
                              "user_urls": [f"{fixtures}/tiny.jpg"]})
    assert submitted.status_code == HTTPStatus.OK
    done = BaseAsyncApi.wait(submitted, api_key=KEY, base_address=base)
    assert done.output["task_status"] == "FAILED"
    assert done.output["code"] == "InvalidImageResolution"
    assert done.usage == {"image_count": 0}


def test_unknown_and_foreign_tasks(server) -> None:
    base = f"{server.base_url}/api/v1"
    submitted = submit(base)
    foreign = BaseAsyncApi.fetch(submitted.output["task_id"], api_key="sk-other", base_address=base)
    assert foreign.status_code == HTTPStatus.OK and foreign.output["task_status"] == "UNKNOWN"
    missing = BaseAsyncApi.wait("does-not-exist", api_key=KEY, base_address=base)
    assert missing.output["task_status"] == "UNKNOWN"


def test_cancel_through_sdk(server) -> None:
    base = f"{server.base_url}/api/v1"
    server.emulator.clock.scale = 1.0  # keep the second task queued while we cancel it
    submit(base)
    waiting = submit(base)
    canceled = BaseAsyncApi.cancel(waiting, api_key=KEY, base_address=base)
    assert canceled.status_code == HTTPStatus.OK
    assert BaseAsyncApi.fetch(waiting, api_key=KEY, base_address=base).output["task_status"] == "CANCELED"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"api_key": "invalid-token"}, 401, "InvalidApiKey"),
        ({"style": "no_such_style"}, 400, "InvalidParameter"),
        ({"n": 9}, 400, "InvalidParameter"),
        ({"resources": None}, 400, "InvalidParameter"),
        ({"style": "train_free_portrait_url_template", "resources": None,
          "input": {"template_url": "http://127.0.0.1/模板.png", "user_urls": ["http://127.0.0.1/u.png"]}},
         400, "InvalidURL"),
    ],
)
def test_errors_reach_the_sdk(server, kwargs, status, code) -> None:
    answer = submit(f"{server.base_url}/api/v1", **{k: v for k, v in kwargs.items()})
    assert answer.status_code == status
    assert answer.code == code
    assert answer.message


def test_base_url_by_module_attribute(server, monkeypatch) -> None:
    import dashscope

    monkeypatch.setattr(dashscope, "base_http_api_url", f"{server.base_url}/api/v1")
    answer = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", api_key=KEY, resources=LORA, style="f_idcard_male", n=1)
    assert answer.status_code == 200 and answer.output["task_id"]


def test_list_through_sdk(server) -> None:
    """`BaseAsyncApi.list()` (the 1.x API) sends `GET {base}/tasks`; a 200 body is its output."""
    base = f"{server.base_url}/api/v1"
    server.emulator.clock.scale = 1.0
    first = submit(base)
    second = submit(base)
    listed = BaseAsyncApi.list(api_key=KEY, base_address=base)
    assert listed.status_code == HTTPStatus.OK and listed.request_id
    assert [i["task_id"] for i in listed.output["data"]] == [
        second.output["task_id"], first.output["task_id"]]
    assert (listed.output["total"], listed.output["page_no"], listed.output["page_size"]) == (2, 1, 10)
    one = BaseAsyncApi.list(status="PENDING", page_size=1, api_key=KEY, base_address=base)
    assert one.status_code == HTTPStatus.OK and one.output["total_page"] == one.output["total"]
    mine = listed.output["data"][0]["api_key_id"]
    assert BaseAsyncApi.list(api_key_id=mine, api_key=KEY, base_address=base).output["total"] == 2
    refused = BaseAsyncApi.list(start_time="yesterday", api_key=KEY, base_address=base)
    assert (refused.status_code, refused.code) == (400, "InvalidParameter")
    assert BaseAsyncApi.list(api_key="sk-other", base_address=base).output["data"] == []
