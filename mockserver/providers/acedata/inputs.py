"""AceData's portrait inputs (`image_urls`), judged with the shared image pipeline.

Each item is an http(s) URL, a base64 string or a `data:` URI (seed 000 / drawai.json say "URL
or base64"). The verdict (the shared `core.input_checks` mechanism) is reached while the generate
call is handled, before it answers, and is stored with the task: the record, a blocking answer
and a callback can never disagree, and a restart loses nothing. It is reported the way seed 000 shows it, as the task's failure
(`api_error` "fetch failed"), never as a refusal of the submit: a blocking call answers it as its
HTTP 500, an async call's record and callback carry it. Only the request's shape (400) and the
moderation words (403) are refused at submit; see `handlers._check_inputs`.

Emulation choices (docs/acedata.md, docs/images.md): hosts under the reserved documentation
names (RFC 2606: example.com/.net/.org, `.example`) stand for a good image the mock cannot see and
are accepted unchecked (option `placeholder_hosts`, empty list to fetch them too); `.invalid`
names fail at once without a lookup (RFC 6761); a platform path of seed 000's form
`/image/<base64>` is accepted unchecked (only that prefix: base64 JPEG data starts with "/9j/").
"""
from __future__ import annotations

import asyncio
import fnmatch
import urllib.parse
from typing import TYPE_CHECKING

from ...core.images import (
    COMMON_WEB_FORMATS,
    ImageRejected,
    ImageRules,
    MiB,
    Problem,
    check_ref,
)
from ...core.input_checks import Verdict
from ...core.input_log import inspect_logged
from ...core.tasks import Task
from ..base import Provider
from .models import FETCH_FAILED, INVALID_IMAGE

if TYPE_CHECKING:
    from ...core.images import ImageFetcher
    from ...core.input_log import RecordStore

# Problem -> the task's (code, message). Only "fetch failed" is documented (seed 000); the
# decode message and the byte cap's mapping are INFERRED (docs/images.md).
PROBLEM_ERRORS: dict[Problem, tuple[str, str]] = {
    Problem.DOWNLOAD_FAILED: FETCH_FAILED,
    Problem.URL_FORBIDDEN: FETCH_FAILED,
    Problem.TOO_MANY_BYTES: FETCH_FAILED,
    Problem.DECODE_FAILED: INVALID_IMAGE,
    Problem.UNSUPPORTED_FORMAT: INVALID_IMAGE,
}
#: Common web formats, 10 MB cap (INFERRED), merely decodable.
INPUT_RULES = ImageRules(formats=COMMON_WEB_FORMATS, max_bytes=10 * MiB, name="acedata input")
PLATFORM_PATH = "/image/"  # seed 000's generate example sends such an item
PLACEHOLDER_HOSTS = ("example.com", "*.example.com", "example.net", "*.example.net",
                     "example.org", "*.example.org", "*.example")


def _host(ref: str) -> str | None:
    """The lower-case host of an http(s) URL, else None (base64, data: URIs, paths)."""
    if not ref[:8].lower().startswith(("http://", "https://")):
        return None
    try:
        return (urllib.parse.urlsplit(ref).hostname or "").lower()
    except ValueError:  # malformed; the fetcher's policy check names the problem
        return ""


def unchecked(ref: str, placeholders: frozenset[str]) -> bool:
    """True for the references the mock accepts without looking (see the module doc)."""
    if ref.startswith(PLATFORM_PATH):
        return True
    host = _host(ref)
    return bool(host) and any(fnmatch.fnmatchcase(host or "", glob.lower()) for glob in placeholders)


async def _judge_one(fetcher: ImageFetcher, store: RecordStore, task_id: str, ref: str,
                     placeholders: frozenset[str]) -> None:
    """Raise ImageRejected if `ref` would fail the task."""
    host = _host(ref)
    if host is not None:
        check_ref(ref, policy=fetcher.policy)  # the fetch policy applies to placeholders too
    if unchecked(ref, placeholders):
        return
    if host == "invalid" or (host or "").endswith(".invalid"):
        raise ImageRejected(Problem.DOWNLOAD_FAILED, f"{host} never resolves (RFC 6761)")
    # AceData has no face rule: skipping detection keeps a submit fast.
    await inspect_logged(store, task_id, fetcher, ref, INPUT_RULES, detect_faces=False)


async def judge(fetcher: ImageFetcher, store: RecordStore, task_id: str, refs: list[str],
                placeholders: frozenset[str], budget: float) -> tuple[tuple[str, str], str] | None:
    """The first failing item's ((code, message), detail), or None. Each distinct item is
    judged once, in order, and its facts are kept with the task (`core.input_log`); the whole
    check is bounded by `budget` real seconds (past it: "fetch failed")."""
    try:
        async with asyncio.timeout(budget):
            for ref in dict.fromkeys(item.strip() for item in refs):
                await _judge_one(fetcher, store, task_id, ref, placeholders)
    except ImageRejected as rejected:
        return (PROBLEM_ERRORS.get(rejected.problem, INVALID_IMAGE),
                f"{rejected.problem.value}: {rejected.detail}")
    except TimeoutError:
        return FETCH_FAILED, f"the inputs were not judged within {budget:g} s"
    return None


async def verdict(provider: Provider, task: Task) -> Verdict:
    """The shared mechanism's verdict on a task's `image_urls`: a failure ends the task after
    `failed_input_run_seconds` (default 0: it fails as it starts)."""
    options = provider.options
    found = await judge(provider.runtime.fetcher, provider.runtime.store, task.id,
                        task.request["image_urls"],
                        options.strings("placeholder_hosts"), options.number("input_check_seconds"))
    if found is None:
        return Verdict()
    failure, detail = found
    return Verdict(failure, detail=detail, run_seconds=options.number("failed_input_run_seconds"))
