"""The dashboard's pages over HTTP, in-process and on a real server: routing next to Tencent's
`/`, every page rendering real state, masked accounts, bad filters as one-line messages."""
from __future__ import annotations

import re

import pytest

from mockserver.dashboard import wants_dashboard

pytestmark = pytest.mark.anyio

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
KEY = "sk-dashboard-secret-key"
HEADERS = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
PRESET = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 2},
          "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGES = ("/__admin/", "/__admin/ui/tasks", "/__admin/ui/journal", "/__admin/ui/callbacks",
         "/__admin/ui/faults", "/__admin/ui/clock")


async def submit(mock, body: dict = PRESET, headers: dict = HEADERS) -> str:
    answer = await mock.client.post(SUBMIT, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


async def page(mock, path: str, status: int = 200) -> str:
    answer = await mock.client.get(path, headers=BROWSER)
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


async def test_a_browser_opening_root_is_sent_to_the_dashboard(mock) -> None:
    answer = await mock.client.get("/", headers=BROWSER)
    assert answer.status_code == 302 and answer.headers["location"] == "/__admin/"
    assert (await mock.client.get("/__admin", headers=BROWSER)).headers["location"] == "/__admin/"
    assert "<h1>Overview</h1>" in await page(mock, "/__admin/")


async def test_tencent_calls_at_root_never_reach_the_dashboard(mock) -> None:
    """An API call carries credentials (TC3's header, v1's signed query) or asks for JSON."""
    calls = (({"authorization": "TC3-HMAC-SHA256 Credential=AKIDmock/x"}, ""),
             ({}, "?Action=QueryGlamPicJob&SecretId=AKIDmock&Signature=x"),
             ({"accept": "application/json", "x-tc-action": "QueryGlamPicJob"}, ""))
    for extra, query in calls:
        answer = await mock.client.get(f"/{query}", headers={**BROWSER, **extra})
        assert answer.status_code == 200, extra
        assert "Error" in answer.json()["Response"], extra
    posted = await mock.client.post("/", headers=BROWSER)  # only GET/HEAD is a browser visit
    assert posted.json()["Response"]["Error"]["Code"] == "MissingParameter"


def test_wants_dashboard_reads_method_accept_and_api_headers() -> None:
    def scope(method: str, headers: dict[str, str]) -> dict:
        return {"type": "http", "method": method,
                # ASGI servers lowercase header names
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}

    assert wants_dashboard(scope("GET", {"accept": "text/html"}))
    assert wants_dashboard(scope("HEAD", {"accept": "TEXT/HTML"}))
    assert not wants_dashboard(scope("GET", {"accept": "*/*"}))
    assert not wants_dashboard(scope("POST", {"accept": "text/html"}))
    assert not wants_dashboard(scope("GET", {"accept": "text/html", "Authorization": "x"}))
    assert not wants_dashboard({**scope("GET", {"accept": "text/html"}), "query_string": b"a=1"})
    assert not wants_dashboard({"type": "websocket", "method": "GET", "headers": []})


async def test_every_page_renders_the_emulators_state(mock) -> None:
    task_id = await submit(mock)
    await mock.client.post("/__admin/faults", json={
        "vendor": "dashscope", "effect": "error", "code": "Throttling.RateQuota", "times": 5})
    overview = await page(mock, "/__admin/")
    for vendor in ("acedata", "dashscope", "gptge", "tencent"):
        assert f"/__admin/ui/tasks?vendor={vendor}" in overview
    assert f"dashscope.base_http_api_url = &#39;{mock.base_url}/api/v1&#39;" in overview
    tasks = await page(mock, "/__admin/ui/tasks")
    assert task_id in tasks and "QUEUED" in tasks
    detail = await page(mock, f"/__admin/ui/tasks/{task_id}")
    assert "f_idcard_female" in detail and "submitted" in detail
    assert "dashscope.gen_potrait" in detail  # its journal entry
    faults = await page(mock, "/__admin/ui/faults")
    assert "Throttling.RateQuota" in faults and 'data-url="/__admin/faults/f1"' in faults
    clock = await page(mock, "/__admin/ui/clock")
    assert 'data-url="/__admin/reset"' in clock
    journal = await page(mock, "/__admin/ui/journal")
    assert SUBMIT in journal


async def test_pages_never_show_an_account_key(mock) -> None:
    task_id = await submit(mock)
    await mock.client.get(f"/api/v1/tasks/{task_id}", headers=HEADERS)
    for path in (*PAGES, f"/__admin/ui/tasks/{task_id}"):
        html = await page(mock, path)
        assert KEY not in html, path
    assert "sk-d***" in await page(mock, "/__admin/ui/tasks")


async def test_a_succeeded_task_links_its_result_images(mock) -> None:
    task_id = await submit(mock)
    await mock.advance(60)
    detail = await page(mock, f"/__admin/ui/tasks/{task_id}")
    urls = re.findall(r'<img class="result" src="([^"]+)"', detail)
    assert urls == [f"/results/dashscope/{task_id}/0.jpg", f"/results/dashscope/{task_id}/1.jpg"]
    for url in urls:
        image = await mock.client.get(url)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert "SUCCEEDED" in detail


async def test_task_list_filters_and_pages(mock) -> None:
    ids = [await submit(mock, headers={**HEADERS, "Authorization": f"Bearer sk-user-{i}"})
           for i in range(3)]
    html = await page(mock, "/__admin/ui/tasks?vendor=dashscope&state=queued")
    assert all(task_id in html for task_id in ids)
    assert "Tasks 1–3 of 3" in html
    assert ids[0] not in await page(mock, "/__admin/ui/tasks?state=succeeded")
    assert ids[0] not in await page(mock, "/__admin/ui/tasks?vendor=acedata")
    one = await page(mock, "/__admin/ui/tasks?account=sk-user-1")
    assert ids[1] in one and ids[0] not in one and ids[2] not in one
    fingerprint = re.search(r"account=([0-9a-f]{8})", one)
    assert fingerprint is not None
    assert ids[1] in await page(mock, f"/__admin/ui/tasks?account={fingerprint.group(1)}")


async def test_bad_filters_are_one_line_messages(mock) -> None:
    html = await page(mock, "/__admin/ui/tasks?state=done&vendor=openai&page=two")
    assert "unknown state &#39;done&#39; ignored" in html
    assert "unknown vendor &#39;openai&#39; ignored" in html
    assert "is not a number" in html
    journal = await page(mock, "/__admin/ui/journal?status=abc&limit=ten")
    assert "status must be a code such as 429" in journal
    assert "limit &#39;ten&#39; is not a number" in journal
    missing = await page(mock, "/__admin/ui/tasks/no-such-task", 404)
    assert "No task &#39;no-such-task&#39;" in missing


async def test_journal_page_uses_the_admin_filters_and_links_the_har_export(mock) -> None:
    await submit(mock)
    await mock.client.get("/api/v1/tsks/123", headers=HEADERS)  # a near miss
    html = await page(mock, "/__admin/ui/journal?vendor=dashscope&near_miss=true")
    assert "/api/v1/tsks/123" in html and SUBMIT not in html.split("Export as HAR")[1]
    assert "Near miss:" in html and "unknown path segment" in html
    har_url = re.search(r'href="(/__admin/requests\.har\?[^"]+)"', html)
    assert har_url is not None
    har = await mock.client.get(har_url.group(1).replace("&amp;", "&"))
    entries = har.json()["log"]["entries"]
    assert [e["request"]["url"].split(mock.base_url)[1] for e in entries] == ["/api/v1/tsks/123"]


async def test_static_files_are_served_by_the_mock(mock) -> None:
    css = await mock.client.get("/__admin/ui/static/dashboard.css")
    script = await mock.client.get("/__admin/ui/static/dashboard.js")
    assert css.status_code == script.status_code == 200
    assert ":focus-visible" in css.text and "data-live" in script.text
    html = await page(mock, "/__admin/")
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing may load from another host"
