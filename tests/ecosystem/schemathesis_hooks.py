"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): keep callbacks on loopback, sign
Tencent requests, and accept the vendors' documented 5xx answers.

Generated callback URLs name random hosts, and the mock really delivers callbacks: every
http(s) callback URL is pointed at a closed loopback port instead (other strings stay, so URL
validation is still exercised). Image URLs need no hook: the test's server only fetches from
loopback (`fetch_allow_hosts`).

Every Tencent call needs a TC3-HMAC-SHA256 signature, which a generator cannot produce. The
hook signs each request to `/` the way the SDK's `unsignedPayload` option does (the body is not
hashed, so the exact bytes Schemathesis sends do not matter), with the mock's default
credential. A body that fits exactly one action's schema is sent with that action (otherwise
almost every valid body would meet the wrong action); other headers stay as generated, so bad
values are still tested; only a request that has no X-TC-Action at all is left unsigned. A
generated `Signature` query parameter (the document's signature v1 alternative) is dropped.
"""
from __future__ import annotations

import os
import time
from typing import Any

import schemathesis
from jsonschema import Draft202012Validator

from mockserver.providers.tencent.provider import DEFAULT_CREDENTIALS
from mockserver.providers.tencent.signing import sign_request

SECRET_ID, SECRET_KEY = next(iter(DEFAULT_CREDENTIALS.items()))
SIGNED = ("Authorization", "X-TC-Timestamp", "X-TC-Content-SHA256")
DEFAULT_REGION = "ap-guangzhou"
CALLBACK_SINK = "http://127.0.0.1:9/callback"  # the discard port: nothing listens


# Vendor errors whose documented HTTP status is 5xx: answering one is fidelity, not a crash.
# (path prefix, error code, message) in the vendor's envelope. Real crashes still fail the
# test through its ERROR-log check.
DOCUMENTED_5XX = {
    ("/headshots/", "api_error", "fetch failed"),  # AceData seed 000: an unfetchable image
    ("/headshots/", "api_error", "invalid image"),  # AceData: an undecodable image (inferred)
}


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if getattr(failure, "code", None) != "ST101":
        return True
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return True
    found = (error.get("code"), error.get("message"))
    return not any(case.operation.path.startswith(prefix) and found == (code, message)
                   for prefix, code, message in DOCUMENTED_5XX)


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if isinstance(body, dict):
        for key, value in body.items():
            if "callback" in str(key).lower() and isinstance(value, str) \
                    and value.strip().lower().startswith("http"):
                body[key] = CALLBACK_SINK
    return body


def _header(headers: dict[str, Any], name: str) -> str | None:
    return next((str(v) for k, v in headers.items() if k.lower() == name.lower()), None)


def _matching_action(case: Any) -> str | None:
    """The one action (per the document's `x-dispatch`) whose request schema the generated
    body satisfies, so a valid body is sent with its own action; None if not exactly one."""
    dispatch = case.operation.definition.raw.get("x-dispatch")
    if not dispatch or not isinstance(case.body, dict):
        return None
    components = case.operation.schema.raw_schema["components"]
    fits = [action for action, entry in dispatch["operations"].items() if entry.get("request")
            and Draft202012Validator({**entry["request"], "components": components}).is_valid(case.body)]
    return fits[0] if len(fits) == 1 else None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path != "/":
        return
    headers = case.headers if case.headers is not None else {}
    case.headers = headers
    action = _header(headers, "X-TC-Action")
    if action is None:
        return
    action = _matching_action(case) or action
    if isinstance(case.query, dict):  # the document's v1 alternative; this hook signs TC3
        case.query.pop("Signature", None)
    headers = {k: v for k, v in headers.items() if k.lower() != "x-tc-action"}
    headers["X-TC-Action"] = action
    # The mock requires X-TC-Region but the operation table does not list it (so the
    # document cannot): send the SDK's default region when the generator did not.
    if _header(headers, "X-TC-Region") is None:
        headers["X-TC-Region"] = DEFAULT_REGION
    case.headers = headers
    method = case.method.upper()
    default_type = "application/json" if method == "POST" else "application/x-www-form-urlencoded"
    content_type = _header(headers, "Content-Type") or default_type
    signed, _ = sign_request(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, host=os.environ["PORTRAIT_MOCK_HOST"],
        action=action, timestamp=int(time.time()), body=b"", method=method,
        content_type=content_type, unsigned_payload=True)
    replaced = {s.lower() for s in (*SIGNED, "Content-Type")}
    for name in [k for k in headers if k.lower() in replaced]:
        del headers[name]
    headers.update({name: signed[name] for name in SIGNED})
    headers["Content-Type"] = content_type
