"""Tencent Cloud aiart GlamPic: TC3-HMAC-SHA256 signing, every action on `POST /`, HTTP 200
for every answer (errors in `Response.Error`), jobs polled with QueryGlamPicJob.

Facts: seed 002 and vendors.md section 2. Signing reuses the provider's pure functions
(`mockserver/providers/tencent/signing.py`), which follow the documented algorithm.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from mockserver.core.operations import OperationSpec
from mockserver.providers.tencent import signing, signing_v1

from ..checks import Expect
from ..targets import Exchange
from .base import Adapter, Credentials, Probe

SUBMIT, QUERY = "SubmitGlamPicJob", "QueryGlamPicJob"
GONE = "FailedOperation.JobNotExist"  # unknown, foreign and expired JobIds [SDK code; use INFERRED]
VALUE_ERRORS = frozenset({"InvalidParameterValue*", "InvalidParameter.InvalidParameter"})


def _v1_params(headers: Mapping[str, str], query: str, body: bytes) -> dict[str, str]:
    """The parameters of a signature v1 request: its query string, or its form body."""
    form = headers.get("content-type", "").split(";")[0].strip().lower() == \
        "application/x-www-form-urlencoded"
    text = query or (body.decode("utf-8", "replace") if form else "")
    return dict(parse_qsl(text, keep_blank_values=True))


class TencentAdapter(Adapter):
    vendor = "tencent"
    source = ("Tencent aiart GlamPic docs: seed 002, vendors.md section 2, the API 3.0 "
              "signature and common-error pages (contract_tests/adapters/tencent.py)")
    credential_env = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")
    signs_requests = True
    content_type_source = ("tencentcloud-sdk-python common/abstract_client.py: Response.Error "
                           "is read only when Content-Type is exactly application/json")
    # RequestLimitExceeded, .JobNumExceed (the queue cap), .UinLimitExceeded: HTTP 200 [SDK].
    throttle_prefixes = ("RequestLimitExceeded",)
    min_interval = 0.2  # 20 requests/s for the aiart portrait APIs [DOC]; be gentler
    submit_op, poll_op = SUBMIT, QUERY
    states = frozenset({"1", "2", "4", "5", GONE})
    # "1" waiting -> "2" running -> "5" done | "4" failed [DOC]; a poll may miss "2"; a finished
    # job is eventually gone (retention INFERRED).
    transitions = {
        "1": frozenset({"2", "4", "5", GONE}),
        "2": frozenset({"4", "5", GONE}),
        "4": frozenset({GONE}),
        "5": frozenset({GONE}),
        GONE: frozenset(),
    }
    done_states = frozenset({"5"})
    expired_states = frozenset({GONE})
    state_kinds = {"queued": frozenset({"1"}), "running": frozenset({"2"}),
                   "succeeded": frozenset({"5"}), "failed": frozenset({"4"}),
                   "expired": frozenset({GONE}), "unknown": frozenset({GONE})}

    def auth_headers(self, creds: Credentials, spec: OperationSpec, path: str,
                     headers: Mapping[str, str], content: bytes) -> dict[str, str]:
        return self.signed(creds, spec, headers, content, query=urlsplit(path).query)

    def signed(self, creds: Credentials, spec: OperationSpec, headers: Mapping[str, str],
               content: bytes, *, query: str = "", timestamp: int | None = None,
               secret_key: str | None = None) -> dict[str, str]:
        """The headers of a correctly signed request (or one signed with `secret_key`)."""
        sent, _ = signing.sign_request(
            secret_id=creds.secrets[0], secret_key=secret_key or creds.secrets[1],
            host=urlsplit(self.target.base_url).netloc, action=spec.operation,
            timestamp=timestamp or int(self.target.now()), body=content, method=spec.method,
            query=query, content_type=headers.get("Content-Type"),
        )
        return {k: v for k, v in sent.items() if k != "Host"}

    def base_headers(self, spec: OperationSpec) -> dict[str, str]:
        # The spec's Authorization and timestamp are descriptions; these are real values.
        return {"X-TC-Action": spec.operation, "X-TC-Version": signing.VERSION,
                "X-TC-Region": spec.required_headers.get("X-TC-Region", "ap-guangzhou"),
                **self.refreshed_headers(spec)}

    def refreshed_headers(self, spec: OperationSpec) -> dict[str, str]:
        """The signed timestamp: after the clock moved to wait out a refusal it is re-read."""
        return {"X-TC-Timestamp": str(int(self.target.now()))}

    def encode(self, spec: OperationSpec, body: Any) -> tuple[bytes, dict[str, str]]:
        if spec.method == "GET":  # parameters travel in the query string
            return b"", {"Content-Type": spec.request_content_type}
        return super().encode(spec, body)

    def clock_was_stale(self, ex: Exchange) -> bool:
        return self.target.is_mock and self.error_code(ex) == "AuthFailure.SignatureExpire"

    def content_type_ok(self, content_type: str) -> bool:
        # The Python SDK ignores Response.Error unless the type is exactly this [SDK].
        return content_type == "application/json"

    def throttled(self, ex: Exchange) -> bool:
        return (self.error_code(ex) or "").startswith("RequestLimitExceeded")

    # --- bodies -------------------------------------------------------------------------------

    def repair(self, body: Any) -> Any:
        fixed = dict(body)
        users = body["FaceInfos"][:1]  # the single-face template fits one user
        fixed["TemplateUrl"] = self.target.fixture_url("template.jpg")
        fixed["FaceInfos"] = [{"ImageUrls": [self.target.fixture_url("face.jpg")]
                               * len(u["ImageUrls"])} for u in users]
        if "Style" in body:  # one style per image for a single user [DOC]
            fixed["Style"] = (body["Style"] * 4)[: body.get("Num", 4)]
        if "LogoParam" in body:
            fixed["LogoParam"] = {"LogoUrl": self.target.fixture_url("face_small.jpg")}
        return fixed

    def example_body(self) -> dict[str, Any]:
        return {"TemplateUrl": self.target.fixture_url("template.jpg"),
                "FaceInfos": [{"ImageUrls": [self.target.fixture_url("face.jpg")]}],
                "Num": 1, "Style": ["real"], "Similarity": 0.6, "Clarity": "x2",
                "LogoParam": {"LogoUrl": self.target.fixture_url("face_small.jpg"),
                              "LogoRect": {"X": 0, "Y": 0, "Width": 10, "Height": 10}}}

    def failing_body(self) -> dict[str, Any]:
        """A user photo without a face: the job ends in "4" [DOC Query example: errors of the
        images show inside the failed job]."""
        return {**self.example_body(),
                "FaceInfos": [{"ImageUrls": [self.target.fixture_url("no_face.jpg")]}]}

    # --- answers ------------------------------------------------------------------------------

    def _response(self, ex: Exchange) -> dict[str, Any]:
        body = ex.json
        found = body.get("Response") if isinstance(body, dict) else None
        return found if isinstance(found, dict) else {}

    def error_code(self, ex: Exchange) -> str | None:
        error = self._response(ex).get("Error")
        code = error.get("Code") if isinstance(error, dict) else None
        return code if isinstance(code, str) else None

    def task_id(self, ex: Exchange) -> str | None:
        found = self._response(ex).get("JobId")
        return found if isinstance(found, str) else None

    def state(self, ex: Exchange) -> str | None:
        if self.error_code(ex) == GONE:
            return GONE
        found = self._response(ex).get("JobStatusCode")
        return found if isinstance(found, str) else None

    def has_results(self, ex: Exchange) -> bool:
        return bool(self._response(ex).get("ResultImage"))

    def invisible(self, ex: Exchange) -> bool:
        return self.error_code(ex) == GONE

    def unknown_task_id(self) -> str:
        return f"1000000000-{int(time.time())}-{uuid.uuid1()}-0"

    def poll(self, creds: Credentials, task_id: str) -> Exchange:
        return self.call(QUERY, creds, body={"JobId": task_id})

    # --- the validating proxy ----------------------------------------------------------------

    def action_of(self, headers: Mapping[str, str], query: str, body: bytes) -> str | None:
        """X-TC-Action (TC3), else the Action parameter (signature v1)."""
        lower = {k.lower(): v for k, v in headers.items()}
        return lower.get("x-tc-action") or _v1_params(lower, query, body).get("Action")

    def request_task_id(self, ex: Exchange) -> str | None:
        try:
            body = json.loads(ex.request_body) if ex.request_body else {}
        except ValueError:
            body = {}
        found = body.get("JobId") if isinstance(body, dict) else None
        if found is None:
            found = _v1_params(ex.request_headers, urlsplit(ex.url).query,
                               ex.request_body).get("JobId")
        return found if isinstance(found, str) else None

    def resign(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               host: str, creds: Credentials) -> tuple[str, dict[str, str], bytes]:
        """TC3: a new Authorization for `host` over the same method, query, headers, body and
        timestamp (a stale request stays stale). Signature v1: SecretId and Signature
        replaced in the query (GET) or the form body (POST)."""
        lower = {k.lower(): v for k, v in headers.items()}
        if "authorization" in lower:
            kept = {k: v for k, v in headers.items() if k.lower() != "authorization"
                    and k.lower() != "x-tc-token"}
            signed, _ = signing.sign_request(
                secret_id=creds.secrets[0], secret_key=creds.secrets[1], host=host,
                action=lower.get("x-tc-action", ""), timestamp=int(lower.get("x-tc-timestamp")
                                                                    or time.time()),
                body=body, method=method, query=query, region=lower.get("x-tc-region"),
                version=lower.get("x-tc-version", signing.VERSION),
                content_type=lower.get("content-type"), language=lower.get("x-tc-language"))
            drop = {k.lower() for k in signed}
            return query, {**{k: v for k, v in kept.items() if k.lower() not in drop},
                           **{k: v for k, v in signed.items() if k != "Host"}}, body
        params = _v1_params(lower, query, body)
        if signing_v1.SIGNATURE not in params:
            return query, headers, body
        params = {k: v for k, v in params.items() if k != signing_v1.SIGNATURE}
        params["SecretId"] = creds.secrets[0]
        params[signing_v1.SIGNATURE] = signing_v1.signature(
            creds.secrets[1], signing_v1.string_to_sign(method, host, path, params),
            params.get("SignatureMethod"))
        encoded = signing_v1.encode(params)
        if method == "GET":
            return encoded, headers, body
        return query, headers, encoded.encode()

    # --- probes -------------------------------------------------------------------------------

    def auth_probes(self) -> list[Probe]:
        creds = self.credentials("A")
        assert creds is not None
        body = {"JobId": self.unknown_task_id()}
        spec = self.spec(QUERY)
        content, base = self.encode(spec, body)
        stale = self.signed(creds, spec, base, content, timestamp=int(self.target.now()) - 3600)
        forged = self.signed(creds, spec, base, content, secret_key="not-the-secret")
        stranger = self.signed(Credentials("x", ("AKIDnobody00", "x")), spec, base, content)

        def expect(*codes: str) -> Expect:
            return Expect(200, frozenset(codes))

        return [
            Probe("no-authorization", QUERY, expect("AuthFailure.InvalidAuthorization",
                                                    "MissingParameter"), body, sign=False),
            Probe("malformed-authorization", QUERY, expect("AuthFailure.InvalidAuthorization"),
                  body, headers={**forged, "Authorization": "TC3-HMAC-SHA256 garbage"},
                  sign=False),
            Probe("unknown-secret-id", QUERY, expect("AuthFailure.SecretIdNotFound"), body,
                  headers=stranger, sign=False),
            Probe("bad-signature", QUERY, expect("AuthFailure.SignatureFailure"), body,
                  headers=forged, sign=False),
            Probe("expired-signature", QUERY, expect("AuthFailure.SignatureExpire"), body,
                  headers=stale, sign=False),
        ]

    def extra_probes(self) -> list[Probe]:
        body = self.example_body()
        gone = Expect(200, frozenset({GONE}))
        return [
            Probe("unknown-action", SUBMIT, Expect(200, frozenset({"InvalidAction"})), body,
                  headers={"X-TC-Action": "SubmitNoSuchJob"}),
            Probe("unknown-version", SUBMIT, Expect(200, frozenset({"NoSuchVersion"})), body,
                  headers={"X-TC-Version": "2017-03-12"}),
            Probe("unknown-parameter", SUBMIT, Expect(200, frozenset({"UnknownParameter"})),
                  {**body, "Colour": "blue"}),
            Probe("not-json", SUBMIT, Expect(200, frozenset({"InvalidParameter"})), b"[1, 2"),
            Probe("query-unknown-job", QUERY, gone, {"JobId": self.unknown_task_id()}),
            # The GET forms of both actions: parameters flattened into the query string.
            Probe("get-query-unknown-job", QUERY, gone, method="GET",
                  query=urlencode({"JobId": self.unknown_task_id()})),
            Probe("get-submit-missing-template", SUBMIT,
                  Expect(200, frozenset({"MissingParameter"})), method="GET",
                  query=urlencode({"FaceInfos.0.ImageUrls.0": self.target.fixture_url("face.jpg")})),
        ]

    def validation_expect(self, violation_kind: str, path: tuple[str | int, ...]) -> Expect:
        if path[:1] == ("LogoParam",):  # a malformed mark [SDK code; use INFERRED]
            generic = self.validation_expect(violation_kind, ())
            return Expect(200, frozenset({"InvalidParameterValue.LogoParamErr",
                                          *(generic.codes or ())}))
        if violation_kind == "missing":
            return Expect(200, frozenset({"MissingParameter"}))
        if violation_kind == "wrong-type":
            return Expect(200, frozenset({"InvalidParameter"}))
        return Expect(200, VALUE_ERRORS)


ADAPTER = TencentAdapter
