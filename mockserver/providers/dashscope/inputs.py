"""DashScope's input images, checked after the task is accepted, as the vendor does.

The seed's FAILED example (`InvalidImageResolution` inside a task) shows image problems
surfacing asynchronously; only URL syntax (scheme, Chinese characters) is refused at submit.
`core.input_checks` runs this verdict in the background and stores it with the task.
"""
from __future__ import annotations

from ...core.images import ImageRejected, ImageRules, MiB, Problem
from ...core.input_checks import Verdict
from ...core.input_log import inspect_logged
from ...core.tasks import Task
from ..base import Provider

#: User photo: JPEG/PNG, <= 3 MB, 256 < side < 2048, one face >= 128 px (seed 004).
USER_RULES = ImageRules(
    formats=frozenset({"JPEG", "PNG"}), max_bytes=3 * MiB,
    min_width=256, min_height=256, min_exclusive=True,
    max_width=2048, max_height=2048, max_exclusive=True,
    faces_exactly=1, min_face_px=128, forbid_cjk_in_url=True, name="dashscope user photo",
)
#: Template: JPEG/PNG, <= 5 MB, > 512x512 and < 1680x1260 (width x height; seed 004).
#: The face rule (at least one) is inferred: a face-swap template needs a face.
TEMPLATE_RULES = ImageRules(
    formats=frozenset({"JPEG", "PNG"}), max_bytes=5 * MiB,
    min_width=512, min_height=512, min_exclusive=True,
    max_width=1680, max_height=1260, max_exclusive=True,
    faces_min=1, forbid_cjk_in_url=True, name="dashscope template",
)

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


async def verdict(provider: Provider, task: Task) -> Verdict:
    """Template first, then each user photo; the first problem fails the task. Results are
    768x1024 whatever the template's size (the current reference's `result_url`)."""
    checks = [(url, USER_RULES) for url in task.data.get("user_urls", [])]
    if task.data.get("template_url"):
        checks.insert(0, (task.data["template_url"], TEMPLATE_RULES))
    for url, rules in checks:
        try:
            await inspect_logged(provider.runtime.store, task.id, provider.runtime.fetcher,
                                 url, rules)
        except ImageRejected as rejected:
            code = PROBLEM_CODES.get(rejected.problem) or provider.catalogue.canonical(
                provider.options.text("face_error_code"))
            return Verdict((code, provider.catalogue.entries[code].message))
    return Verdict()
