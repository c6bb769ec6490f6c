"""The task list, `GET /api/v1/tasks`: rules and item views. No HTTP in here.

Documented (manage-asynchronous-tasks, zh and en): the filters `task_id`, `start_time` /
`end_time` (`YYYYMMDDhhmmss`; at most 24 h apart; one bound means the 24 h after or before
it, none the last 24 h), `model_name`, `status` and `page_no` / `page_size` (defaults 1 and
10); the answer `{request_id, data, page_no, page_size, total, total_page}`; items with epoch
milliseconds, `start_time` missing before a task runs and `end_time` before it ends (the doc's
RUNNING example); every task of the caller's account, none of another account's.

INFERRED (no source): times are read in the vendor's UTC+8; the window is on creation time;
items come newest first (as in the doc's example); `total_page` is 0 for no match; `task_id`
alone ignores the default window; the SDKs' extra filters `api_key_id` and `region` match the
items' fields; the id numbers and `user_api_unique_key` (the pattern of the doc's examples).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from ...core.errors import VendorError
from ...core.tasks import State, Task
from .models import BEIJING, MODEL, REGION, STATUS

WINDOW_SECONDS = 24 * 3600.0
TIME_FORMAT = "%Y%m%d%H%M%S"
USER_API_UNIQUE_KEY = f"apikey:v1:aigc:album:gen_potrait:{MODEL}"
DEFAULT_PAGE_SIZE = 10


@dataclass(frozen=True)
class ListQuery:
    since: float  # creation-time window [since, until)
    until: float
    task_id: str | None
    filters: Mapping[str, str]  # item field -> required value
    page_no: int
    page_size: int

    def matches(self, item: Mapping[str, Any]) -> bool:
        return all(item.get(k) == v for k, v in self.filters.items())

    def page(self, items: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
        start = (self.page_no - 1) * self.page_size
        return {"request_id": request_id, "data": items[start:start + self.page_size],
                "page_no": self.page_no, "page_size": self.page_size, "total": len(items),
                "total_page": math.ceil(len(items) / self.page_size)}


def _invalid(detail: str) -> VendorError:
    return VendorError("InvalidParameter", detail=detail)


def _vendor_time(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=BEIJING).timestamp()
    except ValueError:
        raise _invalid(f"{name} {value!r} is not a YYYYMMDDhhmmss time") from None


def window(params: Mapping[str, str], now: float) -> tuple[float, float]:
    """[since, until) of creation times; an explicit `end_time` includes its whole second."""
    start, end = _vendor_time(params, "start_time"), _vendor_time(params, "end_time")
    if start is None and end is None:
        if params.get("task_id"):
            return 0.0, math.inf
        return now - WINDOW_SECONDS, math.inf
    if start is None:
        assert end is not None
        start = end - WINDOW_SECONDS
    elif end is None:
        end = start + WINDOW_SECONDS
    if end < start:
        raise _invalid("end_time is before start_time")
    if end - start > WINDOW_SECONDS:
        raise _invalid("start_time and end_time are more than 24 hours apart")
    return start, end + 1.0


def parse_query(params: Mapping[str, str], now: float) -> ListQuery:
    """The list's query string, already checked against `dashscope/task-list-request`."""
    since, until = window(params, now)
    filters = {field: params[name] for name, field in
               (("model_name", "model_name"), ("status", "status"),
                ("api_key_id", "api_key_id"), ("region", "region")) if name in params}
    return ListQuery(since, until, params.get("task_id"), filters,
                     int(params.get("page_no", 1)),
                     int(params.get("page_size", DEFAULT_PAGE_SIZE)))


@lru_cache(maxsize=4096)  # asked on every submit and listing for the same few keys
def number(kind: str, value: str, digits: int) -> str:
    """A stable decimal id with `digits` digits standing for `value` (INFERRED format)."""
    n = int.from_bytes(hashlib.sha256(f"{kind}:{value}".encode()).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return str(low + n % (9 * low))


def api_key_id(key: str) -> str:
    """The id the vendor shows for an API key (the doc's example: `15xxxx`)."""
    return number("api-key", key, 6)


def account_id(account: str) -> str:
    """The account's id and UID (both name the account in the doc; 16 digits like an
    Alibaba Cloud account id)."""
    return number("account", account, 16)


def _ms(ts: float) -> int:
    return int(round(ts * 1000))


def list_item(task: Task, now: float) -> dict[str, Any] | None:
    """One task as the list shows it, or None once it is gone (expired tasks are deleted)."""
    state = task.state_at(now)
    if state is State.EXPIRED:
        return None
    owner = account_id(task.account)
    item: dict[str, Any] = {
        "task_id": task.id, "status": STATUS[state], "model_name": MODEL, "region": REGION,
        "request_id": task.data.get("request_id") or task.id,
        "api_key_id": task.data.get("api_key_id") or api_key_id(task.account),
        "caller_uid": owner, "caller_parent_id": owner,
        "user_api_unique_key": USER_API_UNIQUE_KEY, "gmt_create": _ms(task.created_at),
    }
    if state is State.CANCELED:
        item["end_time"] = _ms(task.canceled_at or now)
        return item
    if task.start_at is not None and task.start_at <= now:
        item["start_time"] = _ms(task.start_at)
    if task.end_at is not None and task.end_at <= now:
        item["end_time"] = _ms(task.end_at)
    return item
