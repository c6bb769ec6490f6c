"""How one request to `/` authenticates, and where its common parameters travel.

- TC3-HMAC-SHA256 [DOC signature v3]: an `Authorization` header; Action, Version, Region,
  Timestamp and Language in `X-TC-*` headers; the fields in a JSON body (POST) or flattened in
  the query string (GET).
- Signature v1 (HmacSHA256, HmacSHA1) [DOC signature v1 page, common parameters]: no
  `Authorization`; every common parameter, `Signature` included, travels with the flattened
  fields, in the query string (GET) or a form-urlencoded body (POST).

A request with neither (no `Authorization` and no v1 parameter) answers MissingParameter,
naming both ways to sign. Which code the real gateway answers there is INFERRED.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ...core.limits import BodyTooLarge, ClientGone
from ...web import read_request_body
from . import signing, signing_v1
from .flat import parse_form
from .models import TencentError

if TYPE_CHECKING:
    from starlette.requests import Request

    from ...web import Call


class Keys(Protocol):
    """What checking a signature needs from the provider (which imports this module)."""

    @property
    def credentials(self) -> Mapping[str, str]: ...
    @property
    def max_skew(self) -> float | None: ...
    @property
    def v1_max_bytes(self) -> int: ...

    def skew_references(self, mock_now: float) -> tuple[float, ...]: ...

FORM = "application/x-www-form-urlencoded"
# TC3's common parameters and the headers that carry them [DOC common parameters, v3].
TC3_HEADERS = {"Action": "x-tc-action", "Version": "x-tc-version", "Region": "x-tc-region",
               "Language": "x-tc-language"}
UNSIGNED_MESSAGE = ("The request is missing a required parameter `Signature` (signature v1) "
                    "or the `Authorization` header (TC3-HMAC-SHA256).")


@dataclass(frozen=True)
class Authenticated:
    """A request whose signature checked out."""

    method: str  # "TC3-HMAC-SHA256", "HmacSHA256" or "HmacSHA1"
    secret_id: str
    common: Mapping[str, str]  # Action, Version, Region, Language: those the request carried
    fields: list[tuple[str, str]] | None  # the action's flattened fields; None: a JSON body


def _headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def _query(request: Request) -> bytes:
    query: bytes = request.scope.get("query_string", b"")
    return query


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM


def v1_pairs(request: Request, body: bytes) -> list[tuple[str, str]] | None:
    """The parameters a v1 request would carry: the query of a GET, the form body of a POST."""
    if request.method == "GET":
        return parse_form(_query(request))
    if request.method == "POST" and _is_form(request):
        return parse_form(body)
    return None


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:  # INFERRED: a repeated name is ambiguous, refuse it
            raise TencentError("InvalidParameter", param=name,
                               detail=f"parameter {name} given twice")
        params[name] = value
    return params


def _error(err: signing.SignatureError) -> TencentError:
    placeholders = {k: v for k, v in (("param", err.param), ("reason", err.reason)) if v}
    return TencentError(err.code, err.message, detail=err.detail, **placeholders)


def _tc3(call: Call, provider: Keys, headers: dict[str, str]) -> Authenticated:
    query = _query(call.request).decode("latin-1")  # as received: the canonical query string
    secret_id = signing.verify_request(
        method=call.request.method, query=query, headers=headers, body=call.body,
        credentials=provider.credentials, now=provider.skew_references(call.now),
        max_skew=provider.max_skew)
    common = {name: headers[h] for name, h in TC3_HEADERS.items() if h in headers}
    fields = parse_form(_query(call.request)) if call.request.method == "GET" else None
    return Authenticated(signing.ALGORITHM, secret_id, common, fields)


def _v1(call: Call, provider: Keys, pairs: list[tuple[str, str]]) -> Authenticated:
    size = len(call.body) + len(_query(call.request))
    if size > provider.v1_max_bytes:
        raise TencentError("AuthFailure.SignatureFailure", signing_v1.TOO_LARGE_MESSAGE,
                           detail=f"signature v1 request of {size} bytes")
    params = _unique(pairs)
    secret_id = signing_v1.verify(
        method=call.request.method, host=call.request.headers.get("host", ""),
        path=call.request.url.path, params=params, credentials=provider.credentials,
        now=provider.skew_references(call.now), max_skew=provider.max_skew)
    common = {name: params[name] for name in TC3_HEADERS if name in params}
    fields = [(k, v) for k, v in pairs if k not in signing_v1.COMMON_PARAMS]
    method = (signing_v1.HMAC_SHA256 if signing_v1.hash_name(params.get("SignatureMethod"))
              == "sha256" else signing_v1.HMAC_SHA1)
    return Authenticated(method, secret_id, common, fields)


def _unsigned(headers: Mapping[str, str]) -> TencentError:
    """Neither way to sign was used: name what is missing for the way the client meant."""
    if any(name.startswith("x-tc-") and name != "x-tc-traceid" for name in headers):
        return TencentError("MissingParameter", param="Authorization",
                            detail="X-TC-* headers (TC3) but no Authorization header")
    return TencentError("MissingParameter", UNSIGNED_MESSAGE,
                        detail="no Authorization header and no signature v1 parameters")


def authenticate(call: Call, provider: Keys) -> Authenticated:
    """Verify whichever signature the request carries; the SecretId becomes the account."""
    headers = _headers(call.request)
    try:
        if headers.get("authorization"):
            found = _tc3(call, provider, headers)
        else:
            pairs = v1_pairs(call.request, call.body)
            if not pairs or not {name for name, _ in pairs} & signing_v1.COMMON_PARAMS:
                raise _unsigned(headers)
            found = _v1(call, provider, pairs)
    except signing.SignatureError as err:
        raise _error(err) from None
    call.account = found.secret_id
    call.note["signature_method"] = found.method
    return found


def v1_param(request: Request, body: bytes, name: str) -> str | None:
    """A common parameter of what looks like a v1 request, or None; never raises."""
    if "authorization" in request.headers:
        return None
    try:
        pairs = v1_pairs(request, body)
    except TencentError:
        return None
    return next((value for key, value in pairs or () if key == name), None)


def language(call: Call) -> str | None:
    """`X-TC-Language` (TC3) or the `Language` parameter (v1)."""
    return (call.request.headers.get("x-tc-language")
            or v1_param(call.request, call.body, "Language"))


async def action_name(request: Request, max_bytes: int) -> str:
    """The action a request names, before anything is checked: for fault rules and the journal.
    A form body is read at most `max_bytes` far (the pipeline then answers a larger one)."""
    action = request.headers.get("x-tc-action")
    if action is None:
        try:
            body = await read_request_body(request, max_bytes) if _is_form(request) else b""
        except (BodyTooLarge, ClientGone):
            body = b""
        action = v1_param(request, body, "Action")
    return action or ""
