"""The emulator's state for one app: settings, clock, store, engine, journal, providers.

`create_app()` builds one of these per app, so many apps can live side by side in a test run.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from .admin_callbacks import install_callbacks
from .admin_faults import fault_routes
from .admin_journal import near_miss_filter
from .core.auth import BearerAuth
from .core.clock import Clock
from .core.image_fetch import FetchPolicy, ImageFetcher
from .core.images import load_opencv
from .core.journal import Journal
from .core.ratelimit import RateLimiter
from .core.schemas import SchemaRegistry
from .core.shared import SharedState
from .core.store import is_shared, open_store
from .core.tasks import TaskEngine
from .faults import Faults
from .limits import queue_depth_hook
from .settings import Settings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .providers.base import Provider
    from .web import Call, Interceptor, Reply, ReplyFilter

log = logging.getLogger("mockserver")


class Emulator:
    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        from .mutations import install_mutations
        from .providers import build_providers

        self.settings = settings
        self.store = open_store(settings.store)
        # --- shared state (issue 18): clock, journal and limits live in the store ---
        self.shared = SharedState(self.store)
        self.clock = Clock(settings.time_scale)
        self.clock.attach(self.shared)
        self.shared.on_reset(self._reset_local)  # a reset through any instance
        self.schemas = schemas or SchemaRegistry.shared()
        self.journal = Journal(self.store, settings.journal_size, settings.journal_bytes,
                               batched=is_shared(settings.store))
        self.limiter = RateLimiter(self.store)
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
        self.startup += [lambda: self.shared.start(self.clock.now), self.journal.start]
        self.shutdown += [self.shared.stop, self.journal.stop]
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
        """Forget tasks, records, the journal, limiter windows and the clock offset, for every
        instance on the store; each one then resets its own caches (`_reset_local`)."""
        self.store.clear()
        self.shared.refresh()

    def _reset_local(self) -> None:
        for provider in self.providers.values():
            provider.reset()
        for reset in self.resetters:
            reset()

    async def start(self) -> None:
        for hook in self.startup:
            await hook()
        # Import OpenCV in the background now, so the first image check does not wait for it.
        self._warm_up = asyncio.get_running_loop().run_in_executor(None, load_opencv)

    async def stop(self) -> None:
        if self._warm_up is not None:
            await self._warm_up
        for hook in reversed(self.shutdown):
            await hook()
        self.store.close()
