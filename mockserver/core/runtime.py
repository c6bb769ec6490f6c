"""`Runtime`: the state one emulated world keeps, and the only handle a provider gets on it.

Settings, clock, store, task engine, journal, rate limiter, bearer accounts, schemas, the image
fetcher and the callback dispatcher. Nothing here speaks HTTP or names a vendor; the emulator
(`mockserver.emulator`) adds the providers, the app factory the HTTP features around them.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ..settings import Settings
from .auth import BearerAuth
from .callbacks import CallbackDispatcher
from .clock import Clock
from .image_fetch import FetchPolicy, ImageFetcher
from .images import load_opencv
from .journal import Journal
from .ratelimit import RateLimiter
from .schemas import SchemaRegistry
from .store import Store, open_store
from .tasks import TaskEngine

CLOCK_OFFSET_KEY = "clock_offset"
Hook = Callable[[], Awaitable[None]]


class Runtime:
    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        self.settings = settings
        self.store: Store = open_store(settings.store)
        self.clock = Clock(settings.time_scale, float(self.store.get_meta(CLOCK_OFFSET_KEY) or 0.0))
        self.clock.on_change(lambda offset: self.store.set_meta(CLOCK_OFFSET_KEY, repr(offset)))
        self.schemas = schemas or SchemaRegistry.shared()
        self.journal = Journal(settings.journal_size)
        self.limiter = RateLimiter()
        self.engine = TaskEngine(self.clock, self.store)
        self.auth = BearerAuth.configure(settings.strict_auth, settings.api_keys, settings.vendors)
        self.startup: list[Hook] = []
        self.shutdown: list[Hook] = []
        self.resetters: list[Callable[[], None]] = []
        self.schema_violations: list[dict[str, Any]] = []
        self.app: Any = None  # the ASGI app serving this runtime, set by the app factory
        self.fetcher = ImageFetcher(
            FetchPolicy(allow_hosts=settings.fetch_allow_hosts, deny_hosts=settings.fetch_deny_hosts),
            transport_for=self._own_transport,
        )
        self.callbacks: CallbackDispatcher  # built by the emulator, which knows the providers
        self._asgi_transport: httpx.ASGITransport | None = None
        self._warm_up: asyncio.Future[Any] | None = None
        self.shutdown.append(self.fetcher.aclose)
        self.resetters.append(self.fetcher.clear_cache)

    def _own_transport(self, url: str) -> httpx.AsyncBaseTransport | None:
        """Our own URLs (fixtures, results) are answered in-process: an in-process test app
        listens on no port, and a real server need not call itself over the network."""
        if self.app is None or not url.startswith(f"{self.settings.base_url}/"):
            return None
        if self._asgi_transport is None:
            self._asgi_transport = httpx.ASGITransport(app=self.app)
        return self._asgi_transport

    def reset(self) -> None:
        """Forget tasks, records, the journal, limiter windows and the clock offset."""
        self.store.clear()
        self.journal.clear()
        self.limiter.clear()
        self.clock.reset()
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

