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
)
from ...core.input_checks import Verdict
from ...core.input_log import inspect_logged
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
FACE_PROBLEM_CODE = "InternalError:Algo"


async def verdict(provider: DashScope, task: Task) -> Verdict:
    """Template first, then each user photo; the first problem fails the task."""
    checks = [(url, DASHSCOPE_USER) for url in task.data.get("user_urls", [])]
    if task.data.get("template_url"):
        checks.insert(0, (task.data["template_url"], DASHSCOPE_TEMPLATE))
    facts: dict[str, object] = {}
    for url, rules in checks:
        try:
            _, found = await inspect_logged(provider.emulator.store, task.id,
                                            provider.emulator.fetcher, url, rules)
        except ImageRejected as rejected:
            code = PROBLEM_CODES.get(rejected.problem) or str(
                provider.option("face_error_code", FACE_PROBLEM_CODE))
            return Verdict((code, provider.catalogue.entries[code].message))
        if rules is DASHSCOPE_TEMPLATE:  # template modes answer at the template's size
            facts = {"width": found.width, "height": found.height}
    return Verdict(data=facts)
