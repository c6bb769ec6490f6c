"""The official `dashscope` SDK, unchanged, against a running mock.

    mockserver serve --time-scale 60 &
    python examples/dashscope_sdk.py http://127.0.0.1:8000

The SDK is only given `base_address` (or set DASHSCOPE_HTTP_BASE_URL before importing it; the
2.x `dashscope.Client` reads DASHSCOPE_BASE_URL instead).
Its `wait()` polls with real sleeps (1 s, growing), so the clock is moved on through the admin
API instead of waiting for the emulated task to finish.
"""
from __future__ import annotations

import sys
from http import HTTPStatus

import httpx
from dashscope.client.base_api import BaseAsyncApi

API_KEY = "sk-example"


def main(mock_url: str) -> None:
    base = f"{mock_url}/api/v1"
    submitted = BaseAsyncApi.async_call(
        model="facechain-generation", input={}, task_group="aigc", task="album",
        function="gen_potrait", style="f_business_female", n=2,
        resources=[{"resource_id": "my-face-lora", "resource_type": "facelora"}],
        api_key=API_KEY, base_address=base)
    assert submitted.status_code == HTTPStatus.OK, submitted
    print("submitted", submitted.output["task_id"], submitted.output["task_status"])
    httpx.post(f"{mock_url}/__admin/clock/advance", json={"seconds": 60}).raise_for_status()
    done = BaseAsyncApi.wait(submitted, api_key=API_KEY, base_address=base)
    print("finished", done.output["task_status"], "images:", done.usage["image_count"])
    for result in done.output["results"]:
        image = httpx.get(result["url"])
        print(" ", result["url"], image.headers["content-type"], len(image.content), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
