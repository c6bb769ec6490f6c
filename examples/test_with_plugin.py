"""Testing the app against a real mock server, with the pytest plugin: no setup code at all.

`portrait_mock` comes from the portrait-mockserver plugin (installed with the package). The
app keeps its production code; the test only gives it the mock's base URL.
"""
from __future__ import annotations

import httpx
import pytest
from portrait_app import PortraitClient, PortraitError


@pytest.fixture
def client(portrait_mock) -> PortraitClient:
    return PortraitClient(api_key=portrait_mock.api_key,
                          base_url=portrait_mock.dashscope_base_url, poll_seconds=0.01)


def test_order_and_download(client, portrait_mock) -> None:
    task_id = client.order(n=2)
    portrait_mock.advance(60)  # no waiting: move the emulated clock past the task's end
    urls = client.result_urls(task_id)
    assert len(urls) == 2
    assert httpx.get(urls[0]).headers["content-type"] == "image/jpeg"


def test_vendor_failure_reaches_the_caller(client, portrait_mock) -> None:
    portrait_mock.add_fault(vendor="dashscope", operation="gen_potrait", effect="fail_task",
                            code="InternalError.Algo")
    task_id = client.order()
    portrait_mock.advance(60)
    with pytest.raises(PortraitError) as failed:
        client.result_urls(task_id)
    assert failed.value.code == "InternalError.Algo"


@pytest.mark.portrait_mock(strict_auth=True, api_keys=["sk-the-only-key"])
def test_wrong_key_is_refused(portrait_mock) -> None:
    wrong = PortraitClient(api_key="sk-someone-else", base_url=portrait_mock.dashscope_base_url)
    with pytest.raises(PortraitError) as refused:
        wrong.order()
    assert refused.value.code == "InvalidApiKey"
