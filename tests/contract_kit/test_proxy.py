"""The validating proxy (`mockserver proxy`) between the vendors' official SDKs and a mock:
it forwards every exchange and nothing else, re-signs Tencent requests for the upstream with
the key pair it holds, checks every answer with the kit's checks and writes the kit's drift
report and a HAR file with secrets masked. A deviating upstream (a mutant switched on through
the plugin) shows up as a finding."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashscope.client.base_api import BaseAsyncApi
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from contract_tests.adapters.base import Credentials
from contract_tests.mutations import ENV, PLUGIN
from contract_tests.proxy import HAR_FILE, Proxy
from mockserver.settings import Settings
from mockserver.testing import AppThread, ServerThread, fixture_url

APP_KEY = ("AKIDtheappsown", "the-apps-secret")  # what the app signs with: unknown upstream
UPSTREAM_KEY = Credentials("proxy", ("AKIDmock", "mock-secret"))
DS_KEY = "sk-proxy-app-key"
LORA = [{"resource_id": "women_model", "resource_type": "facelora"}]


@contextmanager
def proxied(vendor: str, report: Path, mutation: str | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> Iterator[tuple[ServerThread, str]]:
    """An upstream mock (with `mutation` switched on through the plugin) behind a proxy."""
    settings = Settings(validate_responses=mutation is None)
    if mutation is not None:
        assert monkeypatch is not None
        monkeypatch.setenv(ENV, mutation)
        settings = replace(settings, plugins=(PLUGIN,))
    with ServerThread(settings) as upstream:
        proxy = Proxy(vendor, upstream.base_url, report,
                      UPSTREAM_KEY if vendor == "tencent" else None)
        with AppThread(proxy.app()) as running:
            yield upstream, running.base_url


def tencent_client(base_url: str, sign_method: str = "TC3-HMAC-SHA256") -> aiart_client.AiartClient:
    http = HttpProfile(endpoint=base_url.split("://")[1], protocol="http", reqTimeout=10)
    return aiart_client.AiartClient(Credential(*APP_KEY), "ap-guangzhou",
                                    ClientProfile(httpProfile=http, signMethod=sign_method))


def submit_job(client: aiart_client.AiartClient, images: str) -> str:
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps({
        "TemplateUrl": fixture_url(images, "template.jpg"),
        "FaceInfos": [{"ImageUrls": [fixture_url(images, "face.jpg")]}]}))
    return str(client.SubmitGlamPicJob(request).JobId)


def query_job(client: aiart_client.AiartClient, job: str) -> Any:
    request = models.QueryGlamPicJobRequest()
    request.JobId = job
    return client.QueryGlamPicJob(request)


def advance(upstream: ServerThread, seconds: float) -> None:
    httpx.post(f"{upstream.base_url}/__admin/clock/advance", json={"seconds": seconds})


def vendor_calls(upstream: ServerThread) -> int:
    return sum(1 for e in upstream.emulator.journal.entries() if e.vendor)


def report_text(report: Path) -> tuple[str, str]:
    return (report / "drift.md").read_text(), (report / HAR_FILE).read_text()


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_tencent_sdk_through_the_proxy_is_re_signed_checked_and_recorded(
        tmp_path: Path, sign_method: str) -> None:
    with proxied("tencent", tmp_path) as (upstream, proxy_url):
        client = tencent_client(proxy_url, sign_method)
        job = submit_job(client, upstream.base_url)
        statuses = [query_job(client, job).JobStatusCode]
        for _ in range(6):
            advance(upstream, 10)
            statuses.append(query_job(client, job).JobStatusCode)
        assert statuses[0] == "1" and statuses[-1] == "5"
        assert vendor_calls(upstream) == 8  # the app's 8 calls, not one more
        accounts = {e.account for e in upstream.emulator.journal.entries() if e.vendor}
        assert accounts == {upstream.emulator.account_label("AKIDmock")}  # the proxy's pair
    drift, har = report_text(tmp_path)
    assert "No drift found." in drift and "0 distinct findings" in drift
    entries = json.loads(har)["log"]["entries"]
    assert len(entries) == 8 and all(e["response"]["status"] == 200 for e in entries)
    assert "mock-secret" not in har and "the-apps-secret" not in har
    signatures = {h["value"] for e in entries for h in e["request"]["headers"]
                  if h["name"] == "authorization"}
    assert signatures == ({"TC3-HMAC-SHA256 ***"} if sign_method.startswith("TC3") else set())


def test_dashscope_sdk_through_the_proxy_with_the_key_masked(tmp_path: Path) -> None:
    with proxied("dashscope", tmp_path) as (upstream, proxy_url):
        base = f"{proxy_url}/api/v1"
        submitted = BaseAsyncApi.async_call(
            model="facechain-generation", input={}, task_group="aigc", task="album",
            function="gen_potrait", api_key=DS_KEY, base_address=base, resources=LORA,
            style="f_business_female", n=1)
        assert submitted.status_code == HTTPStatus.OK
        for _ in range(4):
            advance(upstream, 10)
            fetched = BaseAsyncApi.fetch(submitted, api_key=DS_KEY, base_address=base)
        assert fetched.output["task_status"] == "SUCCEEDED"
        assert vendor_calls(upstream) == 5
    drift, har = report_text(tmp_path)
    assert "No drift found." in drift
    assert DS_KEY not in har and DS_KEY not in drift and "Bearer ***" in har


@pytest.mark.parametrize(("vendor", "mutation", "check", "app"), [
    ("tencent", "tencent.status-code-int", "conforms_to_schema",
     lambda upstream, url: query_job(tencent_client(url), submit_job(tencent_client(url),
                                                                     upstream.base_url))),
    ("dashscope", "dashscope.metrics-wrong-type", "conforms_to_schema", None),
    ("dashscope", "dashscope.succeeded-flaps-back", "lifecycle", None),
])
def test_a_deviating_upstream_is_reported_in_the_drift_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vendor: str, mutation: str,
        check: str, app: Callable[[ServerThread, str], Any] | None) -> None:
    with proxied(vendor, tmp_path, mutation, monkeypatch) as (upstream, proxy_url):
        if app is not None:
            app(upstream, proxy_url)
        else:  # a DashScope app that polls its task while it runs and after it ended
            base = f"{proxy_url}/api/v1"
            submitted = BaseAsyncApi.async_call(
                model="facechain-generation", input={}, task_group="aigc", task="album",
                function="gen_potrait", api_key=DS_KEY, base_address=base, resources=LORA,
                style="f_business_female", n=1)
            for step in (3, 40, 1, 1):
                advance(upstream, step)
                BaseAsyncApi.fetch(submitted, api_key=DS_KEY, base_address=base)
    drift, _ = report_text(tmp_path)
    assert f"| {check} |" in drift, drift
    section = drift[drift.index("### "):]
    for fact in ("- expected: ", "- source:   ", "- got:      ", "- repeat:   curl -sS -X "):
        assert fact in section, section
    assert DS_KEY not in drift and "mock-secret" not in drift
