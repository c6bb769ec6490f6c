"""TC3-HMAC-SHA256 as pure functions: the vendors.md vector, the SDK's own signer, the verifier."""
from __future__ import annotations

import json

import pytest

from mockserver.providers.tencent import signing
from mockserver.providers.tencent.signing import SignatureError, sign_request, verify_request

VECTOR = {"secret_id": "AKIDEXAMPLE", "secret_key": "SECRETEXAMPLE", "timestamp": 1700000000,
          "host": "127.0.0.1:8080", "action": "QueryGlamPicJob", "params": {"JobId": "job-1"}}
CREDENTIALS = {"AKIDEXAMPLE": "SECRETEXAMPLE"}


def test_vector_from_vendors_md() -> None:
    headers, body = sign_request(**VECTOR)
    assert body == b'{"JobId": "job-1"}'
    assert signing.hashed_payload(body) == (
        "afad6ef98577815c1fae5e0c566b7c04faeed2800be90f94dd420e63f1e41764")
    canonical = signing.canonical_request(
        "POST", "/", "", {"content-type": "application/json", "host": "127.0.0.1:8080"},
        signing.SDK_SIGNED_HEADERS, signing.hashed_payload(body))
    assert signing.sha256_hex(canonical.encode()) == (
        "2c5dbb5a9a38a46de7af26518c395bd71d3520f7d8a6dee8cd15c023435bbfa9")
    assert headers["Authorization"] == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/aiart/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=7093021c1434dd9bc524bcb5641d4afb7edb19f4da3dadbb600521541eb90afb")
    assert headers["X-TC-Region"] == "ap-guangzhou" and headers["X-TC-Version"] == "2022-12-29"


def test_same_signature_as_the_official_sdk() -> None:
    from tencentcloud.common.sign import Sign

    date = signing.utc_date(1700000000)
    to_sign = "TC3-HMAC-SHA256\n1700000000\n2023-11-14/aiart/tc3_request\nabc"
    ours = signing.signature("k", date, "aiart", to_sign)
    assert ours == Sign.sign_tc3("k", date, "aiart", to_sign)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def verify(headers: dict[str, str], body: bytes, *, now: float = 1700000000, query: str = "",
           method: str = "POST", **kwargs: object) -> str:
    return verify_request(method=method, query=query, headers=lower(headers), body=body,
                          credentials=CREDENTIALS, now=now, **kwargs)  # type: ignore[arg-type]


def test_verifier_accepts_the_vector_and_checks_the_raw_bytes() -> None:
    headers, body = sign_request(**VECTOR)
    assert verify(headers, body) == "AKIDEXAMPLE"
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(SignatureError) as err:
        verify(headers, reserialised)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_unsigned_payload_ignores_the_body() -> None:
    headers, body = sign_request(**VECTOR, unsigned_payload=True)
    assert verify(headers, b'{"JobId": "something else"}') == "AKIDEXAMPLE"


def test_extra_signed_headers_are_honoured() -> None:
    signed = ("content-type", "host", "x-tc-action")
    headers, body = sign_request(**VECTOR, signed_headers=signed)
    assert "SignedHeaders=content-type;host;x-tc-action" in headers["Authorization"]
    assert verify(headers, body) == "AKIDEXAMPLE"
    headers["X-TC-Action"] = "SubmitGlamPicJob"  # a signed header changed in transit
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_get_signs_the_query_string() -> None:
    headers, body = sign_request(**{**VECTOR, "params": None}, method="GET", query="JobId=job-1")
    assert body == b"" and headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verify(headers, b"", method="GET", query="JobId=job-1") == "AKIDEXAMPLE"
    with pytest.raises(SignatureError):
        verify(headers, b"", method="GET", query="JobId=job-2")


@pytest.mark.parametrize(
    ("change", "kwargs", "code"),
    [
        ({"secret_key": "wrong"}, {}, "AuthFailure.SignatureFailure"),
        ({"secret_id": "AKIDnobody"}, {}, "AuthFailure.SecretIdNotFound"),
        ({"service": "cvm"}, {}, "AuthFailure.InvalidAuthorization"),  # [3P] live answer
        ({}, {"now": 1700000301}, "AuthFailure.SignatureExpire"),
        ({}, {"now": 1699999699}, "AuthFailure.SignatureExpire"),
        ({"signed_headers": ("host",)}, {}, "AuthFailure.InvalidAuthorization"),
    ],
)
def test_verifier_rejections(change: dict[str, object], kwargs: dict[str, object],
                             code: str) -> None:
    headers, body = sign_request(**{**VECTOR, **change})  # type: ignore[arg-type]
    with pytest.raises(SignatureError) as err:
        verify(headers, body, **kwargs)
    assert err.value.code == code


def test_signed_header_missing_from_the_request() -> None:
    headers, body = sign_request(**VECTOR, signed_headers=("content-type", "host", "x-custom"),
                                 extra_headers={"X-Custom": "1"})
    assert verify(headers, body) == "AKIDEXAMPLE"
    del headers["X-Custom"]
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert err.value.code == "AuthFailure.InvalidAuthorization"


def test_skew_inside_five_minutes_and_disabled_check() -> None:
    headers, body = sign_request(**VECTOR)
    assert verify(headers, body, now=1700000300) == "AKIDEXAMPLE"
    assert verify(headers, body, now=1800000000, max_skew=None) == "AKIDEXAMPLE"


def test_credential_date_must_match_the_timestamp() -> None:
    headers, body = sign_request(**VECTOR)
    headers["Authorization"] = headers["Authorization"].replace("2023-11-14", "2023-11-15")
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert err.value.code == "AuthFailure.SignatureFailure"


CREDENTIAL = "Credential=AKIDEXAMPLE/2023-11-14/aiart/tc3_request"


@pytest.mark.parametrize(
    ("authorization", "code", "reason"),
    [
        (None, "MissingParameter", None),
        ("Bearer abc", "AuthFailure.InvalidAuthorization",
         "algorithm `Bearer` not supported, only `TC3-HMAC-SHA256`"),
        ("TC3-HMAC-SHA1 " + CREDENTIAL, "AuthFailure.InvalidAuthorization",
         "algorithm `TC3-HMAC-SHA1` not supported"),
        (f"TC3-HMAC-SHA256 {CREDENTIAL}", "AuthFailure.InvalidAuthorization",
         "`SignedHeaders` and `Signature` missing"),
        (f"TC3-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=content-type;host, Signature=",
         "AuthFailure.InvalidAuthorization", "`Signature` missing"),
        ("TC3-HMAC-SHA256 SignedHeaders=content-type;host, Signature=ab",
         "AuthFailure.InvalidAuthorization", "`Credential` missing"),
        ("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14, SignedHeaders=host, Signature=ab",
         "AuthFailure.InvalidAuthorization",
         "`Credential` must be `SecretId/Date/Service/tc3_request`"),
        ("TC3-HMAC-SHA256 Credential=A/14-11-2023/aiart/tc3_request, SignedHeaders=host, "
         "Signature=ab", "AuthFailure.InvalidAuthorization", "`Date` in Credential not valid"),
        ("TC3-HMAC-SHA256 Credential=A/2023-11-14/aiart/tc2_request, SignedHeaders=host, "
         "Signature=ab", "AuthFailure.InvalidAuthorization", "must end with `tc3_request`"),
        ("TC3-HMAC-SHA256 Credential=A/2023-11-14/aiart/tc3_request, "
         "SignedHeaders=Host;content-type, Signature=ab", "AuthFailure.InvalidAuthorization",
         "`SignedHeaders` must be lowercase"),
        (f"TC3-HMAC-SHA256 {CREDENTIAL}, Signed Headers, Signature=ab",
         "AuthFailure.InvalidAuthorization", "part `Signed Headers` is not `Name=value`"),
        (f"TC3-HMAC-SHA256 {CREDENTIAL}, Scope=x, SignedHeaders=host, Signature=ab",
         "AuthFailure.InvalidAuthorization", "unknown part `Scope`"),
        (f"TC3-HMAC-SHA256 {CREDENTIAL}, {CREDENTIAL}, SignedHeaders=host, Signature=ab",
         "AuthFailure.InvalidAuthorization", "`Credential` given twice"),
    ],
)
def test_malformed_authorization_names_the_part(authorization: str | None, code: str,
                                                reason: str | None) -> None:
    headers, body = sign_request(**VECTOR)
    del headers["Authorization"]
    if authorization is not None:
        headers["Authorization"] = authorization
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert err.value.code == code
    assert reason is None or reason in err.value.reason, err.value.reason


@pytest.mark.parametrize(("signed", "reason"), [
    (("host",), "`SignedHeaders` must include `content-type` and `host`, it lacks `content-type`"),
    (("content-type", "host", "x-custom"), "`SignedHeaders` lists `x-custom`, which the request "
                                           "does not carry"),
])
def test_signed_headers_problems_are_named(signed: tuple[str, ...], reason: str) -> None:
    headers, body = sign_request(**VECTOR, signed_headers=signed,
                                 extra_headers={"X-Custom": "1"})
    del headers["X-Custom"]
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert (err.value.code, err.value.reason) == ("AuthFailure.InvalidAuthorization", reason)


def test_a_foreign_service_is_named_as_the_live_gateway_does() -> None:
    headers, body = sign_request(**VECTOR, service="cvm")
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert err.value.reason == "`Service` in Credential not valid"


@pytest.mark.parametrize(("timestamp", "code"), [(None, "MissingParameter"),
                                                 ("soon", "InvalidParameter")])
def test_timestamp_header_problems(timestamp: str | None, code: str) -> None:
    headers, body = sign_request(**VECTOR)
    del headers["X-TC-Timestamp"]
    if timestamp is not None:
        headers["X-TC-Timestamp"] = timestamp
    with pytest.raises(SignatureError) as err:
        verify(headers, body)
    assert (err.value.code, err.value.param) == (code, "Timestamp")
