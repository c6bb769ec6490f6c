"""`Runtime`: the state one emulated world keeps, and the only handle a provider gets on it.

Settings, clock, store, task engine, journal, rate limiter, bearer accounts, schemas, the image
fetcher and the callback dispatcher. Nothing here speaks HTTP or names a vendor; the emulator
(`mockserver.emulator`) adds the providers, the app factory the HTTP features around them.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..settings import Settings
from .auth import BearerAuth
from .callbacks import CallbackDispatcher
from .clock import Clock
from .image_fetch import FetchPolicy, ImageFetcher
from .journal import Journal
from .labels import AccountLabels
from .limits import stored_offset
from .ratelimit import RateLimiter
from .schemas import SchemaRegistry
from .shared import SharedState
from .store import Store
from .stores import is_shared, open_store
from .tasks import TaskEngine

if TYPE_CHECKING:
    import httpx  # imported on first use (about 90 ms of start-up)

Hook = Callable[[], Awaitable[None]]


class Runtime:
    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        self.settings = settings
        self.store: Store = open_store(settings.store)
        # Clock, journal and limits live in the store, so every worker or instance on it
        # answers as one emulator (`core.shared`).
        self.shared = SharedState(self.store)
        stored_offset(self.shared.row["clock_offset"], settings.store)  # refuse a NaN
        self.clock = Clock(settings.time_scale)
        self.clock.attach(self.shared)
        self.shared.on_reset(self._reset_local)  # a reset through any instance
        self.schemas = schemas or SchemaRegistry.shared()
        self.auth = BearerAuth.configure(settings.strict_auth, settings.api_keys, settings.vendors)
        # Accounts are shown as their configured names or as masked labels, never as keys.
        self.account_label = AccountLabels(n for names in self.auth.accounts.values()
                                           for n in names.values())
        self.journal = Journal(self.store, settings.journal_size, settings.journal_bytes,
                               batched=is_shared(settings.store), label=self.account_label)
        self.limiter = RateLimiter(self.store)
        self.engine = TaskEngine(self.clock, self.store)
        self.startup: list[Hook] = []
        self.shutdown: list[Hook] = []
        self.resetters: list[Callable[[], None]] = []
        self.schema_violations: list[dict[str, Any]] = []
        self.app: Any = None  # the ASGI app serving this runtime, set by the app factory
        policy = FetchPolicy(allow_hosts=settings.fetch_allow_hosts,
                             deny_hosts=settings.fetch_deny_hosts, mode=settings.fetch_mode,
                             own_base_url=settings.base_url)
        self.outbound = policy.rules  # image fetches and callbacks obey the same policy
        self.fetcher = ImageFetcher(policy, transport_for=self._own_transport)
        self.callbacks: CallbackDispatcher  # built by the emulator, which knows the providers
        self._asgi_transport: httpx.ASGITransport | None = None
        self.shutdown.append(self.fetcher.aclose)
        self.startup += [lambda: self.shared.start(self.clock.now), self.journal.start]
        self.shutdown += [self.shared.stop, self.journal.stop]
        self.resetters.append(self.fetcher.clear_cache)

    def _own_transport(self, url: str) -> httpx.AsyncBaseTransport | None:
        """Our own URLs (fixtures, results) are answered in-process: an in-process test app
        listens on no port, and a real server need not call itself over the network."""
        if self.app is None or not url.startswith(f"{self.settings.base_url}/"):
            return None
        if self._asgi_transport is None:
            import httpx

            self._asgi_transport = httpx.ASGITransport(app=self.app)
        return self._asgi_transport

    def reset(self) -> None:
        """Forget tasks, records, the journal, limiter windows and the clock offset, for every
        instance on the store; each one then resets its own caches (`_reset_local`)."""
        self.store.clear()
        self.shared.refresh()

    def _reset_local(self) -> None:
        for reset in self.resetters:
            reset()

    async def start(self) -> None:
        # Pillow and OpenCV are not imported here: the first request with images starts those
        # imports in a worker thread (core.images.start_image_imports): an idle server stays small.
        self._commit_per_turn(asyncio.get_running_loop())
        for hook in self.startup:
            await hook()

    async def stop(self) -> None:
        for hook in reversed(self.shutdown):
            await hook()
        self._commit_per_turn(None)
        self.store.close()

    def _commit_per_turn(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The SQLite store shares one commit among the writes of a loop turn on the app's
        loop (core/sqlite_turns.py); the other stores commit every write as it is made."""
        bind = getattr(self.store, "commit_per_turn", None)
        if bind is not None:
            bind(loop)

