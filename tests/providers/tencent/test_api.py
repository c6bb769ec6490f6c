"""Tencent GlamPic over raw HTTP (signed with our signing module), in-process and real server."""
from __future__ import annotations

import io
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from mockserver.core.labels import mask
from mockserver.settings import Settings
from mockserver.testing import fixture_url

pytestmark = pytest.mark.anyio



def body(api, template: str = "template.jpg", user: str = "face.jpg") -> dict:
    """A valid submit whose images are the mock's own fixtures (the job fetches them)."""
    base = api.mock.base_url
    return {"TemplateUrl": fixture_url(base, template),
            "FaceInfos": [{"ImageUrls": [fixture_url(base, user)]}], "Num": 2}
BASE = Settings(validate_responses=True,
                credentials={"tencent": {"AKIDmock": "mock-secret", "AKIDother": "other-secret"}})
OTHER = {"secret_id": "AKIDother", "secret_key": "other-secret"}


@pytest.fixture
def settings() -> Settings:
    return BASE


async def test_job_goes_waiting_running_done_with_downloadable_results(api, mock) -> None:
    job_id = await api.submit(body(api))
    first, stamp, *_ = job_id.split("-")
    assert first.isdigit() and abs(int(stamp) - api.now()) <= 1 and job_id.endswith("-0")
    waiting = await api.query(job_id)
    assert (waiting["JobStatusCode"], waiting["JobStatusMsg"]) == ("1", "排队中")
    assert waiting["ResultImage"] == [] and waiting["JobErrorCode"] == ""
    await mock.advance(3)
    assert (await api.query(job_id))["JobStatusCode"] == "2"
    await mock.advance(30)
    done = await api.query(job_id)
    assert (done["JobStatusCode"], done["JobStatusMsg"]) == ("5", "处理完成")
    assert done["ResultDetails"] == ["Success", "Success"] and done["JobErrorMsg"] == ""
    for url in done["ResultImage"]:
        assert url.startswith(mock.base_url + "/results/tencent/" + job_id)
        start, end = parse_qs(urlsplit(url).query)["q-sign-time"][0].split(";")
        assert int(end) - int(start) == 3600
        image = await mock.client.get(url)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(image.content)).size == (600, 800)


async def test_results_expire_after_one_hour_and_jobs_after_a_day(api, mock) -> None:
    job_id = await api.submit(body(api))
    await mock.advance(40)
    url = (await api.query(job_id))["ResultImage"][0]
    await mock.advance(3600)
    expired = await mock.client.get(url)
    assert expired.status_code == 403 and b"AccessDenied" in expired.content
    assert (await api.query(job_id))["JobStatusCode"] == "5"
    await mock.advance(24 * 3600)
    gone = await api.error("QueryGlamPicJob", {"JobId": job_id})
    assert gone[0] == "FailedOperation.JobNotExist"


async def test_clarity_scales_the_results(api, mock) -> None:
    job_id = await api.submit({**body(api), "Num": 1, "Clarity": "x2"})
    await mock.advance(40)
    url = (await api.query(job_id))["ResultImage"][0]
    image = await mock.client.get(url)
    assert Image.open(io.BytesIO(image.content)).size == (1200, 1600)


async def test_one_job_at_a_time_per_account(api, mock) -> None:
    first, second = await api.submit(body(api)), await api.submit(body(api))
    await mock.advance(3)
    assert (await api.query(first))["JobStatusCode"] == "2"
    assert (await api.query(second))["JobStatusCode"] == "1"
    other = await api.submit(body(api), **OTHER)  # another SecretId is another account
    await mock.advance(3)
    assert (await api.query(other, **OTHER))["JobStatusCode"] == "2"
    await mock.advance(28)
    assert (await api.query(first))["JobStatusCode"] == "5"
    assert (await api.query(second))["JobStatusCode"] == "2"


async def test_jobs_are_private_to_their_account(api) -> None:
    job_id = await api.submit(body(api))
    assert (await api.error("QueryGlamPicJob", {"JobId": job_id}, **OTHER))[0] == (
        "FailedOperation.JobNotExist")
    missing = await api.error("QueryGlamPicJob", {"JobId": "1-2-3"})
    assert missing == ("FailedOperation.JobNotExist", "任务不存在。")


async def test_failed_job_view(api, mock) -> None:
    job_id = await api.submit(body(api))
    task = mock.emulator.store.get_task(job_id)
    task.outcome, task.error_code = "failed", "FailedOperation.DownloadError"
    task.error_message = "文件下载失败。"
    mock.emulator.store.put_task(task)
    await mock.advance(40)
    failed = await api.query(job_id)
    assert (failed["JobStatusCode"], failed["JobStatusMsg"]) == ("4", "处理失败")
    assert (failed["JobErrorCode"], failed["JobErrorMsg"]) == (
        "FailedOperation.DownloadError", "文件下载失败。")
    assert failed["ResultImage"] == [] and failed["ResultDetails"] == []


async def test_styles_default_to_a_non_repeating_order_and_balanced_for_groups(api, mock) -> None:
    single = await api.submit({**body(api), "Num": 4})
    styles = mock.emulator.store.get_task(single).data["styles"]
    assert sorted(styles) == ["balanced", "beautiful", "real", "textured"]
    group = {**body(api), "FaceInfos": body(api)["FaceInfos"] * 2, "Style": ["real"]}  # ignored
    assert mock.emulator.store.get_task(await api.submit(group)).data["styles"] == ["balanced"] * 2


async def test_logo_switch(api, mock) -> None:
    for extra, logo in (({}, "default"), ({"LogoAdd": 0}, "none"), ({"LogoAdd": 7}, "default"),
                        ({"LogoParam": {"LogoUrl": "https://l.invalid/l.png"}}, "custom")):
        job_id = await api.submit({**body(api), **extra})
        assert mock.emulator.store.get_task(job_id).data["logo"] == logo, extra


class TestLimits:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(BASE, vendors={"tencent": {"max_queued": 1, "query_qps": 2}})

    async def test_queued_job_cap(self, api, mock) -> None:
        await api.submit(body(api))
        await mock.advance(3)  # the first job runs; the second waits; a third is one too many
        await api.submit(body(api))
        code, message = await api.error("SubmitGlamPicJob", body(api))
        assert (code, message) == ("RequestLimitExceeded.JobNumExceed", "同时处理的任务数过多，请稍后重试。")
        await api.submit(body(api), **OTHER)

    async def test_request_rate_per_account(self, api, mock) -> None:
        job_id = await api.submit(body(api))
        await api.query(job_id)
        await api.query(job_id)
        assert (await api.error("QueryGlamPicJob", {"JobId": job_id}))[0] == "RequestLimitExceeded"
        await api.error("QueryGlamPicJob", {"JobId": job_id}, **OTHER)  # JobNotExist, not limited
        await mock.advance(1.1)
        await api.query(job_id)


class TestBodyLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(BASE, vendors={"tencent": {"max_body_bytes": 64}})

    async def test_large_body(self, api) -> None:
        big = {**body(api), "TemplateUrl": "https://example.invalid/" + "t" * 100}
        code, _ = await api.error("SubmitGlamPicJob", big)
        assert code == "FailedOperation.RequestEntityTooLarge"


async def test_journal_names_the_action_and_masks_the_signature(api, mock) -> None:
    job_id = await api.submit(body(api))
    journal = (await mock.client.get("/__admin/requests", params={"vendor": "tencent"})).json()
    entry = journal["requests"][0]
    assert (entry["operation"], entry["account"], entry["task_id"]) == (
        "SubmitGlamPicJob", mask("AKIDmock"), job_id)  # a label, never the key
    assert "Signature=" not in entry["headers"]["authorization"]


async def test_fault_rules_match_tencent_actions(api, mock) -> None:
    """Faults name the action (the route sets the operation from X-TC-Action before them)."""
    rules = [{"vendor": "tencent", "operation": "SubmitGlamPicJob", "effect": "fail_task",
              "code": "FailedOperation.DownloadError", "times": 1},
             {"vendor": "tencent", "operation": "QueryGlamPicJob", "effect": "error",
              "code": "ResourceUnavailable.InArrears", "times": 1}]
    for rule in rules:
        added = await mock.client.post("/__admin/faults", json=rule)
        assert added.status_code in (200, 201), added.text
    job_id = await api.submit(body(api))
    assert await api.error("QueryGlamPicJob", {"JobId": job_id}) == (
        "ResourceUnavailable.InArrears", "账号已欠费。")
    await mock.advance(40)
    failed = await api.query(job_id)
    assert (failed["JobStatusCode"], failed["JobErrorCode"], failed["JobErrorMsg"]) == (
        "4", "FailedOperation.DownloadError", "文件下载失败。")
