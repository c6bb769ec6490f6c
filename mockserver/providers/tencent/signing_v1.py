"""Signature v1 of Tencent Cloud API 3.0 (HmacSHA1, HmacSHA256), as pure functions.

[DOC] The API 3.0 "签名方法" (signature v1) page, e.g. cloud.tencent.com/document/api/1259/54924,
and the common-parameter page: every parameter but `Signature` is sorted by name in ASCII
order and joined as `name=value&...` with the raw, not URL-encoded, values; the string signed
is `METHOD + host + path + "?" + that`; the signature is base64(HMAC(SecretKey, string)).
`SignatureMethod=HmacSHA256` selects SHA-256, any other value or none SHA-1. The parameters
travel in the query string of a GET or the form-urlencoded body of a POST.

[SDK] The official Python SDK (`AbstractClient._build_req_with_old_signature`,
`_format_sign_string`, `Sign.sign`) builds it exactly so, adds `RequestClient`, `Language` and
`Token` as parameters, and signs a `_` in a parameter name as `.`.
"""
from __future__ import annotations

import base64
import hmac
import random
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .flat import flatten
from .signing import VERSION, SignatureError

SIGNATURE = "Signature"
HMAC_SHA1, HMAC_SHA256 = "HmacSHA1", "HmacSHA256"
# The common parameters of a v1 request [DOC common parameters]; RequestClient is the one the
# official SDKs add besides them [SDK]. Everything else is a field of the action.
COMMON_PARAMS = frozenset({"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId",
                           SIGNATURE, "SignatureMethod", "Token", "Language", "RequestClient"})
# Needed to check the signature, in the order the mock reports them missing (INFERRED order).
AUTH_PARAMS = ("Timestamp", "Nonce", "SecretId", SIGNATURE)
# [3P] v1 requests of more than about 1 MB are refused with this SignatureFailure text (live
# answers in tencentcloud-sdk-php#20, -python#42, -dotnet#75); the exact limit is INFERRED.
MAX_BYTES = 1024 * 1024
TOO_LARGE_MESSAGE = ("The provided credentials could not be validated because of exceeding "
                     "request size limit, please use new signature method `TC3-HMAC-SHA256`.")
TYPE_MESSAGE = "Parameter `{name}` type error."  # [3P] live text for `Nonce`, see flat.py


def hash_name(signature_method: str | None) -> str:
    """HmacSHA256 only when asked for by name; anything else is checked as HmacSHA1 [DOC]."""
    return "sha256" if signature_method == HMAC_SHA256 else "sha1"


def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """`GETaiart.tencentcloudapi.com/?Action=...&Nonce=...` over every parameter but Signature."""
    named = {name.replace("_", "."): value for name, value in params.items() if name != SIGNATURE}
    query = "&".join(f"{name}={named[name]}" for name in sorted(named))
    return f"{method.upper()}{host}{path}?{query}"


def signature(secret_key: str, to_sign: str, signature_method: str | None) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"),
                      hash_name(signature_method)).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_params(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    action: str,
    timestamp: int,
    params: Mapping[str, Any] | None = None,
    method: str = "POST",
    signature_method: str | None = HMAC_SHA256,
    region: str | None = "ap-guangzhou",
    version: str = VERSION,
    nonce: int | None = None,
    language: str | None = None,
    request_client: str | None = None,
    path: str = "/",
) -> dict[str, str]:
    """Every parameter of a v1 request, `Signature` included, as the official SDK builds them.

    Send them with `encode()`: as the query string of a GET, or as a POST body with
    `Content-Type: application/x-www-form-urlencoded`.
    """
    fields = dict(flatten(dict(params or {})))
    fields.update(Action=action, Timestamp=str(timestamp), Version=version, SecretId=secret_id,
                  Nonce=str(random.randint(1, sys.maxsize) if nonce is None else nonce))
    if region:
        fields["Region"] = region
    if signature_method:
        fields["SignatureMethod"] = signature_method
    if language:
        fields["Language"] = language
    if request_client:
        fields["RequestClient"] = request_client
    fields[SIGNATURE] = signature(secret_key, string_to_sign(method, host, path, fields),
                                  signature_method)
    return fields


def encode(fields: Mapping[str, str]) -> str:
    """The form encoding the SDK sends (`urllib.parse.urlencode`)."""
    return urlencode(fields)


def _integer(params: Mapping[str, str], name: str, minimum: int) -> int:
    """Timestamp (an integer) and Nonce (a positive integer) [DOC common parameters]."""
    raw = params[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4000 or int(raw) < minimum:
        raise SignatureError("InvalidParameter", f"{name}={raw[:40]!r} is not an integer "
                             f">= {minimum}", name, message=TYPE_MESSAGE.format(name=name))
    return int(raw)


def verify(
    *,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    credentials: Mapping[str, str],
    now: float | tuple[float, ...],
    max_skew: float | None = 300.0,
) -> str:
    """Check a v1 request's parameters (Signature included) against `credentials`.

    `host` is the request's Host header and `path` its path, as the client signed them. The
    timestamp must lie within `max_skew` of `now` (or of one of several reference times, the
    same rule as TC3). Returns the SecretId; raises SignatureError.
    """
    for name in AUTH_PARAMS:
        if name not in params:
            raise SignatureError("MissingParameter", f"signature v1 parameter {name} missing",
                                 name)
    timestamp = _integer(params, "Timestamp", 0)
    _integer(params, "Nonce", 1)
    secret_id = params["SecretId"]
    secret_key = credentials.get(secret_id)
    if secret_key is None:
        raise SignatureError("AuthFailure.SecretIdNotFound", f"unknown SecretId {secret_id}")
    references = now if isinstance(now, tuple) else (now,)
    if max_skew is not None and all(abs(t - timestamp) > max_skew for t in references):
        raise SignatureError("AuthFailure.SignatureExpire",
                             f"timestamp {timestamp} is {references[0] - timestamp:+.0f}s "
                             f"from server time")
    chosen = params.get("SignatureMethod")
    expected = signature(secret_key, string_to_sign(method, host, path, params), chosen)
    if not hmac.compare_digest(expected.encode(), params[SIGNATURE].encode()):
        checked = HMAC_SHA256 if hash_name(chosen) == "sha256" else HMAC_SHA1
        note = "" if chosen in (HMAC_SHA1, HMAC_SHA256) else (
            f"; SignatureMethod {chosen!r} is not HmacSHA256, so HmacSHA1 was checked")
        raise SignatureError("AuthFailure.SignatureFailure",
                             f"{checked} signature mismatch over host {host!r}{note}")
    return secret_id
