"""What every provider offers the app. A provider is one vendor's emulation, built per app."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from starlette.routing import BaseRoute

from ..core.errors import Catalogue, VendorError
from ..core.schemas import schemas_root
from ..core.tasks import Task

if TYPE_CHECKING:
    from ..runtime import Emulator
    from ..web import Call, Reply


@dataclass(frozen=True)
class ResultFile:
    data: bytes
    content_type: str
    expires_at: float


class Provider:
    """Subclasses set the class attributes and implement the methods that raise here."""

    name: ClassVar[str]
    title: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]] = ()  # paths this vendor owns, for not-found answers
    bad_request_code: ClassVar[str]
    bad_json_message: ClassVar[str | None] = None
    internal_error_code: ClassVar[str]
    not_found_code: ClassVar[str]

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.catalogue = Catalogue.load(schemas_root() / self.name / "catalogue.json")

    def option(self, key: str, default: object) -> object:
        return self.emulator.settings.vendor_option(self.name, key, default)

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def error_reply(self, error: VendorError, call: Call) -> Reply:
        """Render any error of this vendor in its own envelope."""
        raise NotImplementedError

    def setup_hint(self, base_url: str) -> str:
        """One line telling a user how to point this vendor's SDK or curl at the mock."""
        raise NotImplementedError

    def result_file(self, task: Task, name: str) -> ResultFile | None:
        """The bytes behind a result URL of `task`, or None if there is no such file."""
        return None

    def reset(self) -> None:
        """Forget per-app state that is not in the store (caches, counters)."""
