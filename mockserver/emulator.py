"""`Emulator`: the runtime's state plus the vendors it emulates.

It holds no HTTP: the app factory (`mockserver.app`) builds one, routes its providers through
its `pipeline`, and installs the features (admin API, faults, journal views, OpenAPI, result
files) around it. Many emulators can live side by side in one process.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

from .core.callbacks import CallbackDispatcher
from .core.errors import VendorError
from .core.runtime import Runtime
from .core.schemas import SchemaRegistry
from .core.tasks import Task, Timing
from .providers import build_providers, vendor_packages
from .providers.base import Provider
from .settings import Settings
from .web import Pipeline


class Emulator(Runtime):
    def __init__(self, settings: Settings, schemas: SchemaRegistry | None = None) -> None:
        super().__init__(settings, schemas)
        self.pipeline = Pipeline(self)
        self.features: dict[str, Any] = {}  # state of installed features, by name ("faults")
        self.callbacks = CallbackDispatcher(self, on_violation=self.schema_violations.append)
        self.startup.append(self.callbacks.start)
        self.shutdown.append(self.callbacks.stop)
        self.resetters.append(self.callbacks.reset)
        self.providers: dict[str, Provider] = build_providers(self)
        self.engine.creation_hooks.append(self._check_queue_depth)

    def routes(self) -> list[BaseRoute]:
        """Every vendor's routes, each call going through the pipeline."""
        packages = vendor_packages()
        return [route for name, provider in self.providers.items()
                for route in packages[name].routes(provider, self.pipeline)]

    def provider_for_path(self, path: str) -> Provider | None:
        for provider in self.providers.values():
            if any(path.startswith(prefix) for prefix in provider.spec.prefixes):
                return provider
        return None

    def claimed_account(self, headers: Mapping[str, str], vendor: str | None = None) -> str | None:
        """The account a request claims before authentication: by its vendor's credentials,
        or, for a request that reached no vendor, by the first vendor that recognises them."""
        providers = [self.providers[vendor]] if vendor in self.providers else self.providers.values()
        return next((found for p in providers if (found := p.claimed_account(headers))), None)

    def _reset_local(self) -> None:
        super()._reset_local()
        for provider in self.providers.values():
            provider.reset()

    def _check_queue_depth(self, task: Task, timing: Timing) -> None:
        """Refuse a task when its account already has the provider's `max_queued` tasks waiting
        (queued, not yet running) in the same pool."""
        provider = self.providers[task.vendor]
        cap = provider.queue_cap(task.pool)
        if cap is None or not self.settings.limits_enabled:
            return
        # Counted in the store's index of queue entries, up to the cap: the cost does not grow
        # with the tasks the account (or the store) holds.
        waiting = self.store.queued_count(task.vendor, task.account, task.pool, self.clock.now(),
                                          cap)
        if waiting >= cap:
            raise VendorError(provider.queue_full_code())
