"""GlamPic input images, checked after the job is accepted: a problem fails the job ("4").

Seed 002 lists no business error codes for SubmitGlamPicJob and the QueryGlamPicJob example
reports a download error inside the job, so image problems surface as JobErrorCode.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.images import TENCENT_TEMPLATE, TENCENT_USER, ImageRejected, Problem
from ...core.input_checks import Verdict
from ...core.input_log import inspect_logged
from ...core.tasks import Task
from .models import IMAGE_PROBLEM_CODES

if TYPE_CHECKING:
    from . import Tencent


async def verdict(provider: Tencent, task: Task) -> Verdict:
    """The template (<= 5 faces, at least one per user), then every user photo."""
    fetcher, store = provider.emulator.fetcher, provider.emulator.store
    users = [face["ImageUrls"] for face in task.request["FaceInfos"]]
    try:
        _, template = await inspect_logged(store, task.id, fetcher, task.request["TemplateUrl"],
                                           TENCENT_TEMPLATE)
        if len(template.faces) < len(users):
            raise ImageRejected(Problem.TOO_FEW_FACES,
                                f"template has {len(template.faces)} faces for {len(users)} users")
        for urls in users:
            for url in urls:
                await inspect_logged(store, task.id, fetcher, url, TENCENT_USER)
    except ImageRejected as rejected:
        code = IMAGE_PROBLEM_CODES[rejected.problem]
        return Verdict((code, provider.catalogue.entries[code].message))
    return Verdict()
