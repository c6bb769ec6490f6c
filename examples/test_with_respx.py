"""The same app tested in-process: httpx calls to dashscope.aliyuncs.com are answered by the
emulator inside the test process (respx mode). The app is not even told a base URL."""
from __future__ import annotations

import httpx
from portrait_app import REAL_BASE_URL, PortraitClient


def test_order_against_the_real_hostname(portrait_mock_inprocess) -> None:
    client = PortraitClient(api_key="sk-my-app", base_url=REAL_BASE_URL, poll_seconds=0.01)
    task_id = client.order()
    portrait_mock_inprocess.advance(60)
    [url] = client.result_urls(task_id)
    assert httpx.get(url).status_code == 200  # result URLs are served in-process too
    [task] = portrait_mock_inprocess.tasks("dashscope")
    assert task.account == "sk-my-app"
