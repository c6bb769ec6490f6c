"""GlamPic input images, checked after the job is accepted: a problem fails the job ("4").

Seed 002 lists no business error codes for SubmitGlamPicJob and the QueryGlamPicJob example
reports a download error inside the job, so image problems surface as JobErrorCode.
"""
from __future__ import annotations

from typing import Protocol

from ...core.errors import Catalogue
from ...core.images import ImageRejected, ImageRules, MiB, Problem
from ...core.input_checks import Verdict
from ...core.input_log import inspect_logged
from ...core.runtime import Runtime
from ...core.tasks import Task

FORMATS = frozenset({"JPEG", "PNG", "BMP", "TIFF", "WEBP"})


def _bytes_before_base64(base64_limit: int) -> int:
    # "< 10 MB after base64": largest n whose 4*ceil(n/3) stays strictly below.
    return ((base64_limit - 1) // 4) * 3


#: Template: <= 5 faces (>= 1 inferred), side > 300, <= 2000x2000, < 10 MB once base64 encoded.
TEMPLATE_RULES = ImageRules(
    formats=FORMATS, max_bytes=_bytes_before_base64(10 * MiB),
    min_width=300, min_height=300, min_exclusive=True,
    max_width=2000, max_height=2000, faces_min=1, faces_max=5, name="tencent template",
)
#: User photo: same byte/format limits; "if the photo holds several faces the largest is used"
#: (seed 002), so it needs at least one; the 2000x2000 cap is assumed too.
USER_RULES = ImageRules(
    formats=FORMATS, max_bytes=_bytes_before_base64(10 * MiB),
    max_width=2000, max_height=2000, faces_min=1, name="tencent user photo",
)


class _Judge(Protocol):
    """What the check needs from the provider (which imports this module)."""

    @property
    def runtime(self) -> Runtime: ...
    @property
    def catalogue(self) -> Catalogue: ...

    def image_problem_code(self, problem: Problem) -> str: ...


async def verdict(provider: _Judge, task: Task) -> Verdict:
    """The template (<= 5 faces, at least one per user), then every user photo."""
    fetcher, store = provider.runtime.fetcher, provider.runtime.store
    users = [face["ImageUrls"] for face in task.request["FaceInfos"]]
    try:
        _, template = await inspect_logged(store, task.id, fetcher, task.request["TemplateUrl"],
                                           TEMPLATE_RULES)
        if len(template.faces) < len(users):
            raise ImageRejected(Problem.TOO_FEW_FACES,
                                f"template has {len(template.faces)} faces for {len(users)} users")
        for urls in users:
            for url in urls:
                await inspect_logged(store, task.id, fetcher, url, USER_RULES)
    except ImageRejected as rejected:
        code = provider.image_problem_code(rejected.problem)
        return Verdict((code, provider.catalogue.entries[code].message))
    return Verdict()
