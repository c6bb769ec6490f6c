"""DashScope facechain-generation: request rules and task views. No HTTP in here."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from ...core.errors import VendorError
from ...core.tasks import State, Task

MODEL = "facechain-generation"
PRESET_STYLES = frozenset({
    "f_idcard_male", "f_business_male", "f_idcard_female", "f_business_female",
    "m_springflower_female", "f_summersport_female", "f_autumnleaf_female",
    "m_winterchinese_female", "f_hongkongvintage_female", "f_lightportray_female",
})
TEMPLATE_STYLE = "portrait_url_template"
TRAIN_FREE_STYLE = "train_free_portrait_url_template"
DEFAULT_SIZE = "768*1024"
DEFAULT_N = 4
REGION = "cn-beijing"  # facechain is served in Beijing only [DOC]
BEIJING = timezone(timedelta(hours=8))  # DashScope reports times in China Standard Time
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Vendor task states, as the query answers them.
STATUS = {
    State.QUEUED: "PENDING", State.RUNNING: "RUNNING", State.SUCCEEDED: "SUCCEEDED",
    State.FAILED: "FAILED", State.CANCELED: "CANCELED", State.EXPIRED: "UNKNOWN",
}


@dataclass(frozen=True)
class PortraitJob:
    """A validated gen_potrait request."""

    style: str
    n: int
    width: int
    height: int
    template_url: str | None
    user_urls: tuple[str, ...]
    skin_retouch: bool = True  # train-free beautifying of the user photos [DOC current reference]


def _invalid(detail: str) -> VendorError:
    return VendorError("InvalidParameter", detail=detail)


def check_url(url: str) -> None:
    """DashScope rejects URLs that are not http(s) or contain Chinese characters."""
    if not url.startswith(("http://", "https://")) or _CJK.search(url):
        raise VendorError("InvalidURL")


def parse_job(body: dict[str, Any], allowed_sizes: frozenset[str]) -> PortraitJob:
    """Apply the cross-field rules that the JSON Schema cannot express (seed 004)."""
    params = body.get("parameters") or {}
    inputs = body.get("input") or {}
    resources = body.get("resources") or []
    style = params.get("style")
    if style is None:
        raise _invalid("parameters.style is required")
    template_url = inputs.get("template_url")
    user_urls = tuple(inputs.get("user_urls") or ())
    needs_lora = style != TRAIN_FREE_STYLE
    if needs_lora and not resources:
        raise _invalid(f"resources are required for style {style}")
    if style in (TEMPLATE_STYLE, TRAIN_FREE_STYLE) and not template_url:
        raise _invalid(f"input.template_url is required for style {style}")
    if style == TRAIN_FREE_STYLE and not user_urls:
        raise _invalid("input.user_urls is required for train-free generation")
    size = params.get("size", DEFAULT_SIZE) if style in PRESET_STYLES else DEFAULT_SIZE
    if size not in allowed_sizes:
        raise _invalid(f"parameters.size {size!r} is not supported")
    for url in ([template_url] if template_url else []) + list(user_urls):
        check_url(url)
    width, height = (int(v) for v in size.split("*"))
    return PortraitJob(
        style=style,
        n=int(params.get("n", DEFAULT_N)),
        width=width,
        height=height,
        template_url=template_url if style in (TEMPLATE_STYLE, TRAIN_FREE_STYLE) else None,
        user_urls=user_urls if style == TRAIN_FREE_STYLE else (),
        skin_retouch=params.get("skin_retouch", True),  # a boolean: the schema checked it
    )


@lru_cache(maxsize=4096)
def vendor_time(ts: float) -> str:
    """A task's times never change and every poll answers them again: each is formatted once
    (a bounded cache: the hot tasks are the ones being polled)."""
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class Wording:
    """Where the vendor's own references disagree, the spelling the mock answers with
    (options `failed_usage_key` and `algo_error_code`, see `DashScope.wording`)."""

    failed_usage_key: str = "image_count"  # current reference; seed 004 shows image_num
    spell: Callable[[str], str] = str  # catalogue code -> the code as answered


def task_output(task: Task, now: float, result_urls: list[str],
                wording: Wording = Wording()) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(status, output, usage) for a query of `task` at `now`."""
    state = task.state_at(now)
    status = STATUS[state]
    output: dict[str, Any] = {"task_id": task.id, "task_status": status}
    if state is State.EXPIRED:
        return status, output, None
    output["submit_time"] = vendor_time(task.created_at)
    if state is State.CANCELED:
        output["end_time"] = vendor_time(task.canceled_at or now)
        return status, output, None
    if state is State.QUEUED:
        return status, output, None
    assert task.start_at is not None and task.end_at is not None
    output["scheduled_time"] = vendor_time(task.start_at)
    n = task.data["n"]
    if state is State.RUNNING:
        done = min(n - 1, int(task.progress_at(now) * n))
        output["task_metrics"] = {"TOTAL": n, "SUCCEEDED": done, "FAILED": 0}
        return status, output, None
    output["end_time"] = vendor_time(task.end_at)
    if state is State.FAILED:
        output.update(code=wording.spell(task.error_code or ""), message=task.error_message or "")
        return status, output, {wording.failed_usage_key: 0}
    # style_index, runtime and region: seed 004; task_metrics: the current reference.
    output.update(style_index=0, runtime=f"{task.end_at - task.start_at:.3f}",
                  region=REGION, results=[{"url": u} for u in result_urls],
                  task_metrics={"TOTAL": n, "SUCCEEDED": n, "FAILED": 0})
    return status, output, {"image_count": n}
