"""Tencent Cloud AI Art (aiart 2022-12-29) GlamPic jobs, seed 002 and vendors.md section 2."""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...core.errors import VendorError
from ...core.ids import uuid4
from ...core.image_fetch import Problem
from ...core.input_checks import InputChecks, needs_check
from ...core.keypairs import KeyTable
from ...core.render import content_type, render_image
from ...core.runtime import Runtime
from ...core.tasks import State, Task
from ...web import Call, Reply
from ..base import Provider, ResultFile
from ..options import INTEGER, NUMBER, STRING, STRINGS, Option
from ..spec import DAY, BodyLimit, ErrorCodes, TimingDefaults, VendorSpec
from . import gateway, models, signing_v1
from .inputs import TEMPLATE_RULES, USER_RULES, verdict
from .models import DOWNLOAD_ERROR_CODES, DOWNLOAD_PROBLEMS, IMAGE_PROBLEM_CODES

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

HOUR = 3600.0
# Regions named on the aiart endpoint page (Guangzhou, Shanghai, Nanjing, Beijing); the
# southwest and Hong Kong entries are INFERRED. `[vendors.tencent] regions = []` accepts any.
DEFAULT_REGIONS = ("ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu",
                   "ap-chongqing", "ap-hongkong", "ap-singapore")
ENGLISH = "en-US"
# The key pair accepted with no configuration; `[auth.tencent]` adds more.
DEFAULT_CREDENTIALS: Mapping[str, str] = {"AKIDmock": "mock-secret"}
TC3_SCHEME = {
    "type": "apiKey", "in": "header", "name": "Authorization",
    "description": "TC3-HMAC-SHA256 signature over the canonical request (`X-TC-Timestamp` and "
                   "the `Host` header are part of it). Errors, including signature failures, "
                   "answer HTTP 200."}
# Signature v1, the alternative to TC3 (docs/tencent.md).
V1_SCHEME = {
    "type": "apiKey", "in": "query", "name": "Signature",
    "description": "Signature v1 (HmacSHA256 or HmacSHA1), the alternative to TC3: no "
                   "Authorization and no X-TC-* headers. The common parameters Action, Version, "
                   "Region, Timestamp, Nonce, SecretId, SignatureMethod and Signature travel with "
                   "the action's flattened fields (FaceInfos.0.ImageUrls.0=...) in the query "
                   "string (GET) or an application/x-www-form-urlencoded body (POST). Signature = "
                   "base64(HMAC(SecretKey, METHOD + Host + path + '?' + the name=value pairs "
                   "sorted by name)). Errors answer HTTP 200."}

SPEC = VendorSpec(
    name="tencent",
    title="Tencent Cloud AI Art GlamPic",
    hosts=("aiart.tencentcloudapi.com",),
    host_patterns=(r"aiart\.[a-z0-9-]+\.tencentcloudapi\.com",),  # aiart.<region>.
    security_schemes={"tc3": TC3_SCHEME, "tc-signature-v1": V1_SCHEME},
    prefixes=(),  # the API lives at "/" exactly; claiming "/" would swallow every path
    errors=ErrorCodes(bad_request="InvalidParameter", internal="InternalError",
                      not_found="InvalidAction", rate_limited="RequestLimitExceeded",
                      queue_full="RequestLimitExceeded.JobNumExceed"),
    # Durations INFERRED; one job processing at a time per account is documented.
    timings={"": TimingDefaults(queue=2.0, run=30.0, ttl=DAY, concurrency=1)},
    pool="glampic",
    # The aiart overview lists 20 requests/s for the sibling portrait APIs; GlamPic INFERRED.
    rates={"submit": 20, "query": 20},
    max_queued=10,  # jobs an account may have waiting ("1"); INFERRED 10
    result_ttl=HOUR,  # result URLs are valid 1 hour (DOC), counted from the job's end (INFERRED)
    image_rules={"template": TEMPLATE_RULES, "user": USER_RULES},
    # DOC: the API 3.0 gateway takes TC3 POST bodies up to 10 MB. Which of its two codes it
    # answers (RequestSizeLimitExceeded or this one) is not documented (vendors-2026-12 TC-4).
    body_limit=BodyLimit(10 * 1024 * 1024, "FailedOperation.RequestEntityTooLarge"),
    options=(
        Option("max_skew_seconds", NUMBER, 300.0,
               "allowed |X-TC-Timestamp - clock| in seconds (documented 5 minutes); 0 disables"),
        Option("skew_clock", STRING, "either", "which clock the timestamp is compared with",
               choices=("either", "mock", "wall")),
        Option("regions", STRINGS, DEFAULT_REGIONS, "accepted X-TC-Region values (empty: any)"),
        Option("download_error_code", STRING, DOWNLOAD_ERROR_CODES[0],
               "JobErrorCode of a job whose image cannot be downloaded: the Query reference's "
               "(default) or the SDK's older one", choices=DOWNLOAD_ERROR_CODES),
        Option("v1_max_bytes", INTEGER, signing_v1.MAX_BYTES,
               "largest signature v1 request, query plus body (about 1 MB seen live; the "
               "exact figure is inferred)", minimum=1),
    ),
)


# What a catalogue placeholder reads when nobody filled it in (an injected fault, say).
PLACEHOLDER_DEFAULTS = {"reason": "it is malformed"}


class _Blank(dict[str, str]):
    """format_map() helper: a placeholder nobody filled in renders its default or empty,
    never KeyError."""

    def __missing__(self, key: str) -> str:
        return PLACEHOLDER_DEFAULTS.get(key, "")


class Tencent(Provider):
    spec = SPEC

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.english = {code: e["message_en"] for code, e in self.catalogue.raw.items()
                        if "message_en" in e}
        self.inputs = InputChecks(runtime.store, lambda task: verdict(self, task))
        runtime.shutdown.append(self.inputs.close)
        # Read per request: a pair added at run time (POST /__admin/credentials/tencent)
        # signs from its next request on. Generated SecretIds start with AKID like the
        # examples of the signature documentation (that every real one does is INFERRED).
        self.key_table = KeyTable(runtime.store, self.name, {
            **DEFAULT_CREDENTIALS, **runtime.settings.credentials.get(self.name, {})},
            id_prefix="AKID")
        self.credentials: Mapping[str, str] = self.key_table

    # --- options -------------------------------------------------------------------------

    @property
    def max_skew(self) -> float | None:
        """Allowed |X-TC-Timestamp - mock clock| in seconds (DOC: 5 minutes); <= 0 disables."""
        skew = self.options.number("max_skew_seconds")
        return skew if skew > 0 else None

    def skew_references(self, mock_now: float) -> tuple[float, ...]:
        """The times a request's X-TC-Timestamp is compared with (`skew_clock` option).

        "either" (default): within 5 minutes of the mock's clock or of the wall clock, because
        the SDK signs with the wall clock while tests move the mock's clock on; a stale
        signature is still refused. "mock" or "wall" compare with that clock only.
        """
        choice = self.options.text("skew_clock")
        if choice == "mock":
            return (mock_now,)
        if choice == "wall":
            return (time.time(),)
        return (mock_now, time.time())

    def image_problem_code(self, problem: Problem) -> str:
        """The JobErrorCode of a job that failed on one of its images."""
        if problem in DOWNLOAD_PROBLEMS:
            return self.options.text("download_error_code")
        return IMAGE_PROBLEM_CODES[problem]

    @property
    def v1_max_bytes(self) -> int:
        """Largest signature v1 request (query plus body); [3P] about 1 MB, exact INFERRED."""
        return self.options.integer("v1_max_bytes")

    @property
    def regions(self) -> frozenset[str]:
        return self.options.strings("regions")

    # --- Provider interface --------------------------------------------------------------

    def operation_names(self) -> frozenset[str]:
        return super().operation_names() | {models.GATEWAY}

    def request_error(self, call: Call, errors: list[ValidationError]) -> VendorError:
        return models.request_error(errors) or models.TencentError(self.bad_request_code)

    def claimed_account(self, headers: Mapping[str, str]) -> str | None:
        """The SecretId of a TC3 `Authorization` header (`Credential=<SecretId>/...`)."""
        value = (headers.get("authorization") or "").strip()
        if "Credential=" not in value:
            return None
        return value.split("Credential=", 1)[1].split("/", 1)[0].strip() or None

    def message(self, code: str, default: str, language: str | None) -> str:
        """`en-US` (X-TC-Language, or v1's Language) picks the English text where the catalogue
        has one."""
        if language == ENGLISH:
            return self.english.get(code, default)
        return default

    def error_reply(self, error: VendorError, call: Call | None) -> Reply:
        entry = self.catalogue.resolve(error)
        language = gateway.language(call) if call else None
        text = entry.message if error.message is not None else self.message(
            entry.code, entry.message, language)
        text = text.format_map(_Blank(getattr(error, "params", {})))
        body = {"Response": {"Error": {"Code": entry.code, "Message": text},
                             "RequestId": call.request_id if call else uuid4()}}
        return Reply(200, body, "tencent/error", headers=error.headers)

    def setup_hint(self, base_url: str) -> str:
        endpoint = base_url.split("://", 1)[-1]
        return (f"HttpProfile(endpoint='{endpoint}', protocol='http') with "
                f"Credential('AKIDmock', 'mock-secret')")

    def result_names(self, task: Task) -> list[str]:
        return [f"{index}.jpg" for index in range(task.data.get("num", 0))]

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        if name not in self.result_names(task):
            return None
        index = name.partition(".")[0]
        if needs_check(task) or task.state_at(self.runtime.clock.now()) is not State.SUCCEEDED:
            return None
        assert task.end_at is not None
        data = task.data
        lines = ("GlamPic", f"style: {data['styles'][int(index)]}", f"logo: {data['logo']}",
                 f"{task.id[:16]} #{index}")
        image = render_image(f"{task.id}/{index}", data["width"], data["height"], "jpg", lines)
        return ResultFile(image, content_type("jpg"), task.end_at + self.result_ttl)

