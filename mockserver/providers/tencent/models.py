"""Tencent aiart GlamPic: request rules, job ids, job views and code mappings. No HTTP here.

Facts: seed 002 (SubmitGlamPicJob), the QueryGlamPicJob doc and the SDK's models/errorcodes
(vendors.md section 2). Anything marked INFERRED is our choice where the docs are silent.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jsonschema.exceptions import ValidationError

from ...core.errors import VendorError
from ...core.image_fetch import Problem
from ...core.tasks import State, Task

GATEWAY = "api"  # the operation name of a request whose action is not an emulated one
STYLES = ("real", "balanced", "textured", "beautiful")
MULTI_USER_STYLE = "balanced"  # "多人美照只支持 balanced 一种风格" (seed 002)
DEFAULT_NUM = 4
DEFAULT_SIMILARITY = 0.6
RESULT_BASE_SIZE = (600, 800)  # INFERRED: the docs give no output resolution
CLARITY_SCALE = {None: 1, "x2": 2, "x4": 4}

# JobStatusCode and JobStatusMsg per engine state (QueryGlamPicJob doc: 1 等待中/排队中,
# 2 运行中/处理中, 4 处理失败, 5 处理完成; the Msg words are the documented JobStatusMsg list).
JOB_STATUS: dict[State, tuple[str, str, str]] = {
    State.QUEUED: ("1", "排队中", "tencent/job-waiting"),
    State.RUNNING: ("2", "处理中", "tencent/job-running"),
    State.FAILED: ("4", "处理失败", "tencent/job-failed"),
    State.SUCCEEDED: ("5", "处理完成", "tencent/job-done"),
}

# The JobErrorCode of a job whose image cannot be downloaded. The QueryGlamPicJob reference
# (cloud.tencent.com/document/api/1668/116225) shows FailedOperation.DownloadError / 文件下载失败。
# as the job's error: the default. `[vendors.tencent] download_error_code` selects the SDK's
# errorcodes.py FailedOperation.ImageDownloadError (a call-level code of other aiart actions),
# which this mock answered before.
DOWNLOAD_ERROR_CODES = ("FailedOperation.DownloadError", "FailedOperation.ImageDownloadError")
DOWNLOAD_PROBLEMS = frozenset({Problem.DOWNLOAD_FAILED, Problem.URL_FORBIDDEN})

# Image problems (core.image_fetch.Problem) -> the JobErrorCode of the failed job. Seed 002 says
# SubmitGlamPicJob has no business error codes and the Query doc shows a download failure inside
# the job, so image problems fail the job instead of the submit call.
IMAGE_PROBLEM_CODES: dict[Problem, str] = {
    Problem.DOWNLOAD_FAILED: DOWNLOAD_ERROR_CODES[0],  # [DOC] Query reference example
    Problem.URL_FORBIDDEN: DOWNLOAD_ERROR_CODES[0],  # the fetch policy refused it: a download error
    Problem.TOO_MANY_BYTES: "FailedOperation.ImageSizeExceed",
    Problem.UNSUPPORTED_FORMAT: "FailedOperation.ImageDecodeFailed",
    Problem.DECODE_FAILED: "FailedOperation.ImageDecodeFailed",
    Problem.TOO_LARGE: "FailedOperation.ImageResolutionExceed",
    Problem.TOO_SMALL: "InvalidParameterValue.ParameterValueError",  # INFERRED (side <= 300)
    # INFERRED: aiart has no face code; face rules (single-person user photos, template faces
    # >= users, <= 5 template faces) answer the generic "参数不合法".
    Problem.NO_FACE: "InvalidParameter.InvalidParameter",
    Problem.MULTIPLE_FACES: "InvalidParameter.InvalidParameter",
    Problem.FACE_TOO_SMALL: "InvalidParameter.InvalidParameter",
    Problem.TOO_MANY_FACES: "InvalidParameter.InvalidParameter",
    Problem.TOO_FEW_FACES: "InvalidParameter.InvalidParameter",
}


class TencentError(VendorError):
    """A VendorError whose catalogue message has `{placeholders}` (e.g. the parameter name)."""

    def __init__(self, code: str, message: str | None = None, *, detail: str = "",
                 **params: str) -> None:
        super().__init__(code, message, detail=detail)
        self.params = params


# --- request parameters -------------------------------------------------------------------

def _dotted(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path)


def _is_image_path(path: list[Any]) -> bool:
    names = [p for p in path if isinstance(p, str)]
    return names in (["TemplateUrl"], ["FaceInfos"], ["FaceInfos", "ImageUrls"])


def _code_for(error: ValidationError) -> tuple[str, str]:
    """(Tencent code, parameter name) for one schema failure; see docs/tencent.md."""
    path = list(error.absolute_path)
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    explicit = schema.get("x-error-code")
    if error.validator == "additionalProperties":
        known = schema.get("properties", {})
        extra = next((k for k in instance if k not in known), "")
        return "UnknownParameter", _dotted([*path, extra])
    if explicit:
        return explicit, _dotted(path)
    if path[:1] == ["LogoParam"]:  # any malformed logo setting, missing parts included
        return "InvalidParameterValue.LogoParamErr", _dotted(path)
    if error.validator == "required":
        wanted: Any = error.validator_value
        missing = next((k for k in wanted if k not in instance), "")
        return "MissingParameter", _dotted([*path, missing])
    if error.validator == "type":
        return "InvalidParameter", _dotted(path)
    if _is_image_path(path) and error.instance in ("", []):
        return "InvalidParameterValue.ImageEmpty", _dotted(path)
    if _is_image_path(path) and error.validator == "pattern":
        return "InvalidParameterValue.UrlIllegal", _dotted(path)
    return "InvalidParameterValue.ParameterValueError", _dotted(path)


# Missing and unknown parameters are reported before type errors, type errors before values.
_PRIORITY = {"MissingParameter": 0, "UnknownParameter": 1, "InvalidParameter": 2}


def request_error(errors: Iterable[ValidationError]) -> TencentError | None:
    """The one error to answer for a request that failed its schema, or None if it passed."""
    found = [(*_code_for(e), e.message) for e in errors]
    if not found:
        return None
    # Ties go to the first failure found, i.e. the schema's (documented) field order.
    _, (code, param, message) = min(enumerate(found),
                                    key=lambda f: (_PRIORITY.get(f[1][0], 3), f[0]))
    return TencentError(code, param=param, detail=f"{param or '(body)'}: {message}")


# --- jobs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GlamJob:
    """A validated SubmitGlamPicJob request, reduced to what the emulation needs."""

    template_url: str
    user_urls: tuple[tuple[str, ...], ...]
    num: int
    styles: tuple[str, ...]
    similarity: float
    clarity: str | None
    logo: str  # "default" (the "图片由 AI 生成" mark), "custom" or "none"

    @property
    def size(self) -> tuple[int, int]:
        scale = CLARITY_SCALE[self.clarity]
        return RESULT_BASE_SIZE[0] * scale, RESULT_BASE_SIZE[1] * scale

    def data(self) -> dict[str, Any]:
        width, height = self.size
        return {"num": self.num, "styles": list(self.styles), "users": len(self.user_urls),
                "similarity": self.similarity, "clarity": self.clarity, "logo": self.logo,
                "width": width, "height": height}


def plan_job(params: Mapping[str, Any], job_id: str) -> GlamJob:
    """Defaults and the documented style rules, for a request that passed its schema."""
    users = tuple(tuple(f["ImageUrls"]) for f in params["FaceInfos"])
    num = int(params.get("Num", DEFAULT_NUM))
    if len(users) > 1:
        styles = (MULTI_USER_STYLE,) * num  # Style "不生效" for multi-user jobs
    elif "Style" in params:
        styles = tuple(params["Style"])
    else:  # "默认取不重复的随机风格顺序": a non-repeating random order, seeded by the job
        styles = tuple(random.Random(job_id).sample(STYLES, num))
    logo_add = params.get("LogoAdd", 1)
    logo = "none" if logo_add == 0 else ("custom" if "LogoParam" in params else "default")
    return GlamJob(template_url=params["TemplateUrl"], user_urls=users, num=num, styles=styles,
                   similarity=float(params.get("Similarity", DEFAULT_SIMILARITY)),
                   clarity=params.get("Clarity"), logo=logo)


def account_number(secret_id: str) -> int:
    """A stable 9-digit number per SecretId, standing in for the account's id in JobIds."""
    return 100_000_000 + int(hashlib.sha256(secret_id.encode()).hexdigest(), 16) % 900_000_000


def new_job_id(secret_id: str, now: float) -> str:
    """`<digits>-<unix ts>-<uuid v1>-0`, the shape of the documented examples (INFERRED)."""
    return f"{account_number(secret_id)}-{int(now)}-{uuid.uuid1()}-0"


# --- job views ----------------------------------------------------------------------------

_COS_KEY = b"portrait-mockserver-cos"  # signs the fake q-signature; nothing checks it
COS_AK = "AKIDmockcos"


def signed_result_url(url: str, start: float, ttl: float) -> str:
    """Append a COS-style presigned query valid for [start, start+ttl] (shape as documented)."""
    window = f"{int(start)};{int(start + ttl)}"
    signature = hmac.new(_COS_KEY, f"{url}\n{window}".encode(), hashlib.sha1).hexdigest()
    query = urlencode({"q-sign-algorithm": "sha1", "q-ak": COS_AK, "q-sign-time": window,
                       "q-key-time": window, "q-header-list": "host", "q-url-param-list": "",
                       "q-signature": signature}, safe=";")
    return f"{url}?{query}"


def job_view(task: Task, now: float, result_urls: list[str]) -> tuple[str, dict[str, Any]] | None:
    """(schema, Response fields) for QueryGlamPicJob, or None once the job is gone."""
    state = task.state_at(now)
    if state not in JOB_STATUS:
        return None
    code, message, schema = JOB_STATUS[state]
    done = state is State.SUCCEEDED
    fields: dict[str, Any] = {
        "JobStatusCode": code,
        "JobStatusMsg": message,
        "JobErrorCode": (task.error_code or "") if state is State.FAILED else "",
        "JobErrorMsg": (task.error_message or "") if state is State.FAILED else "",
        "ResultImage": result_urls if done else [],
        "ResultDetails": ["Success"] * len(result_urls) if done else [],
    }
    return schema, fields
