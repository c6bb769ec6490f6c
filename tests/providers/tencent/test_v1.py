"""Signature v1 over HTTP, requests built by hand: every common parameter and the flattened
fields in the query (GET) or a form body (POST); each authentication failure."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mockserver.providers.tencent import signing_v1
from mockserver.settings import Settings

from .conftest import SECRET_ID, SECRET_KEY, fixture_submit

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
T, U = "https://example.invalid/t.jpg", "https://example.invalid/u.jpg"
METHODS = [("HmacSHA256", "POST"), ("HmacSHA256", "GET"), ("HmacSHA1", "POST"),
           ("HmacSHA1", "GET")]


@pytest.mark.parametrize(("v1", "method"), METHODS)
async def test_submit_and_query_to_a_finished_job(api, mock, v1: str, method: str) -> None:
    job_id = await api.submit(method=method, v1=v1)
    task = mock.emulator.store.get_task(job_id)
    assert task.request == fixture_submit(mock.base_url)  # Num back to an integer
    assert (await api.query(job_id, method=method, v1=v1))["JobStatusCode"] == "1"
    await mock.advance(40)
    done = await api.query(job_id, method=method, v1=v1)
    assert (done["JobStatusCode"], done["ResultDetails"]) == ("5", ["Success", "Success"])
    entry = mock.emulator.journal.entries()[0]  # newest first
    assert (entry.operation, entry.note["signature_method"]) == ("QueryGlamPicJob", v1)


async def test_nested_fields_and_numbers_arrive_as_in_json(api, mock) -> None:
    rect = {"X": 0, "Y": 0, "Width": 10, "Height": 10}
    group = {"TemplateUrl": T, "Num": 1, "Similarity": 0.8, "LogoAdd": 0,
             "FaceInfos": [{"ImageUrls": [U, U], "TemplateFaceRect": rect},
                           {"ImageUrls": [U], "TemplateFaceRect": rect}]}
    job_id = await api.submit(group, v1="HmacSHA256")
    assert mock.emulator.store.get_task(job_id).request == group


@pytest.mark.parametrize(("change", "code"), [
    ({"secret_key": "not-the-secret"}, "AuthFailure.SignatureFailure"),
    ({"secret_id": "AKIDnobody"}, "AuthFailure.SecretIdNotFound"),
    ({"version": "2020-01-01"}, "NoSuchVersion"),
    ({"region": None}, "MissingParameter"),
    ({"region": "mars-1"}, "UnsupportedRegion"),
])
async def test_gateway_errors(api, change, code) -> None:
    for v1 in ("HmacSHA256", "HmacSHA1"):
        assert (await api.error("QueryGlamPicJob", {"JobId": "x"}, v1=v1, **change))[0] == code


async def test_messages_of_the_authentication_failures(api) -> None:
    query = {"JobId": "x"}
    assert await api.error("QueryGlamPicJob", query, v1="HmacSHA1", secret_key="wrong") == (
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.")
    assert await api.error("QueryGlamPicJob", query, v1="HmacSHA1", secret_id="AKIDnobody") == (
        "AuthFailure.SecretIdNotFound",
        "The SecretId is not found, please ensure that your SecretId is correct.")
    for offset in (-301, 301):
        assert await api.error("QueryGlamPicJob", query, v1="HmacSHA256",
                               timestamp=api.now() + offset) == (
            "AuthFailure.SignatureExpire", "The signature is expired, please request again.")


def fields(api, action: str = "QueryGlamPicJob", params: dict | None = None,
           **change) -> dict[str, str]:
    return signing_v1.sign_params(secret_id=SECRET_ID, secret_key=SECRET_KEY, host=api.host,
                                  action=action, timestamp=api.now(),
                                  params={"JobId": "x"} if params is None else params, **change)


async def post(mock, body: bytes | str, headers: dict[str, str] | None = None) -> dict:
    content = body.encode() if isinstance(body, str) else body
    answer = await mock.client.post("/", content=content, headers=headers or FORM)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return answer.json()["Response"]


async def test_a_body_signed_for_get_fails_when_posted(api, mock) -> None:
    sent = signing_v1.encode(fields(api, method="GET"))
    assert (await post(mock, sent))["Error"]["Code"] == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("name", ["Timestamp", "Nonce", "SecretId", "Signature"])
async def test_a_missing_common_parameter_is_named(api, mock, name: str) -> None:
    sent = fields(api)
    del sent[name]
    assert (await post(mock, signing_v1.encode(sent)))["Error"] == {
        "Code": "MissingParameter",
        "Message": f"The request is missing a required parameter `{name}`."}


async def test_action_and_version_are_checked_after_the_signature(api, mock) -> None:
    sent = fields(api)
    del sent["Action"]
    sent["Signature"] = signing_v1.signature(
        SECRET_KEY, signing_v1.string_to_sign("POST", api.host, "/", sent), "HmacSHA256")
    error = (await post(mock, signing_v1.encode(sent)))["Error"]
    assert (error["Code"], error["Message"]) == (
        "MissingParameter", "The request is missing a required parameter `Action`.")
    assert await api.error("SubmitMemeJob", {}, v1="HmacSHA256") == (
        "InvalidAction", "The request `Action` is invalid or not found.")


async def test_common_parameters_of_the_wrong_type(api, mock) -> None:
    sent = {**fields(api), "Nonce": "twelve"}
    assert (await post(mock, signing_v1.encode(sent)))["Error"] == {
        "Code": "InvalidParameter", "Message": "Parameter `Nonce` type error."}


async def test_field_types_and_form_syntax(api, mock) -> None:
    submit = {"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}], "Num": "many"}
    assert await api.error("SubmitGlamPicJob", submit, v1="HmacSHA256") == (
        "InvalidParameter", "Parameter `Num` type error.")
    sent = signing_v1.encode(fields(api)) + "&broken"
    assert (await post(mock, sent))["Error"] == {
        "Code": "InvalidParameter", "Message": "Url key and value should be splited by `=`."}
    twice = signing_v1.encode(fields(api)) + "&JobId=y"
    assert (await post(mock, twice))["Error"]["Code"] == "InvalidParameter"


async def test_parameter_rules_are_the_json_rules(api) -> None:
    cases = [({"TemplateUrl": T}, "MissingParameter"),
             ({"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}], "Seed": "1"},
              "UnknownParameter"),
             ({"TemplateUrl": "t.jpg", "FaceInfos": [{"ImageUrls": [U]}]},
              "InvalidParameterValue.UrlIllegal"),
             ({"TemplateUrl": T, "FaceInfos": [{"ImageUrls": [U]}], "Num": 9},
              "InvalidParameterValue.ParameterValueError")]
    for params, code in cases:
        assert (await api.error("SubmitGlamPicJob", params, v1="HmacSHA1"))[0] == code, params


async def test_language_parameter_switches_product_messages(api) -> None:
    assert await api.error("QueryGlamPicJob", {"JobId": "x"}, v1="HmacSHA256",
                           language="en-US") == ("FailedOperation.JobNotExist",
                                                 "The job does not exist.")
    assert (await api.error("QueryGlamPicJob", {"JobId": "x"}, v1="HmacSHA256"))[1] == (
        "任务不存在。")


async def test_fault_rules_match_the_v1_action(api, mock) -> None:
    """The operation is named from the Action parameter (query or form body) before any check."""
    rule = {"vendor": "tencent", "operation": "QueryGlamPicJob", "effect": "error",
            "code": "ResourceUnavailable.InArrears", "times": 2}
    assert (await mock.client.post("/__admin/faults", json=rule)).status_code < 300
    codes = [(await api.error("QueryGlamPicJob", {"JobId": "x"}, method=method,
                              v1="HmacSHA1"))[0] for method in ("GET", "POST", "GET")]
    assert codes == ["ResourceUnavailable.InArrears"] * 2 + ["FailedOperation.JobNotExist"]
    assert [e.operation for e in mock.emulator.journal.entries()[:3]] == ["QueryGlamPicJob"] * 3


async def test_a_json_body_without_authorization_is_not_a_v1_request(mock) -> None:
    error = (await post(mock, b'{"JobId": "x"}', {"Content-Type": "application/json"}))["Error"]
    assert error["Code"] == "MissingParameter" and "`Signature`" in error["Message"]


async def test_a_query_without_any_common_parameter_is_unsigned(mock) -> None:
    answer = await mock.client.get("/?" + urlencode({"JobId": "x"}))
    assert "`Authorization` header" in answer.json()["Response"]["Error"]["Message"]


class TestSizeLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"tencent": {"v1_max_bytes": 2000}})

    async def test_large_v1_requests_are_refused_with_the_live_text(self, api) -> None:
        big = {"TemplateUrl": T + "?" + "x" * 2000, "FaceInfos": [{"ImageUrls": [U]}]}
        assert await api.error("SubmitGlamPicJob", big, v1="HmacSHA256") == (
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated because of exceeding request size "
            "limit, please use new signature method `TC3-HMAC-SHA256`.")
        await api.submit(big)  # TC3 takes it


class TestMockClockReference:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(validate_responses=True, vendors={"tencent": {"skew_clock": "mock"}})

    async def test_the_same_skew_rule_as_tc3(self, api, mock) -> None:
        signed_now = api.now()
        await mock.advance(600)
        assert (await api.error("QueryGlamPicJob", {"JobId": "x"}, v1="HmacSHA256",
                                timestamp=signed_now))[0] == "AuthFailure.SignatureExpire"


def test_the_openapi_document_offers_v1_as_the_alternative_to_tc3() -> None:
    from mockserver.core.schemas import SchemaRegistry
    from mockserver.features.openapi import vendor_document
    from mockserver.providers.tencent.provider import SPEC

    doc = vendor_document(SPEC, SchemaRegistry.shared())
    schemes = doc["components"]["securitySchemes"]
    assert schemes["tc-signature-v1"]["in"] == "query"
    assert schemes["tc-signature-v1"]["name"] == "Signature"
    for item in doc["paths"].values():
        for op in item.values():
            assert op["security"] == [{"tc3": []}, {"tc-signature-v1": []}]
