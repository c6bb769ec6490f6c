"""What every provider offers the app. A provider is one vendor's emulation, built per app."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from starlette.routing import BaseRoute

from ..core.errors import Catalogue, VendorError
from ..core.schemas import schemas_root
from ..core.tasks import State, Task, Timing

if TYPE_CHECKING:
    from ..runtime import Emulator
    from ..web import Call, Reply


@dataclass(frozen=True)
class ResultFile:
    data: bytes
    content_type: str
    expires_at: float


@dataclass(frozen=True)
class OperationSpec:
    """One documented operation: what it takes and, per HTTP status, which schemas may answer.

    The OpenAPI generator and the contract kit read these; keep them next to the routes.
    """

    operation: str
    method: str
    path: str
    request_schema: str | None
    responses: Mapping[int, tuple[str, ...]]
    request_content_type: str = "application/json"
    required_headers: Mapping[str, str] = field(default_factory=dict)
    callback_schema: str | None = None
    summary: str = ""


class Provider:
    """Subclasses set the class attributes and implement the methods that raise here."""

    name: ClassVar[str]
    title: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]] = ()  # paths this vendor owns, for not-found answers
    bad_request_code: ClassVar[str]
    bad_json_message: ClassVar[str | None] = None
    internal_error_code: ClassVar[str]
    not_found_code: ClassVar[str]
    default_max_queued: ClassVar[int | None] = None  # waiting tasks per account (`max_queued`)
    queue_full_code: ClassVar[str | None] = None  # the error when that cap is reached

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.catalogue = Catalogue.load(schemas_root() / self.name / "catalogue.json")

    def option(self, key: str, default: object) -> object:
        return self.emulator.settings.vendor_option(self.name, key, default)

    def timing(self, mode: str = "", *, queue: float, run: float, ttl: float,
               concurrency: int | None) -> Timing:
        """Durations and slots for one mode, overridable as `[vendors.<name>]` options:
        `<mode>_run_seconds` beats `run_seconds` beats the default given here."""
        def pick(key: str, default: float | int | None) -> float | int | None:
            return self.option(f"{mode}_{key}" if mode else key, self.option(key, default))  # type: ignore[return-value]

        slots = pick("concurrency", concurrency) if self.emulator.settings.limits_enabled else None
        return Timing(
            queue_seconds=float(pick("queue_seconds", queue)),  # type: ignore[arg-type]
            run_seconds=float(pick("run_seconds", run)),  # type: ignore[arg-type]
            ttl_seconds=float(pick("task_ttl_seconds", ttl)),  # type: ignore[arg-type]
            concurrency=None if slots is None else int(slots),
        )

    def callback_body(self, task: Task) -> tuple[dict[str, object], str] | None:
        """(payload, schema name) POSTed to a task's callback URL when it ends, if any."""
        return None

    def _routes_module(self) -> ModuleType:
        """Each provider package keeps its route table and operations in `routes.py`."""
        return importlib.import_module(f"{type(self).__module__}.routes")

    def routes(self) -> list[BaseRoute]:
        return self._routes_module().routes(self)  # type: ignore[no-any-return]

    def operations(self) -> list[OperationSpec]:
        """The documented operations this provider emulates (`routes.OPERATIONS`)."""
        return self._routes_module().OPERATIONS  # type: ignore[no-any-return]

    def own_task(self, task_id: object, account: str | None) -> Task | None:
        """The account's own, unexpired task. Another account's task and an expired one are as
        invisible as a missing one, whatever the vendor answers for those."""
        task = self.emulator.store.get_task(task_id) if isinstance(task_id, str) else None
        if task is None or task.vendor != self.name or task.account != account:
            return None
        return None if task.state_at(self.emulator.clock.now()) is State.EXPIRED else task

    def error_reply(self, error: VendorError, call: Call) -> Reply:
        """Render any error of this vendor in its own envelope."""
        raise NotImplementedError

    def setup_hint(self, base_url: str) -> str:
        """One line telling a user how to point this vendor's SDK or curl at the mock."""
        raise NotImplementedError

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        """The bytes behind a result URL of `task`, or None if there is no such file."""
        return None

    def result_names(self, task: Task) -> list[str]:
        """The names `result_file()` serves for a succeeded `task` (the dashboard shows them)."""
        return []

    def reset(self) -> None:
        """Forget per-app state that is not in the store (caches, counters)."""
