"""DashScope's input images, checked after the task is accepted, as the vendor does.

The seed's FAILED example (`InvalidImageResolution` inside a task) shows image problems
surfacing asynchronously; only URL syntax (scheme, Chinese characters) is refused at submit.
The check runs in the background from submit; a query of a task whose check is still running
waits for it, so a task never shows SUCCEEDED and later FAILED. The verdict is stored with the
task, so it survives a restart (an unchecked task is checked on its first query).
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ...core.images import (DASHSCOPE_TEMPLATE, DASHSCOPE_USER, ImageRejected, Problem,
                            load_and_inspect)
from ...core.tasks import Task

if TYPE_CHECKING:
    from . import DashScope

PENDING, CHECKED = "pending", "checked"

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


def needs_check(task: Task) -> bool:
    return task.data.get("inputs") == PENDING


class InputChecker:
    def __init__(self, provider: DashScope) -> None:
        self.provider = provider
        self._running: dict[str, asyncio.Task[None]] = {}

    def start(self, task: Task) -> None:
        """Begin checking in the background so the first query rarely has to wait."""
        if needs_check(task) and task.id not in self._running:
            job = asyncio.get_running_loop().create_task(self._check(task.id))
            self._running[task.id] = job
            job.add_done_callback(lambda _: self._running.pop(task.id, None))

    async def settled(self, task: Task) -> Task:
        """The task once its inputs have been checked."""
        if not needs_check(task):
            return task
        self.start(task)
        await asyncio.shield(self._running[task.id])
        return self.provider.emulator.store.get_task(task.id) or task

    async def _check(self, task_id: str) -> None:
        store = self.provider.emulator.store
        task = store.get_task(task_id)
        if task is None:
            return
        failure, template_size = await self._verdict(task)
        task = store.get_task(task_id) or task  # reload: a cancel may have landed meanwhile
        if failure and task.outcome == "succeeded":
            task.outcome, task.error_code = "failed", failure
            task.error_message = self.provider.catalogue.entries[failure].message
        if template_size and task.data.get("size_from_template"):
            task.data["width"], task.data["height"] = template_size
        task.data["inputs"] = CHECKED
        store.put_task(task)

    async def _verdict(self, task: Task) -> tuple[str | None, tuple[int, int] | None]:
        fetcher = self.provider.emulator.fetcher
        template_size = None
        checks = [(url, DASHSCOPE_USER) for url in task.data.get("user_urls", [])]
        if task.data.get("template_url"):
            checks.insert(0, (task.data["template_url"], DASHSCOPE_TEMPLATE))
        for url, rules in checks:
            try:
                _, found = await load_and_inspect(fetcher, url, rules)
            except ImageRejected as rejected:
                code = PROBLEM_CODES.get(rejected.problem)
                return code or str(self.provider.option("face_error_code", FACE_PROBLEM_CODE)), None
            if rules is DASHSCOPE_TEMPLATE:
                template_size = (found.width, found.height)
        return None, template_size

    async def close(self) -> None:
        for job in list(self._running.values()):
            job.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
