"""The API 3.0 gateway and parameter rules: every error is HTTP 200 with Response.Error."""
from __future__ import annotations

import pytest

from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

T, U = "https://example.invalid/t.jpg", "https://example.invalid/u.jpg"
SUBMIT = {"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}], "Num": 2}
RECT = {"X": 0, "Y": 0, "Width": 10, "Height": 10}
IPV = "InvalidParameterValue."
VALUE = IPV + "ParameterValueError"


GATEWAY_CASES = [
    ({"secret_key": "not-the-secret"}, "AuthFailure.SignatureFailure"),
    ({"secret_id": "AKIDnobody"}, "AuthFailure.SecretIdNotFound"),
    ({"service": "cvm"}, "AuthFailure.InvalidAuthorization"),
    ({"version": "2020-01-01"}, "NoSuchVersion"),
    ({"region": None}, "MissingParameter"),
    ({"region": "mars-1"}, "UnsupportedRegion"),
    ({"headers": {"Authorization": "TC3-HMAC-SHA256 nonsense"}},
     "AuthFailure.InvalidAuthorization"),
    ({"headers": {"Content-Type": "text/plain"}}, "AuthFailure.SignatureFailure"),
]


async def test_gateway_errors(api) -> None:
    for kwargs, code in GATEWAY_CASES:
        got = (await api.error("QueryGlamPicJob", {"JobId": "x"}, **kwargs))[0]
        assert got == code, kwargs


async def test_stale_and_future_timestamps_expire(api) -> None:
    for offset in (-301, 301):
        code, message = await api.error("QueryGlamPicJob", {"JobId": "x"},
                                        timestamp=api.now() + offset)
        assert (code, message) == ("AuthFailure.SignatureExpire",
                                   "The signature is expired, please request again.")


async def test_a_wall_clock_signature_still_works_after_the_mock_clock_moves(api, mock) -> None:
    wall_now = api.now()
    await mock.advance(600)  # default skew_clock "either": the SDK signs with the wall clock
    code, _ = await api.error("QueryGlamPicJob", {"JobId": "x"}, timestamp=wall_now)
    assert code == "FailedOperation.JobNotExist"


class TestMockClockReference:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"tencent": {"skew_clock": "mock"}})

    async def test_mock_clock_is_the_reference_for_expiry(self, api, mock) -> None:
        signed_now = api.now()
        await mock.advance(600)
        code, _ = await api.error("QueryGlamPicJob", {"JobId": "x"}, timestamp=signed_now)
        assert code == "AuthFailure.SignatureExpire"


async def test_unknown_action_and_its_message(api) -> None:
    assert await api.error("TextToImage", {}) == (
        "InvalidAction", "The request `Action` is invalid or not found.")


async def test_unsigned_payload_and_extra_signed_headers_are_accepted(api) -> None:
    job_id = await api.submit(SUBMIT, unsigned_payload=True)
    await api.query(job_id, signed_headers=("content-type", "host", "x-tc-action"))


async def test_no_signature_at_all_names_both_ways_to_sign(mock) -> None:
    for method in ("GET", "POST"):
        answer = await mock.client.request(method, "/")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert answer.json()["Response"]["Error"] == {
            "Code": "MissingParameter",
            "Message": "The request is missing a required parameter `Signature` (signature v1) "
                       "or the `Authorization` header (TC3-HMAC-SHA256)."}


async def test_tc3_headers_without_authorization_name_the_header(api) -> None:
    code, message = await api.error("QueryGlamPicJob", {"JobId": "x"},
                                    headers={"Authorization": ""})
    assert (code, message) == ("MissingParameter",
                               "The request is missing a required parameter `Authorization`.")


@pytest.mark.parametrize(("authorization", "reason"), [
    ("HMAC-SHA256 Credential=AKIDmock/2023-11-14/aiart/tc3_request",
     "algorithm `HMAC-SHA256` not supported, only `TC3-HMAC-SHA256`"),
    ("TC3-HMAC-SHA256 Credential=AKIDmock/2023-11-14/aiart/tc3_request, Signature=ab",
     "`SignedHeaders` missing"),
    ("TC3-HMAC-SHA256 SignedHeaders=content-type;host, Signature=ab", "`Credential` missing"),
])
async def test_malformed_authorization_answers_name_the_part(api, authorization, reason) -> None:
    code, message = await api.error("QueryGlamPicJob", {"JobId": "x"},
                                    headers={"Authorization": authorization})
    assert (code, message) == ("AuthFailure.InvalidAuthorization",
                               "The request `Authorization` header does not conform to "
                               f"tencentcloud standards: {reason}.")


async def test_a_foreign_service_reads_as_the_live_answer(api) -> None:
    assert await api.error("QueryGlamPicJob", {"JobId": "x"}, service="cvm") == (
        "AuthFailure.InvalidAuthorization",
        "The request `Authorization` header does not conform to tencentcloud standards: "
        "`Service` in Credential not valid.")


async def test_other_methods_are_unsupported_protocol(mock) -> None:
    answer = await mock.client.put("/")
    assert answer.status_code == 200
    assert answer.json()["Response"]["Error"]["Code"] == "UnsupportedProtocol"


async def test_get_with_flattened_parameters(api, mock) -> None:
    group = {"TemplateUrl": T, "Num": 1, "Similarity": 0.8,
             "FaceInfos": [{"ImageUrls": [U, U], "TemplateFaceRect": RECT},
                           {"ImageUrls": [U], "TemplateFaceRect": RECT}]}
    job_id = await api.submit(group, method="GET")
    assert mock.emulator.store.get_task(job_id).request == group
    assert (await api.query(job_id, method="GET"))["JobStatusCode"] == "1"
    assert await api.error("SubmitGlamPicJob", {**SUBMIT, "Num": "many"}, method="GET") == (
        "InvalidParameter", "Parameter `Num` type error.")


async def test_bodies_that_are_not_objects(api) -> None:
    for body, code in ((b"{not json", "InvalidParameter"), (b"[1, 2]", "InvalidParameter"),
                       (b"", "MissingParameter")):
        assert (await api.error("SubmitGlamPicJob", body=body))[0] == code, body


async def test_english_messages_on_request(api) -> None:
    missing = {"JobId": "x"}
    assert (await api.error("QueryGlamPicJob", missing, language="en-US"))[1] == (
        "The job does not exist.")
    assert (await api.error("QueryGlamPicJob", missing, language="zh-CN"))[1] == "任务不存在。"


SUBMIT_CASES = [
    ({}, "MissingParameter", "TemplateUrl"),
    ({"TemplateUrl": T}, "MissingParameter", "FaceInfos"),
    ({**SUBMIT, "FaceInfos": [{}]}, "MissingParameter", "FaceInfos.0.ImageUrls"),
    ({**SUBMIT, "Colour": "red"}, "UnknownParameter", "Colour"),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": [U], "Rect": RECT}]}, "UnknownParameter",
     "FaceInfos.0.Rect"),
    ({**SUBMIT, "Num": "2"}, "InvalidParameter", "Num"),
    ({**SUBMIT, "FaceInfos": {"ImageUrls": [U]}}, "InvalidParameter", "FaceInfos"),
    ({**SUBMIT, "FaceInfos": []}, IPV + "ImageEmpty", None),
    ({**SUBMIT, "TemplateUrl": ""}, IPV + "ImageEmpty", None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": []}]}, IPV + "ImageEmpty", None),
    ({**SUBMIT, "TemplateUrl": "ftp://example.invalid/t.jpg"}, IPV + "UrlIllegal", None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": ["u.jpg"]}]}, IPV + "UrlIllegal", None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": [U] * 7}]}, VALUE, None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": [U]}] * 6}, VALUE, None),
    ({**SUBMIT, "Num": 0}, VALUE, None),
    ({**SUBMIT, "Num": 5}, VALUE, None),
    ({**SUBMIT, "Similarity": 1.5}, VALUE, None),
    ({**SUBMIT, "Clarity": "x3"}, VALUE, None),
    ({**SUBMIT, "Style": ["cartoon", "real"]}, VALUE, None),
    ({**SUBMIT, "Style": ["real"]}, IPV + "StyleConflict", None),
    ({"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}], "Style": ["real"] * 3},
     IPV + "StyleConflict", None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": [U], "TemplateFaceRect": RECT},
                              {"ImageUrls": [U]}]},
     "InvalidParameter.InvalidParameter", None),
    ({**SUBMIT, "FaceInfos": [{"ImageUrls": [U], "TemplateFaceRect": {**RECT, "Width": 0}}]},
     VALUE, None),
    ({**SUBMIT, "LogoParam": {}}, IPV + "LogoParamErr", None),
    ({**SUBMIT, "LogoParam": {"LogoUrl": "logo.png"}}, IPV + "LogoParamErr", None),
    ({**SUBMIT, "LogoParam": {"LogoImage": "aGk=", "LogoRect": {**RECT, "X": "a"}}},
     IPV + "LogoParamErr", None),
]


async def test_submit_parameter_rules(api, mock) -> None:
    for params, code, param in SUBMIT_CASES:
        got, message = await api.error("SubmitGlamPicJob", params)
        assert got == code, params
        assert param is None or f"`{param}`" in message, message
        await mock.advance(0.1)  # stay under the 20/s submit rate


async def test_query_parameter_rules(api) -> None:
    for params, code in (({}, "MissingParameter"), ({"JobId": 5}, "InvalidParameter"),
                         ({"JobId": "x", "Extra": 1}, "UnknownParameter")):
        assert (await api.error("QueryGlamPicJob", params))[0] == code, params


async def test_accepted_edge_values(api) -> None:
    for params in ({**SUBMIT, "Num": 4, "Style": ["real", "real", "beautiful", "textured"]},
                   {**SUBMIT, "Similarity": 0, "Clarity": "x4", "LogoAdd": 0},
                   {**SUBMIT, "FaceInfos": [{"ImageUrls": [U] * 6}] * 5, "Style": ["real"]},
                   {**SUBMIT, "LogoParam": {"LogoImage": "aGk=", "LogoRect": RECT}}):
        await api.submit(params)
