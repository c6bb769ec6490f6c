"""Signature v1 as pure functions: the documented vector, the SDK's own signer, the verifier."""
from __future__ import annotations

from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import pytest

from mockserver.providers.tencent import signing_v1
from mockserver.providers.tencent.signing import SignatureError

JOB = {"TemplateUrl": "https://example.com/t.jpg", "Num": 2, "Similarity": 0.6,
       "FaceInfos": [{"ImageUrls": ["https://example.com/u.jpg"]}]}
VECTOR: dict[str, Any] = {
    "secret_id": "AKIDEXAMPLE", "secret_key": "SECRETEXAMPLE", "host": "127.0.0.1:8080",
    "action": "SubmitGlamPicJob", "timestamp": 1700000000, "nonce": 11886, "params": JOB,
    "language": "zh-CN", "request_client": "SDK_PYTHON_3.1.179"}
# Computed by tencentcloud-sdk-python-common 3.1.195 (aiart 3.1.179) for VECTOR, see
# test_same_request_as_the_official_sdk; reproduced here by our own signer.
SDK_SIGNATURES = {
    ("HmacSHA256", "POST"): "PhCs7MAizu6Tors7fAUvTYQAOIfNJfA94900LL8O9wQ=",
    ("HmacSHA256", "GET"): "w4fATBq+w+svQT5KW649xva57+eIuk+2jwL9tVChZQ4=",
    ("HmacSHA1", "POST"): "S7eZEgiZq/5qoKFyRN0q1F3fcRQ=",
    ("HmacSHA1", "GET"): "VJr0RYnpp5lgXp2iVUxjeQFgkOg=",
}
CREDENTIALS = {"AKIDEXAMPLE": "SECRETEXAMPLE"}


def test_the_documented_example() -> None:
    """The signature v1 page's DescribeInstances example and its signature."""
    params = {"Action": "DescribeInstances", "InstanceIds.0": "ins-09dx96dg", "Limit": "20",
              "Nonce": "11886", "Offset": "0", "Region": "ap-guangzhou",
              "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Timestamp": "1465185768",
              "Version": "2017-03-12"}
    to_sign = signing_v1.string_to_sign("GET", "cvm.tencentcloudapi.com", "/", params)
    assert to_sign == (
        "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg"
        "&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou"
        "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12")
    assert signing_v1.signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", to_sign, "HmacSHA1") == (
        "EliP9YW3pW28FpsEdkXt/+WcGeI=")


@pytest.mark.parametrize(("method_name", "method"), sorted(SDK_SIGNATURES))
def test_vector_computed_by_the_sdk(method_name: str, method: str) -> None:
    fields = signing_v1.sign_params(**VECTOR, method=method, signature_method=method_name)
    assert fields["Signature"] == SDK_SIGNATURES[(method_name, method)]
    assert fields["FaceInfos.0.ImageUrls.0"] == "https://example.com/u.jpg"
    assert (fields["SignatureMethod"], fields["Nonce"], fields["Similarity"]) == (
        method_name, "11886", "0.6")


@pytest.mark.parametrize(("method_name", "method"), sorted(SDK_SIGNATURES))
def test_same_request_as_the_official_sdk(method_name: str, method: str) -> None:
    """The installed SDK builds the request (clock and nonce pinned); ours is the same."""
    import tencentcloud.common.abstract_client as sdk_module
    from tencentcloud.aiart.v20221229 import aiart_client
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    http = HttpProfile(endpoint=VECTOR["host"], reqMethod=method)
    client = aiart_client.AiartClient(Credential("AKIDEXAMPLE", "SECRETEXAMPLE"), "ap-guangzhou",
                                      ClientProfile(signMethod=method_name, httpProfile=http))
    request = RequestInternal(VECTOR["host"], method, "/")
    with mock.patch.object(sdk_module.time, "time", return_value=VECTOR["timestamp"]), \
            mock.patch.object(sdk_module.random, "randint", return_value=VECTOR["nonce"]):
        client._build_req_with_old_signature(VECTOR["action"], dict(JOB), request, {})
    sent = dict(parse_qsl(request.data))
    ours = signing_v1.sign_params(**{**VECTOR, "request_client": client.request_client},
                                  method=method, signature_method=method_name)
    assert sent == ours
    assert request.header["Content-Type"] == "application/x-www-form-urlencoded"


def signed(**change: Any) -> dict[str, str]:
    return signing_v1.sign_params(**{**VECTOR, **change})


def verify(params: dict[str, str], *, method: str = "POST", host: str = VECTOR["host"],
           now: float = 1700000000, **kwargs: Any) -> str:
    return signing_v1.verify(method=method, host=host, path="/", params=params,
                             credentials=CREDENTIALS, now=now, **kwargs)


def test_verifier_accepts_both_methods_and_checks_every_parameter() -> None:
    for method_name in ("HmacSHA256", "HmacSHA1", None):
        assert verify(signed(signature_method=method_name)) == "AKIDEXAMPLE"
    assert verify(signed(method="GET"), method="GET") == "AKIDEXAMPLE"
    tampered = {**signed(), "Num": "3"}
    with pytest.raises(SignatureError) as err:
        verify(tampered)
    assert err.value.code == "AuthFailure.SignatureFailure"


def rejection(params: dict[str, str], **kwargs: Any) -> SignatureError:
    with pytest.raises(SignatureError) as err:
        verify(params, **kwargs)
    return err.value


@pytest.mark.parametrize(("params", "kwargs", "code"), [
    (signed(secret_key="wrong"), {}, "AuthFailure.SignatureFailure"),
    (signed(secret_id="AKIDnobody"), {}, "AuthFailure.SecretIdNotFound"),
    (signed(), {"now": 1700000301}, "AuthFailure.SignatureExpire"),
    (signed(), {"now": 1699999699}, "AuthFailure.SignatureExpire"),
    (signed(), {"method": "GET"}, "AuthFailure.SignatureFailure"),  # signed for POST
    (signed(), {"host": "aiart.tencentcloudapi.com"}, "AuthFailure.SignatureFailure"),
])
def test_verifier_rejections(params, kwargs, code) -> None:
    assert rejection(params, **kwargs).code == code


def test_skew_window_and_disabled_check() -> None:
    assert verify(signed(), now=1700000300) == "AKIDEXAMPLE"
    assert verify(signed(), now=1900000000, max_skew=None) == "AKIDEXAMPLE"
    assert verify(signed(), now=(1900000000, 1700000100)) == "AKIDEXAMPLE"


def test_an_unknown_signature_method_is_checked_as_hmac_sha1() -> None:
    """[DOC] only `HmacSHA256` selects SHA-256; a client that signed SHA-256 under another
    name fails, one that signed SHA-1 passes."""
    sha1 = signed(signature_method="HmacSHA1")
    renamed = {**sha1, "SignatureMethod": "HmacSHA512"}
    renamed["Signature"] = signing_v1.signature(
        "SECRETEXAMPLE", signing_v1.string_to_sign("POST", VECTOR["host"], "/", renamed), None)
    assert verify(renamed) == "AKIDEXAMPLE"
    error = rejection({**signed(), "SignatureMethod": "HmacSHA512"})
    assert "HmacSHA1 was checked" in error.detail


@pytest.mark.parametrize("name", ["Timestamp", "Nonce", "SecretId", "Signature"])
def test_missing_parameters_are_named(name: str) -> None:
    params = signed()
    del params[name]
    error = rejection(params)
    assert (error.code, error.param) == ("MissingParameter", name)


@pytest.mark.parametrize(("name", "value"), [("Timestamp", "soon"), ("Nonce", "0"),
                                             ("Nonce", "-5"), ("Timestamp", "１２")])
def test_common_parameters_of_the_wrong_type(name: str, value: str) -> None:
    error = rejection({**signed(), name: value})
    assert (error.code, error.message) == ("InvalidParameter", f"Parameter `{name}` type error.")


def test_underscores_are_signed_as_dots_like_the_sdk() -> None:
    dotted = signing_v1.string_to_sign("POST", "h", "/", {"FaceInfos.0.ImageUrls.0": "u"})
    assert signing_v1.string_to_sign("POST", "h", "/", {"FaceInfos_0_ImageUrls_0": "u"}) == dotted
