"""DashScope's input images, checked after the task is accepted, as the vendor does.

The seed's FAILED example (`InvalidImageResolution` inside a task) shows image problems
surfacing asynchronously; only URL syntax (scheme, Chinese characters) is refused at submit.
`core.input_checks` runs this verdict in the background and stores it with the task.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.images import (
    DASHSCOPE_TEMPLATE,
    DASHSCOPE_USER,
    ImageRejected,
    Problem,
    load_and_inspect,
)
from ...core.input_checks import Verdict
from ...core.tasks import Task

if TYPE_CHECKING:
    from . import DashScope

# Problem -> task failure code. Resolution is documented (seed 004); the others are inferred:
# the docs describe InvalidURL as "make sure the url is correct and is an image", byte caps as
# a parameter range, and face rules as what facechain-facedetect must have passed.
PROBLEM_CODES = {
    Problem.DOWNLOAD_FAILED: "InvalidURL",
    Problem.URL_FORBIDDEN: "InvalidURL",
    Problem.UNSUPPORTED_FORMAT: "InvalidURL",
    Problem.DECODE_FAILED: "InvalidURL",
    Problem.TOO_MANY_BYTES: "InvalidParameter",
    Problem.TOO_SMALL: "InvalidImageResolution",
    Problem.TOO_LARGE: "InvalidImageResolution",
}
# The algorithm error, spelled as the current reference and live traffic spell it; seed 004's
# `InternalError:Algo` is a catalogue alias (option `algo_error_code` answers with it).
ALGO_ERROR = "InternalError.Algo"
FACE_PROBLEM_CODE = ALGO_ERROR


async def verdict(provider: DashScope, task: Task) -> Verdict:
    """Template first, then each user photo; the first problem fails the task. Results are
    768x1024 whatever the template's size (the current reference's `result_url`)."""
    checks = [(url, DASHSCOPE_USER) for url in task.data.get("user_urls", [])]
    if task.data.get("template_url"):
        checks.insert(0, (task.data["template_url"], DASHSCOPE_TEMPLATE))
    for url, rules in checks:
        try:
            await load_and_inspect(provider.emulator.fetcher, url, rules)
        except ImageRejected as rejected:
            code = PROBLEM_CODES.get(rejected.problem) or provider.catalogue.canonical(
                str(provider.option("face_error_code", FACE_PROBLEM_CODE)))
            return Verdict((code, provider.catalogue.entries[code].message))
    return Verdict()
