"""The official tencentcloud-sdk-python-aiart clients, changed only in their endpoint."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from tencentcloud.aiart.v20221229 import aiart_client, aiart_client_async, models
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mockserver.core.errors import VendorError
from mockserver.settings import Settings
from mockserver.testing import fixture_url

T, U = "https://example.invalid/t.jpg", "https://example.invalid/u.jpg"
IPV = "InvalidParameterValue."
GONE = "FailedOperation.JobNotExist"
KEY = ("AKIDmock", "mock-secret")
OTHER = ("AKIDother", "other-secret")


@pytest.fixture
def settings() -> Settings:
    return Settings(validate_responses=True,
                    credentials={"tencent": {"AKIDmock": "mock-secret", "AKIDother": "other-secret"}})


def submit_request(base_url: str | None = None, **fields: Any) -> models.SubmitGlamPicJobRequest:
    """With `base_url`, the images are the mock's fixtures, so the job can succeed."""
    template, user = ((fixture_url(base_url, "template.jpg"), fixture_url(base_url, "face.jpg"))
                      if base_url else (T, U))
    images = {"TemplateUrl": template, "FaceInfos": [{"ImageUrls": [user]}]}
    request = models.SubmitGlamPicJobRequest()
    request.from_json_string(json.dumps({**images, **fields}))
    return request


def query_request(job_id: str) -> models.QueryGlamPicJobRequest:
    request = models.QueryGlamPicJobRequest()
    request.JobId = job_id
    return request


@pytest.fixture
def client(server, sdk_profile) -> Callable[..., aiart_client.AiartClient]:
    def build(key: tuple[str, str] = KEY, region: str = "ap-guangzhou",
              **profile: Any) -> aiart_client.AiartClient:
        return aiart_client.AiartClient(Credential(*key), region, sdk_profile(server, **profile))

    return build


def sdk_error(call: Callable[[], Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        call()
    assert err.value.requestId, "the SDK parsed Response.Error, so RequestId is set"
    return err.value


SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"]
# Every signature the SDK offers, with both HTTP methods (its own samples set HmacSHA256).
SIGNED_CALLS = [(sign, method) for sign in SIGN_METHODS for method in ("POST", "GET")]


@pytest.mark.parametrize(("sign", "method"), SIGNED_CALLS)
def test_submit_query_until_done_and_download(server, client, sign, method) -> None:
    sdk = client(signMethod=sign, method=method)
    job_id = sdk.SubmitGlamPicJob(
        submit_request(server.base_url, Num=2, Style=["real", "beautiful"])).JobId
    waiting = sdk.QueryGlamPicJob(query_request(job_id))
    assert (waiting.JobStatusCode, waiting.JobStatusMsg) == ("1", "排队中")
    server.emulator.clock.advance(3)
    assert sdk.QueryGlamPicJob(query_request(job_id)).JobStatusCode == "2"
    server.emulator.clock.advance(30)
    done = sdk.QueryGlamPicJob(query_request(job_id))
    assert (done.JobStatusCode, done.JobErrorCode, done.ResultDetails) == (
        "5", "", ["Success", "Success"])
    for url in done.ResultImage:
        image = httpx.get(url, timeout=10)
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).format == "JPEG"


@pytest.mark.parametrize(("option", "header", "value"), [
    ({"method": "GET"}, "content-type", "application/x-www-form-urlencoded"),
    ({"language": "en-US"}, "x-tc-language", "en-US"),
    ({"unsigned": True}, "x-tc-content-sha256", "UNSIGNED-PAYLOAD"),
])
def test_sdk_profile_options_work(server, client, option, header, value) -> None:
    unsigned = option.pop("unsigned", False)
    sdk = client(**option)
    sdk.profile.unsignedPayload = unsigned  # read by the SDK on every request
    job_id = sdk.SubmitGlamPicJob(submit_request(Num=1, Similarity=0.9)).JobId
    assert sdk.QueryGlamPicJob(query_request(job_id)).JobStatusCode == "1"
    sent = server.emulator.journal.entries()[0]
    assert sent.headers[header] == value and sent.status == 200


@pytest.mark.parametrize(("sign", "method"), SIGNED_CALLS)
def test_wrong_secret_key_and_unknown_secret_id(server, client, sign, method) -> None:
    wrong_key = client(("AKIDmock", "wrong-secret"), signMethod=sign, method=method)
    wrong = sdk_error(lambda: wrong_key.QueryGlamPicJob(query_request("x")))
    assert wrong.code == "AuthFailure.SignatureFailure"
    stranger = client(("AKIDnobody", "x"), signMethod=sign, method=method)
    unknown = sdk_error(lambda: stranger.QueryGlamPicJob(query_request("x")))
    assert unknown.code == "AuthFailure.SecretIdNotFound"


def test_the_sdk_sample_profile_with_hmac_sha256(server, client) -> None:
    """As the SDK's own samples set it: signMethod HmacSHA256 (and unsignedPayload, which v1
    ignores), language en-US; an unknown job reads in English."""
    sdk = client(signMethod="HmacSHA256", language="en-US")
    sdk.profile.unsignedPayload = True
    error = sdk_error(lambda: sdk.QueryGlamPicJob(query_request("no-such-job")))
    assert (error.code, error.message) == (GONE, "The job does not exist.")
    sent = server.emulator.journal.entries()[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in sent.headers and "Signature=" in sent.body


def test_sdk_keeps_working_after_the_mock_clock_moves(server, client) -> None:
    server.emulator.clock.advance(3600)  # the SDK signs with the wall clock
    job = sdk_error(lambda: client().QueryGlamPicJob(query_request("x")))
    assert job.code == "FailedOperation.JobNotExist"


class TestStaleTimestamp:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"tencent": {"skew_clock": "mock"}})

    @pytest.mark.parametrize("sign", SIGN_METHODS)
    def test_stale_timestamp(self, server, client, sign) -> None:
        server.emulator.clock.advance(301)  # the SDK signs with the real time; the mock is ahead
        stale = sdk_error(lambda: client(signMethod=sign).QueryGlamPicJob(query_request("x")))
        assert (stale.code, stale.message) == ("AuthFailure.SignatureExpire",
                                               "The signature is expired, please request again.")


def test_gateway_and_parameter_errors_reach_the_sdk(server, client, sdk_profile) -> None:
    def common(action: str, params: dict[str, Any], version: str = "2022-12-29") -> None:
        CommonClient("aiart", version, Credential(*KEY), "ap-guangzhou",
                     sdk_profile(server)).call_json(action, params)

    sdk = client()
    job_id = sdk.SubmitGlamPicJob(submit_request(Num=1)).JobId
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: client(("AKIDnobody", "x")).QueryGlamPicJob(query_request("x")),
         "AuthFailure.SecretIdNotFound"),
        (lambda: common("QueryGlamPicJob", {"JobId": "x"}, version="2019-01-01"), "NoSuchVersion"),
        (lambda: common("SubmitMemeJob", {}), "InvalidAction"),
        (lambda: client(region="").QueryGlamPicJob(query_request("x")), "MissingParameter"),
        (lambda: client(region="mars-1").QueryGlamPicJob(query_request("x")), "UnsupportedRegion"),
        (lambda: sdk.QueryGlamPicJob(query_request("no-such-job")), GONE),
        (lambda: client(OTHER).QueryGlamPicJob(query_request(job_id)), GONE),
        (lambda: sdk.SubmitGlamPicJob(models.SubmitGlamPicJobRequest()), "MissingParameter"),
        (lambda: common("SubmitGlamPicJob", {"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}],
                                             "Seed": 1}), "UnknownParameter"),
        (lambda: common("SubmitGlamPicJob", {"TemplateUrl": T, "FaceInfos": "u"}),
         "InvalidParameter"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(FaceInfos=[])), IPV + "ImageEmpty"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(TemplateUrl="t.jpg")),
         IPV + "UrlIllegal"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(Num=9)), IPV + "ParameterValueError"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(Num=2, Style=["real"])),
         IPV + "StyleConflict"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(LogoParam={"LogoRect": {"X": 1}})),
         IPV + "LogoParamErr"),
        (lambda: sdk.SubmitGlamPicJob(submit_request(FaceInfos=[
            {"ImageUrls": [U], "TemplateFaceRect": {"X": 0, "Y": 0, "Width": 9, "Height": 9}},
            {"ImageUrls": [U]}])), "InvalidParameter.InvalidParameter"),
    ]
    for call, code in cases:
        assert sdk_error(call).code == code


class TestLimits:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True,
                        vendors={"tencent": {"submit_qps": 1, "max_queued": 1}})

    def test_rate_and_queue_limits(self, server, client) -> None:
        sdk = client()
        sdk.SubmitGlamPicJob(submit_request(Num=1))
        assert sdk_error(lambda: sdk.SubmitGlamPicJob(submit_request(Num=1))).code == (
            "RequestLimitExceeded")
        server.emulator.clock.advance(3)  # first job running
        sdk.SubmitGlamPicJob(submit_request(Num=1))  # waits in "1"
        server.emulator.clock.advance(1.5)
        assert sdk_error(lambda: sdk.SubmitGlamPicJob(submit_request(Num=1))).code == (
            "RequestLimitExceeded.JobNumExceed")


def test_every_catalogue_code_is_parsed_by_the_sdk(server, client) -> None:
    """Answer every catalogued code in turn (via an interceptor); read it back with the SDK."""
    provider = server.emulator.providers["tencent"]
    current: list[str] = []

    async def answer_with(call):  # type: ignore[no-untyped-def]
        if call.vendor != "tencent" or not current:
            return None
        return call.provider.error_reply(VendorError(current[0]), call)

    server.emulator.pipeline.interceptors.append(answer_with)
    sdk = client()
    for code in provider.catalogue.entries:
        current[:] = [code]
        error = sdk_error(lambda: sdk.QueryGlamPicJob(query_request("x")))
        assert error.code == code
        assert error.message == provider.catalogue.entries[code].message.format_map(
            {"param": "", "version": "", "region": "", "reason": "it is malformed"})


@pytest.mark.anyio
@pytest.mark.parametrize(("sign", "method"), [("TC3-HMAC-SHA256", "POST"),
                                              ("HmacSHA256", "GET"), ("HmacSHA1", "POST")])
async def test_async_client_round_trip(server, sdk_profile, sign, method) -> None:
    async with aiart_client_async.AiartClient(
            Credential(*KEY), "ap-guangzhou",
            sdk_profile(server, signMethod=sign, method=method)) as sdk:
        job_id = (await sdk.SubmitGlamPicJob(submit_request(server.base_url, Num=1))).JobId
        assert (await sdk.QueryGlamPicJob(query_request(job_id))).JobStatusCode == "1"
        server.emulator.clock.advance(40)
        done = await sdk.QueryGlamPicJob(query_request(job_id))
        assert done.JobStatusCode == "5" and len(done.ResultImage) == 1
        with pytest.raises(TencentCloudSDKException) as err:
            await sdk.QueryGlamPicJob(query_request("missing"))
        assert err.value.code == "FailedOperation.JobNotExist"
    async with aiart_client_async.AiartClient(Credential("AKIDmock", "bad"), "ap-guangzhou",
                                              sdk_profile(server, signMethod=sign)) as bad:
        with pytest.raises(TencentCloudSDKException) as err:
            await bad.QueryGlamPicJob(query_request(job_id))
        assert err.value.code == "AuthFailure.SignatureFailure"
