"""Key pairs added at run time (`POST /__admin/credentials/tencent`): the official SDK signs
with one at once, the pair is its own account, a SQLite store keeps it across a restart, and a
reset forgets it. Bad input gets one line naming the problem."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.aiart.v20221229 import aiart_client, models
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mockserver.settings import Settings
from mockserver.testing import ServerThread

from .conftest import fixture_submit

pytestmark = pytest.mark.anyio
ADD = "/__admin/credentials/tencent"


def added_pair(base_url: str, **doc: str) -> tuple[str, str]:
    answer = httpx.post(base_url + ADD, json=doc)
    assert answer.status_code == 201, answer.text
    found = answer.json()
    return found["key_id"], found["secret"]


def submit_request(base_url: str) -> models.SubmitGlamPicJobRequest:
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps(fixture_submit(base_url)))
    return request


def query_request(job_id: str) -> models.QueryGlamPicJobRequest:
    request = models.QueryGlamPicJobRequest()
    request.JobId = job_id
    return request


def sdk_error(call: Callable[[], Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        call()
    return err.value


def sdk(server: ServerThread, sdk_profile: Any, key: tuple[str, str]) -> aiart_client.AiartClient:
    return aiart_client.AiartClient(Credential(*key), "ap-guangzhou", sdk_profile(server))


def test_the_sdk_signs_with_an_added_pair_which_is_its_own_account(
        server: ServerThread, sdk_profile: Any) -> None:
    first, second = added_pair(server.base_url), added_pair(server.base_url)
    assert first[0].startswith("AKID") and first != second
    owner = sdk(server, sdk_profile, first)
    job = owner.SubmitGlamPicJob(submit_request(server.base_url)).JobId
    assert owner.QueryGlamPicJob(query_request(job)).JobStatusCode in {"1", "2"}
    stranger = sdk(server, sdk_profile, second)
    assert sdk_error(lambda: stranger.QueryGlamPicJob(query_request(job))).code == \
        "FailedOperation.JobNotExist"
    never_added = sdk(server, sdk_profile, ("AKIDneveradded", "x"))
    assert sdk_error(lambda: never_added.QueryGlamPicJob(query_request(job))).code == \
        "AuthFailure.SecretIdNotFound"
    listed = httpx.get(server.base_url + ADD).json()
    assert listed["added"] == [first[0], second[0]] and "AKIDmock" in listed["key_ids"]
    assert "secret" not in str(listed)


def test_a_chosen_pair_survives_a_restart_on_sqlite_and_a_reset_forgets_it(
        tmp_path: Path, sdk_profile: Any) -> None:
    settings = Settings(store=f"sqlite:{tmp_path / 'store.db'}")
    with ServerThread(settings) as server:
        key = added_pair(server.base_url, key_id="AKIDchosen01", secret="chosen-secret")
        job = sdk(server, sdk_profile, key).SubmitGlamPicJob(submit_request(server.base_url)).JobId
    with ServerThread(settings) as again:
        assert sdk(again, sdk_profile, key).QueryGlamPicJob(query_request(job)).JobStatusCode in {"1", "2", "4", "5"}
        httpx.post(again.base_url + "/__admin/reset").raise_for_status()
        assert sdk_error(lambda: sdk(again, sdk_profile, key).QueryGlamPicJob(
            query_request(job))).code == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize(("path", "doc", "status", "words"), [
    ("/__admin/credentials/dashscope", {}, 400, "bearer keys"),
    ("/__admin/credentials/nobody", {}, 404, "no vendor 'nobody'"),
    (ADD, {"key_id": "AKIDonly"}, 400, "both key_id and secret"),
    (ADD, {"key_id": "AKID x", "secret": "s"}, 400, "without spaces"),
    (ADD, {"key_id": "AKIDmock", "secret": "another"}, 400, "another secret"),
    (ADD, {"key_id": 7, "secret": "s"}, 400, "must be strings"),
])
async def test_bad_requests_get_one_line_naming_the_problem(
        mock: Any, path: str, doc: dict[str, Any], status: int, words: str) -> None:
    answer = await mock.client.post(path, json=doc)
    assert answer.status_code == status
    assert words in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
