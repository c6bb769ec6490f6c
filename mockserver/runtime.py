"""The emulator's state for one app: settings, clock, store, engine, journal, providers.

`create_app()` builds one of these per app, so many apps can live side by side in a test run.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .admin_callbacks import install_callbacks
from .admin_faults import fault_routes
from .admin_journal import near_miss_filter
from .core.auth import BearerAuth
from .core.clock import Clock
from .core.image_fetch import FetchPolicy, ImageFetcher
from .core.journal import Journal
from .core.ratelimit import RateLimiter
from .core.schemas import SchemaRegistry
from .core.store import open_store
from .core.tasks import TaskEngine
from .faults import Faults
from .limits import queue_depth_hook
from .settings import Settings

if TYPE_CHECKING:
    import httpx  # issue 17: imported on first use (~90 ms of start-up)
    from starlette.routing import BaseRoute

    from .providers.base import Provider
    from .web import Call, Interceptor, Reply, ReplyFilter

log = logging.getLogger("mockserver")
CLOCK_OFFSET_KEY = "clock_offset"


class Emulator:
    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        from .mutations import install_mutations
        from .providers import build_providers

        self.settings = settings
        self.store = open_store(settings.store)
        saved_offset = float(self.store.get_meta(CLOCK_OFFSET_KEY) or 0.0)
        self.clock = Clock(settings.time_scale, saved_offset)
        self.clock.on_change(lambda offset: self.store.set_meta(CLOCK_OFFSET_KEY, repr(offset)))
        self.schemas = schemas or SchemaRegistry.shared()
        self.journal = Journal(settings.journal_size)
        self.limiter = RateLimiter()
        self.engine = TaskEngine(self.clock, self.store)
        self.auth = BearerAuth(settings.strict_auth, frozenset(settings.api_keys))
        self.interceptors: list[Interceptor] = []
        self.reply_filters: list[ReplyFilter] = []
        self.admin_routes: list[BaseRoute] = []
        self.startup: list[Callable[[], Awaitable[None]]] = []
        self.shutdown: list[Callable[[], Awaitable[None]]] = []
        self.resetters: list[Callable[[], None]] = []
        self.schema_violations: list[dict[str, Any]] = []
        self.app: Any = None  # the ASGI app serving this emulator, set by create_app()
        self.fetcher = ImageFetcher(
            FetchPolicy(allow_hosts=settings.fetch_allow_hosts, deny_hosts=settings.fetch_deny_hosts),
            transport_for=self._own_transport,
        )
        self._asgi_transport: httpx.ASGITransport | None = None
        self._warm_up: asyncio.Future[Any] | None = None
        self.shutdown.append(self.fetcher.aclose)
        self.resetters.append(self.fetcher.clear_cache)
        self.callbacks = install_callbacks(self)  # dispatcher + lifespan hooks + admin routes
        self.providers: dict[str, Provider] = {p.name: p for p in build_providers(self)}
        install_mutations(self)  # deliberate deviations for the contract kit's self-test
        self.faults = Faults(self)  # fault injection: before handlers, on task creation, admin
        self.interceptors.append(self.faults.intercept)
        self.callbacks.delivery_faults.append(self.faults.check_delivery)
        self.engine.creation_hooks += [queue_depth_hook(self), self.faults.on_task_created]
        self.admin_routes += fault_routes(self)
        self.reply_filters.append(near_miss_filter(self))  # journal why a call matched no API
        self.resetters.append(self.faults.reset)
        self.faults.load_standing(settings.faults)

    def _own_transport(self, url: str) -> httpx.AsyncBaseTransport | None:
        """Our own URLs (fixtures, results) are answered in-process: an in-process test app
        listens on no port, and a real server need not call itself over the network."""
        if self.app is None or not url.startswith(f"{self.settings.base_url}/"):
            return None
        if self._asgi_transport is None:
            import httpx

            self._asgi_transport = httpx.ASGITransport(app=self.app)
        return self._asgi_transport

    def provider_for_path(self, path: str) -> Provider | None:
        for provider in self.providers.values():
            if any(path.startswith(prefix) for prefix in provider.prefixes):
                return provider
        return None

    def check_reply(self, call: Call, reply: Reply) -> None:
        """With `validate_responses`, every JSON answer is checked against its declared schema."""
        if not self.settings.validate_responses or isinstance(reply.body, bytes):
            return
        if reply.schema is None:
            problem = "reply declares no schema"
        else:
            error = self.schemas.first_error(reply.schema, reply.body)
            problem = None if error is None else f"{error.json_path}: {error.message}"
        if problem:
            violation = {"vendor": call.vendor, "operation": call.operation,
                         "schema": reply.schema, "problem": problem, "body": reply.body}
            log.error("schema violation: %s", violation)
            self.schema_violations.append(violation)

    def reset(self) -> None:
        """Forget tasks, records, the journal, limiter windows and the clock offset."""
        self.store.clear()
        self.journal.clear()
        self.limiter.clear()
        self.clock.reset()
        for provider in self.providers.values():
            provider.reset()
        for reset in self.resetters:
            reset()

    async def start(self) -> None:
        for hook in self.startup:
            await hook()
        # issue 17: OpenCV is no longer imported here; the first request with images starts
        # the import in a worker thread (core/images.start_opencv_import), so idle stays small.

    async def stop(self) -> None:
        if self._warm_up is not None:
            await self._warm_up
        for hook in reversed(self.shutdown):
            await hook()
        self.store.close()
