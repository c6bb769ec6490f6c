"""TC3-HMAC-SHA256, Tencent Cloud API 3.0 request signing, as pure functions.

Used by the mock to verify requests and by tests and the contract kit to sign them. The
steps follow the signature-v3 documentation (vendors.md section 2): canonical request ->
string to sign -> key derivation (TC3+SecretKey, date, service, "tc3_request") -> hex HMAC.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

ALGORITHM = "TC3-HMAC-SHA256"
TERMINATOR = "tc3_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
SERVICE = "aiart"
VERSION = "2022-12-29"
SDK_SIGNED_HEADERS = ("content-type", "host")  # the official SDKs' fixed set


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The credential-scope date: the UTC calendar day of the request timestamp."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def hashed_payload(body: bytes, unsigned: bool = False) -> str:
    """With `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` the literal marker is hashed, not the body."""
    return sha256_hex(UNSIGNED_PAYLOAD.encode() if unsigned else body)


def canonical_headers(headers: Mapping[str, str], signed: Sequence[str]) -> str:
    """`name:value\\n` per signed header, names and values lowercased and trimmed (per the docs).

    `headers` must be keyed by lowercase name. The order is the client's SignedHeaders order,
    which a conforming client has sorted.
    """
    return "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)


def canonical_request(method: str, uri: str, query: str, headers: Mapping[str, str],
                      signed: Sequence[str], payload_hash: str) -> str:
    return "\n".join((method.upper(), uri, query, canonical_headers(headers, signed),
                      ";".join(signed), payload_hash))


def credential_scope(date: str, service: str = SERVICE) -> str:
    return f"{date}/{service}/{TERMINATOR}"


def string_to_sign(timestamp: int | str, scope: str, canonical: str) -> str:
    return "\n".join((ALGORITHM, str(timestamp), scope, sha256_hex(canonical.encode("utf-8"))))


def signing_key(secret_key: str, date: str, service: str = SERVICE) -> bytes:
    k_date = _hmac(f"TC3{secret_key}".encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    return _hmac(k_service, TERMINATOR)


def signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    return hmac.new(signing_key(secret_key, date, service), to_sign.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def authorization_header(secret_id: str, date: str, service: str, signed: Sequence[str],
                         sig: str) -> str:
    return (f"{ALGORITHM} Credential={secret_id}/{credential_scope(date, service)}, "
            f"SignedHeaders={';'.join(signed)}, Signature={sig}")


@dataclass(frozen=True)
class ParsedAuthorization:
    secret_id: str
    date: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PARTS = ("Credential", "SignedHeaders", "Signature")


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split an `Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.

    Raises ValueError whose text names the part that is missing or malformed, in the words of
    the gateway's live answer ("`Service` in Credential not valid", tencentcloud-sdk-go#89).
    """
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ValueError(f"algorithm `{algorithm[:40]}` not supported, only `{ALGORITHM}`"
                         if algorithm else f"algorithm missing, expected `{ALGORITHM}`")
    parts: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in rest.split(","))):
        key, sep, val = item.partition("=")
        if not sep:
            raise ValueError(f"part `{item[:40]}` is not `Name=value`")
        if key not in _PARTS:
            raise ValueError(f"unknown part `{key[:40]}`")
        if key in parts:
            raise ValueError(f"`{key}` given twice")
        parts[key] = val.strip()
    missing = [p for p in _PARTS if not parts.get(p)]
    if missing:
        raise ValueError(" and ".join(f"`{p}`" for p in missing) + " missing")
    scope = parts["Credential"].split("/")
    if len(scope) != 4 or not all(scope):
        raise ValueError("`Credential` must be `SecretId/Date/Service/tc3_request`")
    if not _DATE.fullmatch(scope[1]):
        raise ValueError("`Date` in Credential not valid")
    if scope[3] != TERMINATOR:
        raise ValueError(f"`Credential` must end with `{TERMINATOR}`")
    signed = tuple(parts["SignedHeaders"].split(";"))
    if not all(signed) or any(h != h.lower() for h in signed):
        raise ValueError("`SignedHeaders` must be lowercase header names separated by `;`")
    return ParsedAuthorization(scope[0], scope[1], scope[2], scope[3], signed,
                               parts["Signature"])


def sign_request(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    action: str,
    timestamp: int,
    params: Mapping[str, Any] | None = None,
    body: bytes | None = None,
    method: str = "POST",
    query: str = "",
    region: str | None = "ap-guangzhou",
    version: str = VERSION,
    service: str = SERVICE,
    content_type: str | None = None,
    signed_headers: Sequence[str] = SDK_SIGNED_HEADERS,
    unsigned_payload: bool = False,
    language: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a signed API 3.0 request, the way the official SDK builds them.

    `params` is serialised like the Python SDK does (`json.dumps`, default separators); pass
    `body` instead to sign exact bytes. GET requests carry their parameters in `query`.
    `signed_headers` may name any header present in the result (e.g. `x-tc-action`).
    """
    if body is None:
        body = b"" if method.upper() == "GET" else json.dumps(dict(params or {})).encode()
    if content_type is None:
        content_type = ("application/x-www-form-urlencoded" if method.upper() == "GET"
                        else "application/json")
    headers = {"Content-Type": content_type, "Host": host, "X-TC-Action": action,
               "X-TC-Timestamp": str(timestamp), "X-TC-Version": version}
    if region:
        headers["X-TC-Region"] = region
    if language:
        headers["X-TC-Language"] = language
    if unsigned_payload:
        headers["X-TC-Content-SHA256"] = UNSIGNED_PAYLOAD
    headers.update(extra_headers or {})
    lower = {k.lower(): v for k, v in headers.items()}
    date = utc_date(timestamp)
    canonical = canonical_request(method, "/", query, lower, signed_headers,
                                  hashed_payload(body, unsigned_payload))
    sig = signature(secret_key, date, service,
                    string_to_sign(timestamp, credential_scope(date, service), canonical))
    headers["Authorization"] = authorization_header(secret_id, date, service, signed_headers, sig)
    return headers, body


class SignatureError(Exception):
    """A request the gateway refuses; `code` is the Tencent error code to answer.

    `param` and `reason` fill the catalogue message's placeholders; `message` replaces it.
    """

    def __init__(self, code: str, detail: str, param: str = "", *, reason: str = "",
                 message: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.param = param
        self.reason = reason
        self.message = message


REQUIRED_SIGNED = frozenset(SDK_SIGNED_HEADERS)  # "content-type 和 host 为必选头部"


def _timestamp(headers: Mapping[str, str]) -> int:
    raw = headers.get("x-tc-timestamp")
    if raw is None:
        raise SignatureError("MissingParameter", "X-TC-Timestamp header missing", "Timestamp")
    digits = raw.strip()
    # ASCII digits only ("²".isdigit() is true), and few enough for int() (4300 at most).
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 4000:
        raise SignatureError("InvalidParameter", f"X-TC-Timestamp {raw[:40]!r} is not an "
                             "integer", "Timestamp")
    return int(digits)


def _check_signed_headers(signed: Sequence[str], headers: Mapping[str, str]) -> None:
    """`content-type` and `host` must be signed [DOC], and every signed header present."""
    lacking = sorted(REQUIRED_SIGNED - set(signed))
    if lacking:
        reason = ("`SignedHeaders` must include `content-type` and `host`, "
                  f"it lacks {', '.join(f'`{h}`' for h in lacking)}")
        raise SignatureError("AuthFailure.InvalidAuthorization", reason, reason=reason)
    absent = [h for h in signed if h not in headers]
    if absent:
        reason = (f"`SignedHeaders` lists {', '.join(f'`{h}`' for h in absent)}, "
                  f"which the request does not carry")
        raise SignatureError("AuthFailure.InvalidAuthorization", reason, reason=reason)


def verify_request(
    *,
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: float | tuple[float, ...],
    max_skew: float | None = 300.0,
    service: str = SERVICE,
) -> str:
    """Check a TC3 request against `credentials` (SecretId -> SecretKey); return the SecretId.

    `headers` must be keyed by lowercase name. The signature is recomputed from the raw body,
    the received values of the headers the client listed in SignedHeaders, and its query
    string. The timestamp must lie within `max_skew` of `now` (or of one of several reference
    times); `max_skew` None disables the check. Raises SignatureError.
    """
    value = headers.get("authorization")
    if not value:
        raise SignatureError("MissingParameter", "Authorization header missing", "Authorization")
    timestamp = _timestamp(headers)
    try:
        auth = parse_authorization(value)
    except ValueError as err:
        raise SignatureError("AuthFailure.InvalidAuthorization", str(err),
                             reason=str(err)) from None
    if auth.service != service:  # [3P] live: InvalidAuthorization, not SignatureFailure
        reason = "`Service` in Credential not valid"
        raise SignatureError("AuthFailure.InvalidAuthorization",
                             f"{reason}: {auth.service!r}, expected {service!r}", reason=reason)
    secret_key = credentials.get(auth.secret_id)
    if secret_key is None:
        raise SignatureError("AuthFailure.SecretIdNotFound", f"unknown SecretId {auth.secret_id}")
    references = now if isinstance(now, tuple) else (now,)
    if max_skew is not None and all(abs(t - timestamp) > max_skew for t in references):
        raise SignatureError("AuthFailure.SignatureExpire",
                             f"timestamp {timestamp} is {references[0] - timestamp:+.0f}s from server time")
    try:
        expected_scope = (utc_date(timestamp), service, TERMINATOR)
    except (OverflowError, ValueError, OSError):  # a timestamp no calendar can hold
        raise SignatureError("AuthFailure.SignatureFailure", "timestamp out of range") from None
    if (auth.date, auth.service, auth.terminator) != expected_scope:  # INFERRED code
        raise SignatureError("AuthFailure.SignatureFailure",
                             f"credential scope {auth.date}/{auth.service}/{auth.terminator} "
                             f"!= {'/'.join(expected_scope)} (the UTC date of the timestamp)")
    _check_signed_headers(auth.signed_headers, headers)
    unsigned = headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD
    canonical = canonical_request(method, "/", query, headers, auth.signed_headers,
                                  hashed_payload(body, unsigned))
    to_sign = string_to_sign(timestamp, credential_scope(auth.date, service), canonical)
    if not hmac.compare_digest(signature(secret_key, auth.date, service, to_sign),
                               auth.signature.lower()):
        raise SignatureError("AuthFailure.SignatureFailure", "signature mismatch")
    return auth.secret_id
